// Folding what the runtime reports (PLEG relists) into each pod's sandbox and containers.
import type { Entry } from '../../model/entry.ts';
import type { RuntimeContainer, RuntimeSandbox } from '../../model/runtime-observations.ts';
import { afterFailure, ms } from './backoff.ts';
import { updateContainer, updatePod } from './records.ts';
import type { ContainerRecord, PodRecord, PodsState, RuntimeInstance } from './state.ts';

export function instanceOf(c: RuntimeContainer): RuntimeInstance {
  const i: RuntimeInstance = { id: c.id, attempt: c.attempt, state: c.state };
  for (const k of ['image', 'imageRef', 'startedAt', 'finishedAt', 'exitCode', 'reason', 'message', 'specHash'] as const) {
    if (c[k] !== undefined) (i as unknown as Record<string, unknown>)[k] = c[k];
  }
  return i;
}

/** The container exited on its own (not killed by us): count it towards the crash backoff. */
function exitedOnItsOwn(rec: ContainerRecord, inst: RuntimeInstance, at: string): ContainerRecord {
  if (rec.pending?.action === 'kill' || rec.killReason) return rec;
  const finished = inst.finishedAt ?? at;
  const ran = inst.startedAt ? ms(finished) - ms(inst.startedAt) : 0;
  return { ...rec, crashBackoff: afterFailure(rec.crashBackoff, finished, ran) };
}

/** Apply one runtime container report to its record. */
export function applyContainer(rec: PodRecord, c: RuntimeContainer, at: string): PodRecord {
  const cur = rec.containers[c.name];
  if (!cur) return rec;
  const inst = instanceOf(c);
  return updateContainer(rec, c.name, (r) => {
    if (r.current && r.current.id === c.id) {
      const wasExited = r.current.state === 'exited';
      let next: ContainerRecord = { ...r, current: { ...r.current, ...inst } };
      // Once started (even if its start was cut short and it exited at once), its attempt is used:
      // the next start creates a new container rather than finding this one again.
      if (inst.state !== 'created') next = { ...next, nextAttempt: Math.max(r.nextAttempt, c.attempt + 1) };
      if (!wasExited && inst.state === 'exited') next = exitedOnItsOwn(next, inst, at);
      return next;
    }
    if (!r.current || c.attempt > r.current.attempt) {
      // A newer instance than we knew of (its start outcome was lost in a crash): adopt it.
      const last = r.current?.state === 'exited' ? r.current : r.last;
      // A created-but-not-started instance is started as it is, so its attempt is the next one used.
      const nextAttempt = inst.state === 'created' ? c.attempt : Math.max(r.nextAttempt, c.attempt + 1);
      let next: ContainerRecord = { ...r, current: inst, last, restartCount: Math.max(r.restartCount, c.attempt), nextAttempt };
      // Seen before its start outcome: a created instance is our start still in flight (the
      // decision stays pending, nothing new is decided for it); a started one has done its part.
      if (r.pending?.action === 'start' && inst.state !== 'created') next = { ...next, pending: undefined };
      if (inst.state === 'exited') next = exitedOnItsOwn(next, inst, at);
      return next;
    }
    return r;
  });
}

export function applySandbox(rec: PodRecord, sb: RuntimeSandbox): PodRecord {
  if (rec.sandbox.id === sb.id || (!rec.sandbox.id && sb.state === 'ready') || (rec.sandbox.id !== sb.id && sb.attempt > rec.sandbox.attempt)) {
    return {
      ...rec,
      sandbox: { ...rec.sandbox, id: sb.id, attempt: Math.max(rec.sandbox.attempt, sb.attempt), state: sb.state, ip: sb.ip ?? rec.sandbox.ip, ips: sb.ips ?? rec.sandbox.ips, pending: rec.sandbox.pending?.action === 'start' ? undefined : rec.sandbox.pending },
    };
  }
  return rec;
}

export function onRuntimeRelisted(s: PodsState, e: Entry): PodsState {
  const d = e.data as { sandboxes: RuntimeSandbox[]; containers: RuntimeContainer[] };
  const orphans: PodsState['orphans'] = {};
  const pods = { ...s.pods };
  const sandboxesByPod = new Map<string, RuntimeSandbox[]>();
  for (const sb of d.sandboxes) sandboxesByPod.set(sb.podUid, [...(sandboxesByPod.get(sb.podUid) ?? []), sb]);
  for (const [uid, rec0] of Object.entries(pods)) {
    let rec = rec0;
    const sbs = (sandboxesByPod.get(uid) ?? []).sort((a, b) => a.attempt - b.attempt);
    const latest = sbs[sbs.length - 1];
    if (latest) rec = applySandbox(rec, latest);
    else if (rec.sandbox.id) rec = { ...rec, sandbox: { ...rec.sandbox, state: 'stopped', pending: undefined } };
    const byName = new Map<string, RuntimeContainer>();
    for (const c of d.containers) {
      if (c.podUid !== uid) continue;
      const prev = byName.get(c.name);
      if (!prev || c.attempt > prev.attempt) byName.set(c.name, c);
    }
    for (const c of byName.values()) rec = applyContainer(rec, c, e.at);
    // A container we believed in that the runtime no longer has.
    for (const [name, cr] of Object.entries(rec.containers)) {
      if (cr.current && !byName.has(name) && cr.current.state !== 'exited') {
        rec = updateContainer(rec, name, (r) => ({ ...r, current: r.current && { ...r.current, state: 'exited', exitCode: r.current.exitCode ?? 137, reason: 'ContainerMissing' } }));
      }
    }
    pods[uid] = rec;
  }
  for (const sb of d.sandboxes) if (!pods[sb.podUid]) addOrphan(orphans, sb.podUid, sb.id, undefined);
  for (const c of d.containers) if (!pods[c.podUid]) addOrphan(orphans, c.podUid, undefined, c.id);
  return { ...s, pods, orphans, runtimeSynced: true };
}

function addOrphan(o: PodsState['orphans'], uid: string, sandboxId?: string, containerId?: string) {
  const cur = o[uid] ?? { podUid: uid, sandboxIds: [], containerIds: [] };
  o[uid] = {
    podUid: uid,
    sandboxIds: sandboxId ? [...cur.sandboxIds, sandboxId].sort() : cur.sandboxIds,
    containerIds: containerId ? [...cur.containerIds, containerId].sort() : cur.containerIds,
  };
}

export function onContainerStateChanged(s: PodsState, e: Entry): PodsState {
  const c = (e.data as { container: RuntimeContainer }).container;
  if (!s.pods[c.podUid]) {
    const orphans = { ...s.orphans };
    if (s.runtimeSynced && c.state !== 'exited') addOrphan(orphans, c.podUid, undefined, c.id);
    return { ...s, orphans };
  }
  return updatePod(s, c.podUid, (rec) => applyContainer(rec, c, e.at));
}

export function onContainerRemoved(s: PodsState, e: Entry): PodsState {
  const d = e.data as { id: string; podUid: string; name: string };
  return updatePod(s, d.podUid, (rec) =>
    updateContainer(rec, d.name, (r) => {
      if (r.current?.id !== d.id || r.current.state === 'exited') return r;
      return { ...r, current: { ...r.current, state: 'exited', exitCode: r.current.exitCode ?? 137, reason: 'ContainerRemoved' } };
    }),
  );
}

export function onSandboxStateChanged(s: PodsState, e: Entry): PodsState {
  const sb = (e.data as { sandbox: RuntimeSandbox }).sandbox;
  return updatePod(s, sb.podUid, (rec) => applySandbox(rec, sb));
}

export function onSandboxRemoved(s: PodsState, e: Entry): PodsState {
  const d = e.data as { id: string; podUid: string };
  return updatePod(s, d.podUid, (rec) => (rec.sandbox.id === d.id ? { ...rec, sandbox: { ...rec.sandbox, state: 'stopped' } } : rec));
}
