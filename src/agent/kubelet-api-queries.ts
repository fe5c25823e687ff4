// Read-only questions the kubelet API asks of the pods state: which pod a namespace/name means,
// which container instance `kubectl logs [--previous]` reads, and the pods list of GET /pods.
import type { ContainerRecord, PodRecord, PodsState } from '../reducers/pods/state.ts';

/** The newest record for namespace/name (a re-created pod keeps its name, not its uid). */
export function findPod(s: PodsState, namespace: string, name: string): PodRecord | undefined {
  let best: PodRecord | undefined;
  for (const rec of Object.values(s.pods)) {
    if (rec.ref.namespace !== namespace || rec.ref.name !== name) continue;
    if (!best || rec.firstSeenAt > best.firstSeenAt) best = rec;
  }
  return best;
}

type Refusal = { ok: false; status: 400 | 404; message: string };
export type LogTarget = { ok: true; containerId: string; running: boolean } | Refusal;

/** The named container of the pod, or upstream's message for a missing pod or container. */
function containerOf(rec: PodRecord | undefined, podName: string, container: string): { ok: true; c: ContainerRecord } | Refusal {
  if (!rec) return { ok: false, status: 404, message: `pod "${podName}" not found` };
  const c = rec.containers[container];
  return c ? { ok: true, c } : { ok: false, status: 400, message: `container ${container} is not valid for pod ${podName}` };
}

/**
 * Upstream's choice: the current instance (running or exited), else the last terminated one
 * (a container waiting to restart shows its last run); --previous asks for the last one only.
 */
export function logTarget(rec: PodRecord | undefined, podName: string, container: string, previous: boolean): LogTarget {
  const found = containerOf(rec, podName, container);
  if (!found.ok) return found;
  const c = found.c;
  if (previous) {
    return c.last ? { ok: true, containerId: c.last.id, running: false } : { ok: false, status: 400, message: `previous terminated container "${container}" in pod "${podName}" not found` };
  }
  const inst = c.current ?? c.last;
  if (!inst) return { ok: false, status: 400, message: `container "${container}" in pod "${podName}" is waiting to start: ${c.waiting?.reason ?? 'ContainerCreating'}` };
  return { ok: true, containerId: inst.id, running: inst.state === 'running' };
}

/** Whether a container instance is still the running one (follow stops when it is not). */
export function stillRunning(s: PodsState, uid: string, container: string, containerId: string): boolean {
  const cur = s.pods[uid]?.containers[container]?.current;
  return cur?.id === containerId && cur.state === 'running';
}

/** GET /pods: the pods bound to this node as the agent sees them, with the status it last reported. */
export function podList(s: PodsState): { kind: 'PodList'; apiVersion: 'v1'; metadata: object; items: object[] } {
  return {
    kind: 'PodList',
    apiVersion: 'v1',
    metadata: {},
    items: Object.values(s.pods).map((rec) => ({ ...rec.pod, ...(rec.lastStatus ? { status: rec.lastStatus } : {}) })),
  };
}

export type StreamTarget = { ok: true; id: string } | Refusal;

/** exec and attach need the running instance of the container. */
export function runningContainer(rec: PodRecord | undefined, podName: string, container: string): StreamTarget {
  const found = containerOf(rec, podName, container);
  if (!found.ok) return found;
  const c = found.c;
  if (c.current?.state !== 'running') return { ok: false, status: 400, message: `container "${container}" in pod "${podName}" is not running` };
  return { ok: true, id: c.current.id };
}

/** port-forward goes to the pod's ready sandbox. */
export function readySandbox(rec: PodRecord | undefined, podName: string): StreamTarget {
  if (!rec) return { ok: false, status: 404, message: `pod "${podName}" not found` };
  if (rec.sandbox.state !== 'ready' || !rec.sandbox.id) return { ok: false, status: 400, message: `pod "${podName}" has no running sandbox` };
  return { ok: true, id: rec.sandbox.id };
}

/** The runtime id and image of each running container, by `<pod uid>/<container>`. */
export function runningContainers(pods: PodsState): Map<string, { id: string; image: string }> {
  const out = new Map<string, { id: string; image: string }>();
  for (const rec of Object.values(pods.pods)) {
    for (const c of Object.values(rec.containers)) if (c.current?.state === 'running') out.set(`${rec.ref.uid}/${c.name}`, { id: c.current.id, image: c.current.image ?? '' });
  }
  return out;
}
