// Folding what the pod sources report: the API server watch and the static pod manifests.
import type { Entry } from '../../model/entry.ts';
import type { Pod } from '../../model/pod.ts';
import { containersFor, newPodRecord, startTerminating, updatePod } from './records.ts';
import type { PodRecord, PodsState } from './state.ts';

import { isTerminal } from './sync.ts';
import { pressureRejection } from './eviction.ts';
import { shutdownRejection } from './shutdown.ts';
import { osRejection, sysctlRejection } from '../../model/pod-admission.ts';
import { MIRROR_ANNOTATION, forgetMirror, onMirrorObserved, pruneMirrors } from './mirror.ts';

export function onPodObserved(s: PodsState, e: Entry): PodsState {
  const d = e.data as { pod: Pod; origin?: 'api' | 'file'; file?: string };
  const pod = d.pod;
  const uid = pod.metadata.uid ?? '';
  // Mirror pods are the API's view of our static pods, never something to run.
  if (pod.metadata.annotations?.[MIRROR_ANNOTATION] !== undefined) return onMirrorObserved(s, pod);
  const origin = d.origin ?? 'api';
  const existing = s.pods[uid];
  let rec = existing
    ? { ...existing, pod, containers: containersFor(pod, existing.containers), file: d.file ?? existing.file }
    : admit(s, newPodRecord(pod, origin, e.at, d.file));
  if (pod.metadata.deletionTimestamp) rec = startTerminating(rec, e.at, 'PodDeleted');
  // A pod already terminal never runs again, as upstream.
  return { ...s, pods: { ...s.pods, [uid]: rec }, orphans: withoutKey(s.orphans, uid) };
}

/** Upstream's admission check on pod count: beyond maxPods a new pod is refused (OutOfpods). */
function admit(s: PodsState, rec: PodRecord): PodRecord {
  // Under node pressure new pods are refused as upstream's eviction admission handler does.
  const pressured = shutdownRejection(s) ?? (rec.origin === 'api' ? pressureRejection(s, rec) : undefined);
  if (pressured) return { ...rec, rejected: pressured };
  // Then as upstream's handlers: the sysctl allowlist, the OS field, the pod count.
  const refused = sysctlRejection(rec.pod, s.allowedUnsafeSysctls) ?? osRejection(rec.pod);
  if (refused) return { ...rec, rejected: refused };
  if (s.maxPods === undefined) return rec;
  const active = Object.values(s.pods).filter((p) => !p.rejected && !p.terminating && !p.goneFromSource && !isTerminal(p)).length;
  if (active < s.maxPods) return rec;
  return { ...rec, rejected: { reason: 'OutOfpods', message: `Node didn't have enough resource: pods, requested: 1, used: ${active}, capacity: ${s.maxPods}` } };
}

export function onPodGoneFromSource(s: PodsState, uid: string, at: string, reason: string): PodsState {
  if (!s.pods[uid]) return forgetMirror(s, uid);
  return updatePod(s, uid, (rec) => ({ ...startTerminating(rec, at, reason), goneFromSource: true }));
}

/** A full list from a source: pods of that origin missing from it are gone. */
export function onSourceListed(s: PodsState, e: Entry, origin: 'api' | 'file'): PodsState {
  const listed = new Set((e.data as { uids: string[] }).uids);
  let next: PodsState = { ...s, sourcesSynced: { ...s.sourcesSynced, [origin]: true } };
  if (origin === 'api') next = pruneMirrors(next, listed);
  for (const [uid, rec] of Object.entries(s.pods)) {
    if (rec.origin === origin && !listed.has(uid) && !rec.goneFromSource) {
      next = onPodGoneFromSource(next, uid, e.at, origin === 'api' ? 'PodRemovedFromApi' : 'StaticPodRemoved');
    }
  }
  return next;
}

function withoutKey<T>(m: Record<string, T>, k: string): Record<string, T> {
  if (!(k in m)) return m;
  const out = { ...m };
  delete out[k];
  return out;
}
