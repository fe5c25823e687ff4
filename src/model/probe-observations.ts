// The prober's contract. The prober (src/streams/prober.ts) runs one worker per (container,
// probe) for the targets the engine's state lists, and reports (source `prober`) only:
// - `ProbeFailed` for each failure that counts towards failureThreshold while the result is not
//   yet `failure` (so a failing probe is explained, and a steady state adds nothing);
// - `ProbeResultChanged` when a probe's result flips (unknown → success, success → failure...).
// A healthy pod probed every second therefore does not grow the log.
import * as t from 'io-ts';
import { Probe } from './pod.ts';

export const ProbeKind = t.keyof({ liveness: null, readiness: null, startup: null });
export type ProbeKind = t.TypeOf<typeof ProbeKind>;
export const ProbeResult = t.keyof({ success: null, failure: null, unknown: null });
export type ProbeResult = t.TypeOf<typeof ProbeResult>;
export const ProbeHandler = t.keyof({ exec: null, httpGet: null, tcpSocket: null, grpc: null });

export const ProbeFailed = t.intersection([
  t.type({
    container: t.string,
    containerId: t.string,
    probe: ProbeKind,
    consecutiveFailures: t.number,
    failureThreshold: t.number,
    handler: ProbeHandler,
    /** What failed, for an operator: "HTTP probe failed with statuscode: 500", "timeout after 1s"... */
    detail: t.string,
  }),
  t.partial({ target: t.string }),
]);
export type ProbeFailed = t.TypeOf<typeof ProbeFailed>;

export const ProbeResultChanged = t.intersection([
  t.type({ container: t.string, containerId: t.string, probe: ProbeKind, result: ProbeResult, previous: ProbeResult }),
  t.partial({ detail: t.string }),
]);
export type ProbeResultChanged = t.TypeOf<typeof ProbeResultChanged>;

/** One running container with probes, as the engine's state lists it for the prober. */
export interface ProbeTarget {
  podUid: string;
  pod: { uid: string; namespace: string; name: string };
  container: string;
  containerId: string;
  /** RFC 3339; initialDelaySeconds counts from here. */
  startedAt: string;
  podIP?: string;
  ports: { name?: string; containerPort: number }[];
  liveness?: Probe;
  readiness?: Probe;
  startup?: Probe;
}

/** Upstream defaults (pkg/apis/core/v1/defaults.go). */
export const PROBE_DEFAULTS = { initialDelaySeconds: 0, timeoutSeconds: 1, periodSeconds: 10, successThreshold: 1, failureThreshold: 3 } as const;
