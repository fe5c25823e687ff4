// PodVolumesTearDownRequested → every volume of the plan unmounted and removed (the pod reducer
// asks once the sandbox has stopped, and deletes the pod object only after PodVolumesTornDown).
// Nothing is ever removed across a mount point: a directory still mounted fails the teardown.
import { readdir, rm, rmdir } from 'node:fs/promises';
import { removePodHostsFile } from '../../adapters/fs/pod-hosts-file.ts';
import { removeTerminationMessageFiles } from '../../adapters/fs/termination-message.ts';
import { join } from 'node:path';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import type { VolumePlan } from '../../model/volume-plan.ts';
import { systemMounts } from '../../adapters/mount/index.ts';
import { tearDownCsiVolume } from './csi.ts';
import type { VolumeEffectDeps } from './deps.ts';
import { errorMessage, VolumeError } from './errors.ts';
import { podDir, podVolumesDir, volumeDir, volumeKind } from './layout.ts';
import { podOwners, releaseAll } from '../../runtime/secret-values.ts';
import { cleanSubPaths } from './subpaths.ts';

export async function tearDownVolumes(deps: VolumeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { plan } = d.data as { plan: VolumePlan };
  const done: string[] = [];
  // subPath bind mounts hold parts of the volumes: they go first (upstream's CleanSubPaths).
  try {
    await cleanSubPaths(deps.rootDir, plan.podUid);
  } catch (e) {
    return [{ type: 'PodVolumesTearDownFailed', pod: d.pod, data: { volume: 'volume-subpaths', reason: 'FailedUnmount', message: errorMessage(e) } }];
  }
  for (const v of plan.volumes) {
    try {
      await tearDownVolume(deps, plan.podUid, v);
      done.push(v.name);
    } catch (e) {
      return [{ type: 'PodVolumesTearDownFailed', pod: d.pod, data: { volume: v.name, reason: e instanceof VolumeError ? e.reason : 'FailedUnmount', message: errorMessage(e) } }];
    }
  }
  await removeEmptyDirs(deps, plan.podUid);
  // The pod's containers and volumes are gone: its secret values need no scrubbing any more.
  releaseAll(podOwners(plan.podUid));
  return [{ type: 'PodVolumesTornDown', pod: d.pod, data: { volumes: done } }];
}

export async function tearDownVolume(deps: VolumeEffectDeps, podUid: string, v: VolumePlan['volumes'][number]): Promise<void> {
  const mounts = deps.mounts ?? systemMounts;
  const kind = volumeKind(v);
  if (typeof kind !== 'string' || kind === 'hostPath') return;
  if (kind === 'csi' || kind === 'persistentVolumeClaim') return tearDownCsiVolume(deps, podUid, v.name);
  const dir = volumeDir(deps.rootDir, podUid, kind, v.name);
  for (const m of await mounts.mountsUnder(dir)) await mounts.unmount(m.target);
  if ((await mounts.mountsUnder(dir)).length) throw new VolumeError('FailedUnmount', `${dir} is still mounted`);
  await rm(dir, { recursive: true, force: true });
}

/**
 * Removes the pod's now-empty plugin directories and then its pod directory, as upstream does once
 * a pod's volumes are gone (never anything still holding mounts: rmdir only, after the files the
 * agent itself made there for the stopped containers).
 */
async function removeEmptyDirs(deps: VolumeEffectDeps, podUid: string): Promise<void> {
  const base = podVolumesDir(deps.rootDir, podUid);
  for (const p of await readdir(base).catch(() => [] as string[])) await rmdir(join(base, p)).catch(() => undefined);
  await rmdir(base).catch(() => undefined);
  // The containers are gone by now: their hosts file and termination message files go with the volumes.
  await removePodHostsFile(podDir(deps.rootDir, podUid)).catch(() => undefined);
  await removeTerminationMessageFiles(deps.rootDir, podUid);
  await rmdir(podDir(deps.rootDir, podUid)).catch(() => undefined);
}
