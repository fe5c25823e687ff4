// Folding the engine's own decisions (intents in flight) and the outcomes their effects report.
import type { Entry } from '../../model/entry.ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { ActiveDeadlineExceeded, DEADLINE_EXCEEDED_REASON } from '../../model/active-deadline.ts';
import { afterFailure, BACKOFF_INITIAL_MS, BACKOFF_MAX_MS, ms } from './backoff.ts';

/** Kills that mean the container failed (as opposed to being replaced or the pod ending). */
export const FAILURE_KILLS = new Set(['LivenessProbeFailed', 'StartupProbeFailed']);
import type { ContainerPlan } from './plans.ts';
import { startTerminating, updateContainer, updatePod } from './records.ts';
import { PodShutdownKilled, SHUTDOWN_POD_REASON } from '../../model/node-shutdown.ts';
import type { ContainerRecord, PodRecord, PodsState } from './state.ts';
import type { PodStatus } from './status-types.ts';

type D = Record<string, unknown>;

export function onDecision(s: PodsState, e: Entry): PodsState {
  const uid = e.pod?.uid;
  const d = e.data as D;
  if (e.type === 'OrphanPodKilled') {
    const orphans = { ...s.orphans };
    delete orphans[d.podUid as string];
    return { ...s, orphans };
  }
  if (!uid) return s;
  return updatePod(s, uid, (rec) => {
    switch (e.type) {
      case 'PodSandboxRequested':
        return { ...rec, startTime: rec.startTime ?? e.at, sandbox: { ...rec.sandbox, attempt: d.attempt as number, pending: { action: 'start', seq: e.seq } } };
      case 'PodSandboxKilled':
        return { ...rec, sandbox: { ...rec.sandbox, pending: { action: 'kill', seq: e.seq } } };
      case 'ContainerStartRequested': {
        const plan = d.plan as ContainerPlan;
        // A retry after a failure keeps showing the failure (ErrImagePull...) until it succeeds.
        return updateContainer(rec, plan.name, (c) => ({ ...c, pending: { action: 'start', seq: e.seq, reason: e.reason ?? '' }, waiting: c.waiting && c.waiting.reason !== 'ContainerCreating' ? c.waiting : { reason: 'ContainerCreating' } }));
      }
      case 'ContainerKilled':
        return updateContainer(rec, d.name as string, (c) => ({
          ...c,
          pending: { action: 'kill', seq: e.seq, reason: e.reason ?? '' },
          killReason: e.reason,
          // A container killed for failing its probes counts as a failure: restarts back off.
          ...(FAILURE_KILLS.has(e.reason ?? '') ? { crashBackoff: afterFailure(c.crashBackoff, e.at, c.current?.startedAt ? ms(e.at) - ms(c.current.startedAt) : 0) } : {}),
        }));
      case 'RestartBackedOff':
        return withBackoffTimer(rec, d, e.seq);
      case 'PodStatusChanged':
        return { ...rec, lastStatus: d.status as PodStatus, statusDirty: false, lastStatusTarget: (d.mirror as { uid?: string } | undefined)?.uid };
      case 'PodObjectDeleteRequested':
        return { ...rec, apiDelete: { seq: e.seq } };
      case 'MirrorPodCreateRequested':
      case 'MirrorPodDeleteRequested':
        return { ...rec, mirrorPending: e.seq };
      case 'PodVolumesSetUpRequested':
        return { ...rec, volumes: { ...rec.volumes, pending: { action: 'setup', seq: e.seq } } };
      case 'PodVolumesTearDownRequested':
        return { ...rec, volumes: { ...rec.volumes, pending: { action: 'teardown', seq: e.seq } } };
      case 'PodRuntimeCleanupRequested':
        return { ...rec, cleanup: { seq: e.seq } };
      case 'PodActiveDeadlineExceeded': {
        const r = ActiveDeadlineExceeded.decode(e.data);
        if (isLeft(r)) return rec;
        return { ...startTerminating(rec, e.at, DEADLINE_EXCEEDED_REASON), deadlineExceeded: { reason: DEADLINE_EXCEEDED_REASON, message: r.right.message } };
      }
      case 'PodEvicted':
        // Hard eviction: no grace period, as upstream for hard thresholds.
        return { ...startTerminating(rec, e.at, 'Evicted', 0), evicted: { reason: 'Evicted', message: d.message as string } };
      case 'PodShutdownKilled':
        // Graceful node shutdown: the group's grace period, then Failed / Terminated as upstream.
        if (!PodShutdownKilled.is(d)) return rec;
        return { ...startTerminating(rec, e.at, 'NodeShutdown', d.gracePeriodSeconds), evicted: { reason: SHUTDOWN_POD_REASON, message: d.message } };
      default:
        return rec;
    }
  });
}

function nextEffectRetry(prev: PodRecord['effectRetry'], at: string): NonNullable<PodRecord['effectRetry']> {
  const failures = (prev?.failures ?? 0) + 1;
  const after = new Date(ms(at) + Math.min(BACKOFF_INITIAL_MS * 2 ** (failures - 1), BACKOFF_MAX_MS)).toISOString();
  return { after, failures, timerSeq: prev?.timerSeq };
}

function withBackoffTimer(rec: PodRecord, d: D, seq: number): PodRecord {
  if (d.which === 'deadline') return { ...rec, deadlineTimer: { seq, until: d.until as string } };
  if (d.which === 'status') return rec.statusRetry ? { ...rec, statusRetry: { ...rec.statusRetry, timerSeq: seq } } : rec;
  if (d.which === 'effect') return rec.effectRetry ? { ...rec, effectRetry: { ...rec.effectRetry, timerSeq: seq } } : rec;
  if (d.which === 'volumes') return { ...rec, volumes: { ...rec.volumes, backoff: { ...rec.volumes.backoff, timerSeq: seq } } };
  if (d.which === 'sandbox') return { ...rec, sandbox: { ...rec.sandbox, backoff: { ...rec.sandbox.backoff, timerSeq: seq } } };
  const key = d.which === 'pull' ? 'pullBackoff' : 'crashBackoff';
  return updateContainer(rec, d.name as string, (c) => ({ ...c, [key]: { ...c[key], timerSeq: seq }, waiting: { reason: d.waitingReason as string, message: d.message as string | undefined } }));
}

/** Clear whatever was waiting on decision `seq` (its effect reported or failed). */
function clearPending(rec: PodRecord, seq: number): PodRecord {
  let next = rec;
  if (rec.sandbox.pending?.seq === seq) next = { ...next, sandbox: { ...next.sandbox, pending: undefined } };
  if (rec.sandbox.backoff.timerSeq === seq) next = { ...next, sandbox: { ...next.sandbox, backoff: { ...next.sandbox.backoff, timerSeq: undefined } } };
  if (rec.statusRetry?.timerSeq === seq) next = { ...next, statusRetry: { ...rec.statusRetry, timerSeq: undefined } };
  if (rec.effectRetry?.timerSeq === seq) next = { ...next, effectRetry: { ...rec.effectRetry, timerSeq: undefined } };
  if (rec.deadlineTimer?.seq === seq) next = { ...next, deadlineTimer: undefined };
  for (const [name, c] of Object.entries(rec.containers)) {
    const upd: Partial<ContainerRecord> = {};
    if (c.pending?.seq === seq) upd.pending = undefined;
    if (c.crashBackoff.timerSeq === seq) upd.crashBackoff = { ...c.crashBackoff, timerSeq: undefined };
    if (c.pullBackoff.timerSeq === seq) upd.pullBackoff = { ...c.pullBackoff, timerSeq: undefined };
    if (Object.keys(upd).length) next = updateContainer(next, name, (r) => ({ ...r, ...upd }));
  }
  if (rec.volumes.pending?.seq === seq) next = { ...next, volumes: { ...next.volumes, pending: undefined } };
  if (rec.volumes.backoff.timerSeq === seq) next = { ...next, volumes: { ...next.volumes, backoff: { ...next.volumes.backoff, timerSeq: undefined } } };
  if (rec.apiDelete?.seq === seq && !rec.apiDelete.done) next = { ...next, apiDelete: undefined };
  if (rec.cleanup?.seq === seq) next = { ...next, cleanup: undefined };
  if (rec.mirrorPending === seq) next = { ...next, mirrorPending: undefined };
  return next;
}

export function onOutcome(s: PodsState, e: Entry): PodsState {
  const uid = e.pod?.uid;
  if (!uid || e.cause === undefined) return s;
  const d = e.data as D;
  const seq = e.cause;
  if (e.type === 'MirrorPodCreated') {
    // Known at once, before the watch shows it, so status patches can target it.
    const m = d.mirror as { uid: string; namespace: string; name: string } | undefined;
    if (m) s = { ...s, mirrors: { ...s.mirrors, [uid]: m } };
  }
  if (e.type === 'PodRuntimeCleanedUp') {
    // The pod is gone from its source and from the runtime: forget it.
    return updatePod(s, uid, (rec) => (rec.goneFromSource ? undefined : { ...rec, cleanup: undefined }));
  }
  return updatePod(s, uid, (rec0) => {
    const rec1 = clearPending(rec0, seq);
    // An effect that reported (anything but a throw or its own timer) ends a failure streak.
    const rec = rec1.effectRetry && e.type !== 'EffectFailed' && e.type !== 'BackOffExpired' ? { ...rec1, effectRetry: undefined } : rec1;
    switch (e.type) {
      case 'PodSandboxStarted':
        return { ...rec, sandbox: { ...rec.sandbox, id: d.sandboxId as string, state: 'ready', ip: d.ip as string | undefined, ips: d.ips as string[] | undefined, lastError: undefined, backoff: { nextDelayMs: 0 } } };
      case 'PodSandboxStartFailed':
        return { ...rec, sandbox: { ...rec.sandbox, lastError: d.error as string, backoff: afterFailure(rec.sandbox.backoff, e.at) } };
      case 'PodSandboxStopped':
        return { ...rec, sandbox: { ...rec.sandbox, state: 'stopped' } };
      case 'ContainerStarted':
        return updateContainer(rec, d.name as string, (c) => {
          const prev = c.current;
          // The runtime already showed a newer instance: this outcome is old news.
          if (prev && prev.id !== d.containerId && prev.attempt > (d.attempt as number)) return c;
          // The PLEG may have seen this very instance run, or even exit, before the effect reported:
          // the runtime's observation is newer than "started" and is never overwritten by it,
          // else an exit already reported would be lost and the pod would wait for it for ever.
          const seen = prev && prev.id === d.containerId && prev.state !== 'created' ? prev : undefined;
          return {
            ...c,
            last: prev && prev.id !== d.containerId ? { ...prev, state: 'exited' } : c.last,
            current: {
              ...seen,
              id: d.containerId as string,
              attempt: d.attempt as number,
              state: seen?.state ?? 'running',
              image: d.image as string | undefined,
              imageRef: (d.imageRef as string | undefined) ?? seen?.imageRef,
              startedAt: (d.startedAt as string | undefined) ?? seen?.startedAt ?? e.at,
              specHash: d.specHash as string | undefined,
            },
            restartCount: d.attempt as number,
            nextAttempt: (d.attempt as number) + 1,
            waiting: undefined,
            killReason: undefined,
            probes: seen ? c.probes : undefined,
            pullBackoff: { nextDelayMs: 0 },
          };
        });
      case 'ContainerStartFailed':
        return updateContainer(rec, d.name as string, (c) => {
          const pull = d.stage === 'pull';
          return {
            ...c,
            waiting: { reason: d.reason as string, message: d.message as string | undefined },
            ...(pull ? { pullBackoff: afterFailure(c.pullBackoff, e.at) } : { crashBackoff: afterFailure(c.crashBackoff, e.at), nextAttempt: c.nextAttempt + (d.created ? 1 : 0) }),
          };
        });
      case 'ContainerStopped':
        return updateContainer(rec, d.name as string, (c) =>
          c.current && c.current.id === d.containerId && c.current.state !== 'exited'
            ? { ...c, current: { ...c.current, state: 'exited', exitCode: (d.exitCode as number | undefined) ?? c.current.exitCode ?? 137, finishedAt: (d.finishedAt as string | undefined) ?? e.at, reason: (d.reason as string | undefined) ?? c.current.reason } }
            : c,
        );
      case 'PodVolumesSetUp':
        return { ...rec, volumes: { ...rec.volumes, state: 'ready', mounts: d.mounts as Record<string, { hostPath: string; readOnly?: boolean }>, lastError: undefined, backoff: { nextDelayMs: 0 } } };
      case 'PodVolumesSetUpFailed':
        return { ...rec, volumes: { ...rec.volumes, lastError: { volume: d.volume as string, reason: d.reason as string, message: d.message as string }, backoff: afterFailure(rec.volumes.backoff, e.at) } };
      case 'PodVolumesTornDown':
        return { ...rec, volumes: { ...rec.volumes, state: 'tornDown', mounts: undefined } };
      case 'PodStatusPatched':
        return rec.statusRetry ? { ...rec, statusRetry: undefined } : rec;
      case 'PodStatusPatchFailed': {
        // Retry later, not at the next entry: a patch the API server rejects would otherwise be
        // re-sent in a loop (upstream's status manager retries on its 10 s sync).
        const failures = (rec.statusRetry?.failures ?? 0) + 1;
        const after = new Date(ms(e.at) + Math.min(10_000 * 2 ** (failures - 1), 300_000)).toISOString();
        return { ...rec, statusDirty: true, statusRetry: { after, failures } };
      }
      case 'PodObjectDeleted':
        return { ...rec, apiDelete: { seq, done: true } };
      case 'PodRuntimeCleanupFailed':
        // Something is still on the runtime (named in the outcome): clean up again later, with the
        // same backoff as an effect that threw, never at once in a loop.
        return { ...rec, effectRetry: nextEffectRetry(rec1.effectRetry, e.at) };
      case 'EffectFailed': {
        // Its own wake-up timer failed (aborted): no new timer at once; the pod's next entry after
        // `after`, or its next observation, retries.
        if (rec0.effectRetry?.timerSeq === seq) return { ...rec, effectRetry: rec0.effectRetry };
        // An effect that threw is not answered at once with the same decision: wait, with backoff.
        return { ...rec, effectRetry: nextEffectRetry(rec.effectRetry, e.at) };
      }
      default:
        return rec;
    }
  });
}
