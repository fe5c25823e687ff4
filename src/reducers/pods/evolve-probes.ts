// Folding the prober's reports into the current container instance's probe state.
import type { Entry } from '../../model/entry.ts';
import type { ProbeFailed, ProbeResultChanged } from '../../model/probe-observations.ts';
import { updateContainer, updatePod } from './records.ts';
import type { ContainerRecord, PodsState, ProbeState } from './state.ts';

const MAX_KEPT = 10;

function probesOf(c: ContainerRecord, containerId: string): ProbeState | undefined {
  if (c.current?.id !== containerId) return undefined; // a report about an older instance
  return c.probes?.containerId === containerId ? c.probes : { containerId, failures: { liveness: [], readiness: [], startup: [] } };
}

export function onProbeFailed(s: PodsState, e: Entry): PodsState {
  const d = e.data as ProbeFailed;
  if (!e.pod) return s;
  return updatePod(s, e.pod.uid, (rec) =>
    updateContainer(rec, d.container, (c) => {
      const p = probesOf(c, d.containerId);
      if (!p) return c;
      // A first failure starts a new run: failures before a success in between do not count.
      const run = d.consecutiveFailures <= 1 ? [e.seq] : [...p.failures[d.probe], e.seq].slice(-MAX_KEPT);
      return { ...c, probes: { ...p, failures: { ...p.failures, [d.probe]: run } } };
    }),
  );
}

export function onProbeResultChanged(s: PodsState, e: Entry): PodsState {
  const d = e.data as ProbeResultChanged;
  if (!e.pod || d.result === 'unknown') return s;
  return updatePod(s, e.pod.uid, (rec) =>
    updateContainer(rec, d.container, (c) => {
      const p = probesOf(c, d.containerId);
      if (!p) return c;
      const failures = d.result === 'success' ? { ...p.failures, [d.probe]: [] } : p.failures;
      return { ...c, probes: { ...p, [d.probe]: d.result, failures } };
    }),
  );
}
