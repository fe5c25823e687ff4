// The pod status the kubelet reports (upstream generateAPIPodStatus / getPhase), computed purely
// from the pod record; transition times come from the previous status or the entry's time.
import { podIPsOf } from './pod-ips.ts';
import type { Container } from '../../model/pod.ts';
import { isTerminal, shouldRestart } from './sync.ts';
import { qosClass } from './qos.ts';
import { inBackoff } from './backoff.ts';
import type { ContainerRecord, PodRecord, RuntimeInstance } from './state.ts';
import type { ContainerStateJson, ContainerStatusJson, PodConditionJson, PodStatus } from './status-types.ts';

const cid = (i: RuntimeInstance) => `containerd://${i.id}`;

/** Upstream MaxPodTerminationMessageLogLength: the pod's messages share 12 KiB (status_manager normalizeStatus). */
const POD_MESSAGE_BYTES = 12 * 1024;

function messageBudget(rec: PodRecord): number {
  const n = rec.pod.spec.containers.length + (rec.pod.spec.initContainers?.length ?? 0);
  return n > 0 ? Math.floor(POD_MESSAGE_BYTES / n) : POD_MESSAGE_BYTES;
}

/** Cut to `bytes` bytes of UTF-8, never inside a character. */
function truncateBytes(text: string, bytes: number): string {
  const b = Buffer.from(text);
  if (b.length <= bytes) return text;
  let end = bytes;
  while (end > 0 && (b[end] & 0xc0) === 0x80) end--;
  return b.subarray(0, end).toString('utf8');
}

function terminated(i: RuntimeInstance, budget: number): ContainerStateJson {
  return {
    terminated: {
      exitCode: i.exitCode ?? 0,
      reason: i.reason || (i.exitCode === 0 ? 'Completed' : 'Error'),
      ...(i.message ? { message: truncateBytes(i.message, budget) } : {}),
      startedAt: i.startedAt,
      finishedAt: i.finishedAt,
      containerID: cid(i),
    },
  };
}

function containerStatus(rec: PodRecord, spec: Container, c: ContainerRecord, at: string): ContainerStatusJson {
  const cur = c.current;
  // A pull that failed and now waits out its backoff shows as ImagePullBackOff, as upstream.
  if (c.waiting?.reason === 'ErrImagePull' && inBackoff(c.pullBackoff, at)) c = { ...c, waiting: { ...c.waiting, reason: 'ImagePullBackOff' } };
  let state: ContainerStateJson;
  let lastState: ContainerStateJson = c.last ? terminated(c.last, messageBudget(rec)) : {};
  // Upstream's default waiting state: PodInitializing for every container of a pod with init containers.
  const notYet = (rec.pod.spec.initContainers?.length ?? 0) > 0 ? 'PodInitializing' : 'ContainerCreating';
  const reason = (r: string | undefined) => (r === undefined || r === 'ContainerCreating' ? notYet : r);
  if (!cur) state = { waiting: { reason: reason(c.waiting?.reason), ...(c.waiting?.message ? { message: c.waiting.message } : {}) } };
  else if (cur.state === 'running') state = { running: { startedAt: cur.startedAt } };
  else if (cur.state === 'created') state = { waiting: { reason: notYet } };
  else if (cur.state === 'exited' && !rec.terminating && shouldRestart(rec, c) && !isTerminal(rec)) {
    // Waiting to be restarted: the dead instance moves to lastState, as upstream shows it.
    state = { waiting: { reason: c.waiting?.reason ?? 'CrashLoopBackOff', ...(c.waiting?.message ? { message: c.waiting.message } : {}) } };
    lastState = terminated(cur, messageBudget(rec));
  } else state = cur.state === 'unknown' ? { waiting: { reason: 'ContainerStatusUnknown' } } : terminated(cur, messageBudget(rec));
  const isRunning = state.running !== undefined;
  const probes = cur && c.probes?.containerId === cur.id ? c.probes : undefined;
  // started: the startup probe (if any) succeeded; ready: started and the readiness probe (if any) succeeded.
  const started = isRunning && (!spec.startupProbe || probes?.startup === 'success');
  // A regular init container is ready once it has completed (upstream prober_manager UpdatePodStatus).
  const ready = c.kind === 'init'
    ? state.terminated?.exitCode === 0
    : started && !rec.terminating && (!spec.readinessProbe || probes?.readiness === 'success');
  return {
    name: spec.name,
    state,
    lastState,
    ready,
    restartCount: c.restartCount,
    image: spec.image ?? '',
    imageID: cur?.imageRef ?? '',
    ...(cur ? { containerID: cid(cur) } : {}),
    started,
  };
}

export function phaseOf(rec: PodRecord, statuses: ContainerStatusJson[], inits: ContainerStatusJson[]): PodStatus['phase'] {
  const policy = rec.pod.spec.restartPolicy ?? 'Always';
  const initRecs = (rec.pod.spec.initContainers ?? []).map((c) => rec.containers[c.name]);
  const initFailedForGood = policy === 'Never' && initRecs.some((c) => c.kind === 'init' && c.current?.state === 'exited' && c.current.exitCode !== 0);
  if (initFailedForGood) return 'Failed';
  const pendingInit = initRecs.some((c) => (c.kind === 'init' ? !(c.current?.state === 'exited' && c.current.exitCode === 0) : c.current?.state !== 'running'));
  if (pendingInit && !inits.every((s) => s.started || s.state.terminated?.exitCode === 0)) return 'Pending';
  let waiting = 0, running = 0, stopped = 0, succeeded = 0;
  for (const s of statuses) {
    if (s.state.running) running++;
    else if (s.state.terminated) { stopped++; if (s.state.terminated.exitCode === 0) succeeded++; }
    else if (s.state.waiting) { if (s.lastState.terminated) { stopped++; if (s.lastState.terminated.exitCode === 0) succeeded++; } else waiting++; }
  }
  if (waiting > 0) return 'Pending';
  if (running > 0) return 'Running';
  if (stopped > 0) {
    if (policy === 'Always') return 'Running';
    if (stopped === succeeded) return 'Succeeded';
    if (policy === 'Never') return 'Failed';
    return 'Running';
  }
  return 'Pending';
}

function cond(prev: PodStatus | undefined, at: string, type: string, ok: boolean, reason?: string, message?: string): PodConditionJson {
  const status = ok ? 'True' : 'False';
  const old = prev?.conditions.find((c) => c.type === type);
  return {
    type,
    status,
    lastTransitionTime: old && old.status === status ? old.lastTransitionTime : at,
    ...(ok || !reason ? {} : { reason }),
    ...(ok || !message ? {} : { message }),
  };
}

/** Upstream's GeneratePodReadyCondition: ready containers, and every readiness gate's condition True. */
function readyCondition(rec: PodRecord, prev: PodStatus | undefined, at: string, containersReady: boolean, terminal: boolean): PodConditionJson {
  if (!containersReady) return cond(prev, at, 'Ready', false, terminal ? 'PodCompleted' : 'ContainersNotReady');
  const seen = rec.pod.status?.conditions ?? [];
  const unready = (rec.pod.spec.readinessGates ?? []).flatMap((g) => {
    const c = seen.find((x) => x.type === g.conditionType);
    if (!c) return [`corresponding condition of pod readiness gate ${JSON.stringify(g.conditionType)} does not exist.`];
    return c.status === 'True' ? [] : [`the status of pod readiness gate ${JSON.stringify(g.conditionType)} is not "True", but ${c.status}`];
  });
  return cond(prev, at, 'Ready', unready.length === 0, 'ReadinessGatesNotReady', unready.join(', '));
}

export function podStatus(rec: PodRecord, at: string, hostIP?: string): PodStatus {
  const prev = rec.lastStatus;
  const inits = (rec.pod.spec.initContainers ?? []).map((s) => containerStatus(rec, s, rec.containers[s.name], at));
  const apps = rec.pod.spec.containers.map((s) => containerStatus(rec, s, rec.containers[s.name], at));
  const failedBy = rec.rejected ?? rec.evicted ?? rec.deadlineExceeded;
  const phase = failedBy ? 'Failed' : phaseOf(rec, apps, inits);
  const initialized = (rec.pod.spec.initContainers ?? []).every((s) => {
    const c = rec.containers[s.name];
    return c.kind === 'sidecar' ? c.current !== undefined : c.current?.state === 'exited' && c.current.exitCode === 0;
  });
  const terminal = phase === 'Succeeded' || phase === 'Failed';
  const containersReady = apps.every((s) => s.ready) && !terminal;
  const sandboxReady = rec.sandbox.state === 'ready' && !rec.terminating;
  const conditions = [
    cond(prev, at, 'PodReadyToStartContainers', sandboxReady),
    cond(prev, at, 'Initialized', initialized, 'ContainersNotInitialized'),
    readyCondition(rec, prev, at, containersReady, terminal),
    cond(prev, at, 'ContainersReady', containersReady, terminal ? 'PodCompleted' : 'ContainersNotReady'),
    cond(prev, at, 'PodScheduled', true),
  ];
  const { podIP: ip, podIPs: ips } = podIPsOf(rec, hostIP);
  return {
    phase,
    conditions,
    containerStatuses: apps,
    initContainerStatuses: inits,
    ...(hostIP ? { hostIP, hostIPs: [{ ip: hostIP }] } : {}),
    ...(ip ? { podIP: ip, podIPs: ips.map((x) => ({ ip: x })) } : {}),
    ...(rec.startTime ? { startTime: rec.startTime } : {}),
    qosClass: qosClass(rec.pod),
    ...(failedBy ? { reason: failedBy.reason, message: failedBy.message } : {}),
  };
}
