// grpc probes, as upstream's pkg/probe/grpc: grpc.health.v1.Health/Check on podIP:port with the
// optional service name, over a new plaintext connection per check (no TLS, as upstream), with
// `kube-probe/<major>.<minor>` as the user agent. SERVING is success; any other status, a
// connection that does not open, or an RPC error is a failure with upstream's wording.
//
// The health protocol is two messages and one RPC; its definition is written here and parsed
// in-process (protobufjs, through @grpc/proto-loader's fromJSON): no generated files.
import * as grpc from '@grpc/grpc-js';
import * as protoLoader from '@grpc/proto-loader';
import protobuf from 'protobufjs';
import { PROBE_USER_AGENT } from './http.ts';
import type { ProbeHandler, ProbeOutcome } from './types.ts';

export const HEALTH_PROTO = `
syntax = "proto3";
package grpc.health.v1;

message HealthCheckRequest {
  string service = 1;
}

message HealthCheckResponse {
  enum ServingStatus {
    UNKNOWN = 0;
    SERVING = 1;
    NOT_SERVING = 2;
    SERVICE_UNKNOWN = 3;
  }
  ServingStatus status = 1;
}

service Health {
  rpc Check(HealthCheckRequest) returns (HealthCheckResponse);
}
`;

let healthClient: grpc.ServiceClientConstructor | undefined;
function HealthClient(): grpc.ServiceClientConstructor {
  if (!healthClient) {
    const root = protobuf.parse(HEALTH_PROTO, { keepCase: true }).root;
    const def = protoLoader.fromJSON(root.toJSON(), { keepCase: true, enums: String, defaults: true });
    const pkg = grpc.loadPackageDefinition(def) as unknown as { grpc: { health: { v1: { Health: grpc.ServiceClientConstructor } } } };
    healthClient = pkg.grpc.health.v1.Health;
  }
  return healthClient;
}

const seconds = (n: number) => `${n}s`;

/** One Health/Check against host:port (exported for tests and other callers). */
export function grpcProbe(host: string, port: number, service: string, timeoutSeconds: number, outer?: AbortSignal): Promise<ProbeOutcome> {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  const timeoutMs = Math.max(1, timeoutSeconds) * 1000;
  const deadline = new Date(Date.now() + timeoutMs);
  const Client = HealthClient();
  const client = new Client(addr, grpc.credentials.createInsecure(), {
    'grpc.primary_user_agent': PROBE_USER_AGENT,
    // a fresh connection per check, as upstream dials each time
    'grpc.use_local_subchannel_pool': 1,
    'grpc.enable_retries': 0,
  });
  return new Promise<ProbeOutcome>((resolve) => {
    let settled = false;
    let call: grpc.ClientUnaryCall | undefined;
    const finish = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      outer?.removeEventListener('abort', onAbort);
      call?.cancel();
      client.close();
      resolve(o);
    };
    const onAbort = () => finish({ result: 'failure', detail: `error: health rpc probe aborted` });
    outer?.addEventListener('abort', onAbort, { once: true });
    // upstream dials with WithBlock first, so a connection failure reads differently from an RPC failure
    client.waitForReady(deadline, (err) => {
      if (settled) return;
      if (err) {
        return finish({ result: 'failure', detail: `timeout: failed to connect service ${JSON.stringify(addr)} within ${seconds(timeoutSeconds)}: ${err.message}` });
      }
      call = client.Check({ service }, new grpc.Metadata(), { deadline }, (e: grpc.ServiceError | null, res?: { status?: string | number }) => {
        if (e) {
          if (e.code === grpc.status.UNIMPLEMENTED) {
            return finish({ result: 'failure', detail: `this server does not implement the grpc health protocol (grpc.health.v1.Health): ${e.details}` });
          }
          if (e.code === grpc.status.DEADLINE_EXCEEDED) return finish({ result: 'failure', detail: `timeout: health rpc did not complete within ${seconds(timeoutSeconds)}` });
          return finish({ result: 'failure', detail: `error: health rpc probe failed: rpc error: code = ${grpc.status[e.code] ?? e.code} desc = ${e.details}` });
        }
        const status = String(res?.status ?? 'UNKNOWN');
        if (status !== 'SERVING') return finish({ result: 'failure', detail: `service unhealthy (responded with ${JSON.stringify(status)})` });
        finish({ result: 'success', detail: 'service healthy' });
      });
    });
  });
}

export function grpcHealthProbe(): ProbeHandler {
  return async ({ probe, target, timeoutSeconds, signal }) => {
    const g = probe.grpc!;
    if (!target.podIP) throw new Error('the pod has no IP address yet');
    return grpcProbe(target.podIP, g.port, g.service ?? '', timeoutSeconds, signal);
  };
}
