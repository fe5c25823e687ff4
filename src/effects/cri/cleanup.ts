// Removing a pod's runtime objects once it is gone for good, and killing pods nobody asked for.
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import { Labels } from '../../model/runtime-observations.ts';
import type { RuntimeCleanupFailed, RuntimeObjectNotRemoved } from '../../model/runtime-cleanup.ts';
import type { RuntimeEffectDeps } from './deps.ts';
import { releasePullCredentials } from './image-pull.ts';
import { removePodFiles } from './hosts-file.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

async function removeAllOf(deps: RuntimeEffectDeps, podUid: string, stopTimeoutSeconds: number) {
  const notRemoved: RuntimeObjectNotRemoved[] = [];
  const containers = await deps.cri.listContainers({ labelSelector: { [Labels.podUid]: podUid } });
  for (const c of containers) {
    if (c.state === 'CONTAINER_RUNNING') await deps.cri.stopContainer(c.id, stopTimeoutSeconds).catch(() => undefined);
    // No CRI call frees a container whose start was cut short on containerd 1.6 (its task stays
    // CREATED, StopContainer of an exited container does nothing): it is reported, not believed gone.
    await deps.cri.removeContainer(c.id).catch((e: unknown) => notRemoved.push({ kind: 'container', id: c.id, error: message(e) }));
  }
  const sandboxes = await deps.cri.listPodSandbox({ labelSelector: { [Labels.podUid]: podUid } });
  for (const s of sandboxes) {
    await deps.cri.stopPodSandbox(s.id).catch(() => undefined);
    await deps.cri.removePodSandbox(s.id).catch((e: unknown) => notRemoved.push({ kind: 'sandbox', id: s.id, error: message(e) }));
  }
  return { containers: containers.map((c) => c.id), sandboxes: sandboxes.map((s) => s.id), notRemoved };
}

/** The failure outcome's data: what is still on the runtime, and why. */
function failure(podUid: string, notRemoved: RuntimeObjectNotRemoved[]): RuntimeCleanupFailed {
  const error = notRemoved.map((o) => `${o.kind} ${o.id}: ${o.error}`).join('; ');
  return { podUid, error: `not removed: ${error}`, notRemoved };
}

export async function cleanupPod(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { podUid } = d.data as { podUid: string };
  releasePullCredentials(podUid);
  try {
    const removed = await removeAllOf(deps, podUid, 2);
    await removePodFiles(deps.rootDir, podUid);
    if (removed.notRemoved.length) return [{ type: 'PodRuntimeCleanupFailed', pod: d.pod, data: failure(podUid, removed.notRemoved) }];
    return [{ type: 'PodRuntimeCleanedUp', pod: d.pod, data: { podUid, removedContainers: removed.containers.length, removedSandboxes: removed.sandboxes.length } }];
  } catch (e) {
    return [{ type: 'PodRuntimeCleanupFailed', pod: d.pod, data: { podUid, error: message(e) } satisfies RuntimeCleanupFailed }];
  }
}

export async function killOrphan(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { podUid } = d.data as { podUid: string };
  releasePullCredentials(podUid);
  try {
    const removed = await removeAllOf(deps, podUid, 30);
    await removePodFiles(deps.rootDir, podUid);
    if (removed.notRemoved.length) return [{ type: 'OrphanRemoveFailed', data: failure(podUid, removed.notRemoved) }];
    return [{ type: 'OrphanRemoved', data: { podUid, containers: removed.containers, sandboxes: removed.sandboxes } }];
  } catch (e) {
    return [{ type: 'OrphanRemoveFailed', data: { podUid, error: message(e) } satisfies RuntimeCleanupFailed }];
  }
}
