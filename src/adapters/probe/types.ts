// What a probe handler is asked and what it answers. The prober (src/streams/prober.ts) owns the
// timing and the thresholds; a handler does exactly one check and reports what it saw.
import type { Probe } from '../../model/pod.ts';
import type { ProbeKind, ProbeTarget } from '../../model/probe-observations.ts';

export type ProbeHandlerName = 'exec' | 'httpGet' | 'tcpSocket' | 'grpc';

export interface ProbeRequest {
  kind: ProbeKind;
  probe: Probe;
  target: ProbeTarget;
  /** the probe's timeoutSeconds, defaulted (upstream: 1) */
  timeoutSeconds: number;
  /** aborted when the worker stops (container gone, agent stopping) */
  signal: AbortSignal;
}

export interface ProbeOutcome {
  result: 'success' | 'failure';
  /** For an operator: the output, the status code, the error... ('' when there is nothing to say). */
  detail: string;
  /** Success with a remark, as upstream's probe.Warning (a redirect to another host). */
  warning?: string;
}

/**
 * One check. Resolves with success or failure; REJECTS only for a prober error (the runtime could
 * not run the check at all, e.g. the container is already gone), which upstream throws away
 * without counting it either way.
 */
export type ProbeHandler = (req: ProbeRequest) => Promise<ProbeOutcome>;

export type ProbeHandlers = Record<ProbeHandlerName, ProbeHandler>;

/** Which handler a probe uses; undefined when it has none (the API server rejects that). */
export function handlerOf(p: Probe): ProbeHandlerName | undefined {
  if (p.exec) return 'exec';
  if (p.httpGet) return 'httpGet';
  if (p.tcpSocket) return 'tcpSocket';
  if (p.grpc) return 'grpc';
  return undefined;
}

/** A named or numbered container port (upstream's probe.ResolveContainerPort). */
export function resolveProbePort(port: string | number, ports: { name?: string; containerPort: number }[] = []): number | undefined {
  if (typeof port === 'number') return port > 0 && port < 65536 ? port : undefined;
  if (/^\d+$/.test(port)) return resolveProbePort(parseInt(port, 10));
  return ports.find((p) => p.name === port)?.containerPort;
}
