// Which containers the prober should be probing right now: running instances whose spec has a
// probe. A new container id means a new instance, so its probe workers start from scratch.
import { podIPsOf } from './pod-ips.ts';
import type { ProbeTarget } from '../../model/probe-observations.ts';
import type { PodsState } from './state.ts';

export function probeTargets(s: PodsState): ProbeTarget[] {
  const out: ProbeTarget[] = [];
  for (const uid of Object.keys(s.pods).sort()) {
    const rec = s.pods[uid];
    if (rec.terminating) continue;
    for (const spec of [...(rec.pod.spec.initContainers ?? []), ...rec.pod.spec.containers]) {
      const c = rec.containers[spec.name];
      if (!c?.current || c.current.state !== 'running' || c.pending?.action === 'kill') continue;
      if (!spec.livenessProbe && !spec.readinessProbe && !spec.startupProbe) continue;
      // Only sidecars among init containers are probed, as upstream.
      if (c.kind === 'init') continue;
      out.push({
        podUid: uid,
        pod: rec.ref,
        container: spec.name,
        containerId: c.current.id,
        startedAt: c.current.startedAt ?? rec.firstSeenAt,
        podIP: podIPsOf(rec, s.hostIP).podIP,
        ports: (spec.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort })),
        ...(spec.livenessProbe ? { liveness: spec.livenessProbe } : {}),
        ...(spec.readinessProbe ? { readiness: spec.readinessProbe } : {}),
        ...(spec.startupProbe ? { startup: spec.startupProbe } : {}),
      });
    }
  }
  return out;
}
