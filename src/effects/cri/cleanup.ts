// Removing a pod's runtime objects once it is gone for good, and killing pods nobody asked for.
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import { Labels } from '../../model/runtime-observations.ts';
import type { RuntimeEffectDeps } from './deps.ts';
import { releasePullCredentials } from './image-pull.ts';

async function removeAllOf(deps: RuntimeEffectDeps, podUid: string, stopTimeoutSeconds: number) {
  const containers = await deps.cri.listContainers({ labelSelector: { [Labels.podUid]: podUid } });
  for (const c of containers) {
    if (c.state === 'CONTAINER_RUNNING') await deps.cri.stopContainer(c.id, stopTimeoutSeconds).catch(() => undefined);
    await deps.cri.removeContainer(c.id).catch(() => undefined);
  }
  const sandboxes = await deps.cri.listPodSandbox({ labelSelector: { [Labels.podUid]: podUid } });
  for (const s of sandboxes) {
    await deps.cri.stopPodSandbox(s.id).catch(() => undefined);
    await deps.cri.removePodSandbox(s.id).catch(() => undefined);
  }
  return { containers: containers.map((c) => c.id), sandboxes: sandboxes.map((s) => s.id) };
}

export async function cleanupPod(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { podUid } = d.data as { podUid: string };
  releasePullCredentials(podUid);
  try {
    const removed = await removeAllOf(deps, podUid, 2);
    return [{ type: 'PodRuntimeCleanedUp', pod: d.pod, data: { podUid, removedContainers: removed.containers.length, removedSandboxes: removed.sandboxes.length } }];
  } catch (e) {
    return [{ type: 'PodRuntimeCleanupFailed', pod: d.pod, data: { podUid, error: (e as Error).message } }];
  }
}

export async function killOrphan(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { podUid } = d.data as { podUid: string };
  releasePullCredentials(podUid);
  try {
    const removed = await removeAllOf(deps, podUid, 30);
    return [{ type: 'OrphanRemoved', data: { podUid, ...removed } }];
  } catch (e) {
    return [{ type: 'OrphanRemoveFailed', data: { podUid, error: (e as Error).message } }];
  }
}
