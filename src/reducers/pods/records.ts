// Small pure helpers to create and update pod records without mutating the previous state.
import type { PodRef } from '../../model/entry.ts';
import type { Pod } from '../../model/pod.ts';
import { emptyBackoff, type ContainerKind, type ContainerRecord, type PodRecord, type PodsState } from './state.ts';

export const refOf = (pod: Pod): PodRef => ({
  uid: pod.metadata.uid ?? '',
  namespace: pod.metadata.namespace ?? 'default',
  name: pod.metadata.name,
});

export function newContainer(name: string, kind: ContainerKind): ContainerRecord {
  return { name, kind, restartCount: 0, nextAttempt: 0, crashBackoff: emptyBackoff(), pullBackoff: emptyBackoff() };
}

/** Records for every container in the spec, keeping what is known of existing ones. */
export function containersFor(pod: Pod, existing: Record<string, ContainerRecord> = {}): Record<string, ContainerRecord> {
  const out: Record<string, ContainerRecord> = {};
  for (const c of pod.spec.initContainers ?? []) {
    const kind: ContainerKind = c.restartPolicy === 'Always' ? 'sidecar' : 'init';
    out[c.name] = existing[c.name] ? { ...existing[c.name], kind } : newContainer(c.name, kind);
  }
  for (const c of pod.spec.containers) {
    out[c.name] = existing[c.name] ? { ...existing[c.name], kind: 'app' } : newContainer(c.name, 'app');
  }
  // Containers dropped from the spec are kept while the runtime still has them, so they get killed.
  for (const [name, rec] of Object.entries(existing)) {
    if (!out[name] && rec.current && rec.current.state !== 'exited') out[name] = rec;
  }
  return out;
}

export function newPodRecord(pod: Pod, origin: PodRecord['origin'], at: string, file?: string): PodRecord {
  return {
    ref: refOf(pod),
    origin,
    file,
    pod,
    firstSeenAt: at,
    sandbox: { attempt: 0, state: 'none', backoff: emptyBackoff() },
    containers: containersFor(pod),
    volumes: { state: 'none', backoff: emptyBackoff() },
  };
}

export function updatePod(state: PodsState, uid: string, fn: (rec: PodRecord) => PodRecord | undefined): PodsState {
  const rec = state.pods[uid];
  if (!rec) return state;
  const next = fn(rec);
  const pods = { ...state.pods };
  if (next) pods[uid] = next;
  else delete pods[uid];
  return { ...state, pods };
}

export function updateContainer(rec: PodRecord, name: string, fn: (c: ContainerRecord) => ContainerRecord): PodRecord {
  const c = rec.containers[name];
  if (!c) return rec;
  return { ...rec, containers: { ...rec.containers, [name]: fn(c) } };
}

/** Grace period for a termination as upstream: deletionGracePeriodSeconds, else the spec's, else 30. */
export function gracePeriodOf(pod: Pod): number {
  return pod.metadata.deletionGracePeriodSeconds ?? pod.spec.terminationGracePeriodSeconds ?? 30;
}

export function startTerminating(rec: PodRecord, at: string, reason: string, grace?: number): PodRecord {
  if (rec.terminating) return rec;
  return { ...rec, terminating: { since: at, reason, gracePeriodSeconds: grace ?? gracePeriodOf(rec.pod) } };
}
