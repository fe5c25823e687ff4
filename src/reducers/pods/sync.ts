// The pod worker's sync, as a pure function: compare what the pod should be with what the runtime
// has and what is already in flight, and return the next decisions (upstream computePodActions).
import { podIPsOf } from './pod-ips.ts';
import type { DecisionDraft } from '../../model/entry.ts';
import type { Container } from '../../model/pod.ts';
import { inBackoff, ms } from './backoff.ts';
import { deadlineOf, DEADLINE_EXCEEDED_MESSAGE, DEADLINE_EXCEEDED_REASON, type ActiveDeadlineExceeded } from '../../model/active-deadline.ts';
import { containerPlan, sandboxPlan, volumePlan } from './plans.ts';
import { containerSpecHash } from './spec-hash.ts';
import type { ContainerRecord, PodRecord, PodsState } from './state.ts';

const RESET_WAIT = 'ContainerCreating';

export function syncPod(s: PodsState, rec: PodRecord, at: string): DecisionDraft[] {
  if (rec.terminating) return syncTerminating(rec);
  if (rec.rejected) return [];
  if (isTerminal(rec)) return stopSandboxOfFinishedPod(rec);
  const out: DecisionDraft[] = [];
  const ref = rec.ref;

  // activeDeadlineSeconds: past it the pod is stopped and Failed; before it, a timer wakes the pod then.
  const deadline = deadlineOf(rec.pod.spec.activeDeadlineSeconds, rec.startTime);
  if (deadline !== undefined) {
    if (ms(at) >= deadline) {
      const data: ActiveDeadlineExceeded = { activeDeadlineSeconds: rec.pod.spec.activeDeadlineSeconds!, startTime: rec.startTime!, message: DEADLINE_EXCEEDED_MESSAGE };
      return [{ type: 'PodActiveDeadlineExceeded', reason: DEADLINE_EXCEEDED_REASON, pod: ref, data }];
    }
    const until = new Date(deadline).toISOString();
    if (rec.deadlineTimer?.until !== until) out.push({ type: 'RestartBackedOff', reason: 'ActiveDeadline', pod: ref, data: { which: 'deadline', until, waitingReason: 'ActiveDeadline' } });
  }

  // Containers no longer in the spec, or started from an older spec, are killed first.
  const specs = specsByName(rec);
  for (const c of Object.values(rec.containers)) {
    const spec = specs.get(c.name);
    if (!running(c) || c.pending) continue;
    if (!spec) out.push(kill(rec, c, 'ContainerRemovedFromSpec'));
    else if (c.current?.specHash && c.current.specHash !== containerSpecHash(spec)) out.push(kill(rec, c, 'ContainerSpecChanged'));
    else {
      const probeKill = probeFailureKill(rec, c, spec);
      if (probeKill) out.push(probeKill);
    }
  }

  // Volumes are set up before the sandbox, as upstream waits for attach and mount first.
  if ((rec.pod.spec.volumes ?? []).length && rec.volumes.state !== 'ready') {
    const v = rec.volumes;
    if (v.pending) return out;
    if (inBackoff(v.backoff, at)) {
      if (v.backoff.timerSeq === undefined) out.push(backoffTimer(rec, undefined, 'volumes', v.backoff.until!, 'ContainerCreating', v.lastError ? `MountVolume.SetUp failed for volume "${v.lastError.volume}": ${v.lastError.message}` : undefined));
      return out;
    }
    out.push({ type: 'PodVolumesSetUpRequested', reason: v.lastError ? 'FailedMountRetry' : 'PodScheduled', pod: ref, data: { plan: volumePlan(rec.pod, s.nodeName) } });
    return out;
  }

  // Sandbox: create it, or replace a dead one (after killing what still runs in it).
  const sb = rec.sandbox;
  if (sb.pending) return out;
  if (sb.state !== 'ready') {
    const alive = Object.values(rec.containers).filter((c) => running(c) && !c.pending);
    if (alive.length) return [...out, ...alive.map((c) => kill(rec, c, 'SandboxChanged'))];
    if (Object.values(rec.containers).some((c) => c.pending)) return out;
    if (inBackoff(sb.backoff, at)) {
      if (sb.backoff.timerSeq === undefined) out.push(backoffTimer(rec, undefined, 'sandbox', sb.backoff.until!, 'ContainerCreating', sb.lastError));
      return out;
    }
    const attempt = sb.state === 'none' && !sb.id ? sb.attempt : sb.attempt + 1;
    out.push({ type: 'PodSandboxRequested', reason: sb.id ? 'SandboxChanged' : 'PodScheduled', pod: ref, data: { attempt, plan: sandboxPlan(rec.pod, attempt, s.podLogsDir) } });
    return out;
  }

  // Init containers in order; sidecars must be running before the next one starts.
  for (const spec of rec.pod.spec.initContainers ?? []) {
    const c = rec.containers[spec.name];
    if (c.kind === 'sidecar') {
      if (!started(c)) {
        out.push(...ensureStarted(s, rec, c, spec, at));
        return out;
      }
      continue;
    }
    if (c.current?.state === 'exited' && c.current.exitCode === 0) continue;
    if (c.pending || started(c)) return out;
    if (c.current?.state === 'exited' && (rec.pod.spec.restartPolicy ?? 'Always') === 'Never') return out; // pod Failed
    out.push(...ensureStarted(s, rec, c, spec, at));
    return out;
  }

  // Sidecars that died after init are restarted like app containers.
  for (const spec of rec.pod.spec.initContainers ?? []) {
    const c = rec.containers[spec.name];
    if (c.kind === 'sidecar' && !started(c) && !c.pending) out.push(...ensureStarted(s, rec, c, spec, at));
  }

  for (const spec of rec.pod.spec.containers) {
    const c = rec.containers[spec.name];
    if (c.pending || started(c)) continue;
    if (c.current?.state === 'exited' && !shouldRestart(rec, c)) continue;
    out.push(...ensureStarted(s, rec, c, spec, at));
  }
  return out;
}

function ensureStarted(s: PodsState, rec: PodRecord, c: ContainerRecord, spec: Container, at: string): DecisionDraft[] {
  if (c.pending) return [];
  // An image that failed to pull waits out its own backoff (ImagePullBackOff).
  if (inBackoff(c.pullBackoff, at)) {
    // As upstream (image_manager.go), the back-off message carries the pull error it waits out.
    const cause = c.waiting?.reason === 'ErrImagePull' && c.waiting.message ? `: ErrImagePull: ${c.waiting.message}` : '';
    return c.pullBackoff.timerSeq === undefined ? [backoffTimer(rec, c.name, 'pull', c.pullBackoff.until!, 'ImagePullBackOff', `Back-off pulling image "${spec.image}"${cause}`)] : [];
  }
  // A container whose configuration cannot be made (a refused subPath, a missing configMap key)
  // is retried after a delay with its reason kept, as upstream's pod worker backs off a failed
  // sync; retried at every entry, a pod could keep the node busy with one symlink.
  if (c.waiting?.reason === 'CreateContainerConfigError' && inBackoff(c.crashBackoff, at)) {
    return c.crashBackoff.timerSeq === undefined ? [backoffTimer(rec, c.name, 'config', c.crashBackoff.until!, 'CreateContainerConfigError', c.waiting.message)] : [];
  }
  const restarting = c.current !== undefined || c.waiting?.reason === 'CreateContainerError' || c.waiting?.reason === 'RunContainerError';
  if (restarting && inBackoff(c.crashBackoff, at)) {
    if (c.crashBackoff.timerSeq !== undefined) return [];
    const delay = ms(c.crashBackoff.until!) - ms(c.current?.finishedAt ?? at);
    return [backoffTimer(rec, c.name, 'crash', c.crashBackoff.until!, 'CrashLoopBackOff', `back-off ${Math.round(delay / 1000)}s restarting failed container=${c.name} pod=${rec.ref.name}_${rec.ref.namespace}(${rec.ref.uid})`)];
  }
  const plan = containerPlan(rec.pod, spec, c.kind, c.nextAttempt, {
    ...podIPsOf(rec, s.hostIP),
    hostIP: s.hostIP,
    nodeName: s.nodeName,
    allocatable: s.allocatable,
    ...(rec.origin === 'api' ? { services: s.services } : {}),
  }, rec.volumes.mounts ?? {});
  const reason = c.current?.state === 'created' ? 'ContainerCreatedNotStarted' : c.current ? (c.current.exitCode === 0 ? 'ContainerCompleted' : 'ContainerFailed') : c.waiting && c.waiting.reason !== RESET_WAIT ? c.waiting.reason : 'ContainerNotStarted';
  return [{
    type: 'ContainerStartRequested',
    reason: c.killReason ? `Restart${c.killReason}` : reason,
    pod: rec.ref,
    data: { plan, sandboxId: rec.sandbox.id, sandbox: sandboxPlan(rec.pod, rec.sandbox.attempt, s.podLogsDir), restartCount: c.current && c.current.state !== 'created' ? c.restartCount + 1 : c.restartCount },
  }];
}

function backoffTimer(rec: PodRecord, name: string | undefined, which: 'crash' | 'config' | 'pull' | 'sandbox' | 'volumes', until: string, waitingReason: string, message?: string): DecisionDraft {
  return { type: 'RestartBackedOff', reason: waitingReason, pod: rec.ref, data: { name, which, until, waitingReason, message } };
}

/** Kills that replace a container rather than end it: it comes back whatever the policy. */
const REPLACING_KILLS = new Set(['ContainerSpecChanged', 'SandboxChanged']);

/** A failed liveness or startup probe of the current instance kills it, as upstream. */
function probeFailureKill(rec: PodRecord, c: ContainerRecord, spec: Container): DecisionDraft | undefined {
  const p = c.probes;
  if (!p || p.containerId !== c.current?.id) return undefined;
  const which = p.startup === 'failure' && spec.startupProbe ? 'startup' : p.liveness === 'failure' && spec.livenessProbe ? 'liveness' : undefined;
  if (!which) return undefined;
  const probe = which === 'startup' ? spec.startupProbe! : spec.livenessProbe!;
  const d = kill(rec, c, which === 'startup' ? 'StartupProbeFailed' : 'LivenessProbeFailed');
  const data = d.data as Record<string, unknown>;
  if (probe.terminationGracePeriodSeconds !== undefined) data.gracePeriodSeconds = probe.terminationGracePeriodSeconds;
  data.probe = which;
  data.failures = p.failures[which];
  return d;
}

export function shouldRestart(rec: PodRecord, c: ContainerRecord): boolean {
  if (c.kind === 'sidecar') return true;
  const policy = rec.pod.spec.restartPolicy ?? 'Always';
  if (c.killReason && REPLACING_KILLS.has(c.killReason)) return true;
  if (policy === 'Always') return c.kind === 'app';
  if (policy === 'OnFailure') return (c.current?.exitCode ?? 1) !== 0;
  return false;
}

/** Alive in the runtime (running, or created and not yet started): what a kill must stop. */
const running = (c: ContainerRecord) => c.current !== undefined && c.current.state !== 'exited';
/** Started: a created-but-never-started instance (the agent died between create and start) is started again. */
const started = (c: ContainerRecord) => running(c) && c.current!.state !== 'created';

function specsByName(rec: PodRecord): Map<string, Container> {
  return new Map([...(rec.pod.spec.initContainers ?? []), ...rec.pod.spec.containers].map((c) => [c.name, c]));
}

export function kill(rec: PodRecord, c: ContainerRecord, reason: string): DecisionDraft {
  const spec = specsByName(rec).get(c.name);
  const grace = rec.terminating?.gracePeriodSeconds ?? rec.pod.spec.terminationGracePeriodSeconds ?? 30;
  return {
    type: 'ContainerKilled',
    reason,
    pod: rec.ref,
    data: { name: c.name, containerId: c.current?.id, gracePeriodSeconds: grace, preStop: spec?.lifecycle?.preStop, podIP: rec.sandbox.ip },
  };
}

/** App containers all finished and none will restart: the pod is Succeeded or Failed. */
export function isTerminal(rec: PodRecord): boolean {
  const policy = rec.pod.spec.restartPolicy ?? 'Always';
  if (policy === 'Always') return false;
  const inits = (rec.pod.spec.initContainers ?? []).map((c) => rec.containers[c.name]).filter((c) => c.kind === 'init');
  if (policy === 'Never' && inits.some((c) => c.current?.state === 'exited' && c.current.exitCode !== 0)) return true;
  const apps = rec.pod.spec.containers.map((c) => rec.containers[c.name]);
  return apps.every((c) => c.current?.state === 'exited' && !c.pending && !shouldRestart(rec, c));
}

function stopSandboxOfFinishedPod(rec: PodRecord): DecisionDraft[] {
  const out: DecisionDraft[] = [];
  // Sidecars are stopped once the app containers are done, as upstream.
  for (const c of Object.values(rec.containers)) if (running(c) && !c.pending) out.push(kill(rec, c, 'PodCompleted'));
  if (out.length || Object.values(rec.containers).some((c) => c.pending)) return out;
  if (rec.sandbox.state === 'ready' && rec.sandbox.id && !rec.sandbox.pending) {
    out.push({ type: 'PodSandboxKilled', reason: 'PodCompleted', pod: rec.ref, data: { sandboxId: rec.sandbox.id } });
  }
  return out;
}

function syncTerminating(rec: PodRecord): DecisionDraft[] {
  const t = rec.terminating!;
  const alive = Object.values(rec.containers).filter((c) => running(c) && c.pending?.action !== 'kill');
  if (alive.length) return alive.filter((c) => !c.pending).map((c) => kill(rec, c, t.reason));
  if (Object.values(rec.containers).some((c) => c.pending) || rec.sandbox.pending) return [];
  if ((rec.sandbox.state === 'ready' || rec.sandbox.state === 'notready') && rec.sandbox.id) {
    return [{ type: 'PodSandboxKilled', reason: t.reason, pod: rec.ref, data: { sandboxId: rec.sandbox.id } }];
  }
  // Everything is stopped: unmount before the pod is reported gone.
  if (rec.volumes.pending) return [];
  if (rec.volumes.state === 'ready') {
    return [{ type: 'PodVolumesTearDownRequested', reason: t.reason, pod: rec.ref, data: { plan: volumePlan(rec.pod, '') } }];
  }
  // An API pod marked for deletion is now deleted for good (grace 0).
  if (rec.origin === 'api' && !rec.goneFromSource && rec.pod.metadata.deletionTimestamp && !rec.apiDelete) {
    return [{ type: 'PodObjectDeleteRequested', reason: 'PodTerminated', pod: rec.ref, data: { uid: rec.ref.uid } }];
  }
  if (rec.goneFromSource && !rec.cleanup) {
    return [{ type: 'PodRuntimeCleanupRequested', reason: t.reason, pod: rec.ref, data: { podUid: rec.ref.uid } }];
  }
  return [];
}

export const _forTests = { ms };
