// Mirror pods: the API server's read-only copy of each static pod, created by the agent when it
// is connected, as upstream (pkg/kubelet/pod/mirror_client.go). The API watch shows them back to
// us; they are recorded here, never run.
import type { DecisionDraft, Entry } from '../../model/entry.ts';
import type { Pod } from '../../model/pod.ts';
import type { PodRecord, PodsState } from './state.ts';

export const MIRROR_ANNOTATION = 'kubernetes.io/config.mirror';

export interface MirrorRef {
  uid: string;
  namespace: string;
  name: string;
}

/** A mirror pod observed through the API watch: remember it under its static pod's uid. */
export function onMirrorObserved(s: PodsState, pod: Pod): PodsState {
  const staticUid = pod.metadata.annotations?.[MIRROR_ANNOTATION] ?? '';
  const ref: MirrorRef = { uid: pod.metadata.uid ?? '', namespace: pod.metadata.namespace ?? 'default', name: pod.metadata.name };
  if (pod.metadata.deletionTimestamp) return forgetMirror(s, ref.uid);
  return { ...s, mirrors: { ...s.mirrors, [staticUid]: ref } };
}

export function forgetMirror(s: PodsState, mirrorUid: string): PodsState {
  const hit = Object.entries(s.mirrors).find(([, m]) => m.uid === mirrorUid);
  if (!hit) return s;
  const mirrors = { ...s.mirrors };
  delete mirrors[hit[0]];
  return { ...s, mirrors };
}

/** After a full API list: mirrors missing from it are gone. */
export function pruneMirrors(s: PodsState, listed: Set<string>): PodsState {
  const mirrors = Object.fromEntries(Object.entries(s.mirrors).filter(([, m]) => listed.has(m.uid)));
  return Object.keys(mirrors).length === Object.keys(s.mirrors).length ? s : { ...s, mirrors };
}

export function decideMirror(s: PodsState, rec: PodRecord, e: Entry): DecisionDraft[] {
  if (rec.origin !== 'file' || s.standalone || !s.apiReachable || !s.sourcesSynced.api || rec.mirrorPending !== undefined) return [];
  const mirror = s.mirrors[rec.ref.uid];
  if (rec.terminating) {
    return mirror ? [{ type: 'MirrorPodDeleteRequested', reason: rec.terminating.reason, pod: rec.ref, data: { mirror } }] : [];
  }
  if (!mirror) return [{ type: 'MirrorPodCreateRequested', reason: e.type === 'PodObserved' ? 'StaticPodObserved' : 'MirrorPodMissing', pod: rec.ref, data: { pod: rec.pod } }];
  return [];
}
