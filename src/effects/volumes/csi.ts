// CSI volumes, as upstream's csi plugin: a PVC bound to a CSI PersistentVolume is staged once per
// node (NodeStageVolume to <root>/plugins/kubernetes.io/csi/<driver>/<sha256(handle)>/globalmount,
// when the driver has STAGE_UNSTAGE_VOLUME) and published into each pod (NodePublishVolume to
// <pod volumes>/kubernetes.io~csi/<name>/mount); an inline volume (pod.spec.volumes[].csi) is an
// ephemeral volume: published only, with csi.storage.k8s.io/ephemeral=true in its context.
// Teardown unpublishes, and unstages when no other pod on the node still uses the volume.
// vol_data.json beside the mount keeps what teardown needs, so it works without the API server.
import { createHash } from 'node:crypto';
import { mkdir, readdir, readFile, rm, rmdir, writeFile } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import type { AccessMode, VolumeCapability } from '../../adapters/csi/index.ts';
import { getCsiDriver, getPersistentVolume, getPersistentVolumeClaim } from '../../adapters/kube/csi-objects.ts';
import { isNotFound } from '../../adapters/kube/errors.ts';
import { getSecret } from '../../adapters/kube/volume-sources.ts';
import { register, volumeOwner } from '../../runtime/secret-values.ts';
import { systemMounts } from '../../adapters/mount/index.ts';
import type { VolumePlan } from '../../model/volume-plan.ts';
import type { RegisteredCsiDriver, VolumeEffectDeps } from './deps.ts';
import { errorMessage, VolumeError } from './errors.ts';
import { csiMountDir, csiStagingDir, csiVolDataFile, podVolumesDir, PLUGIN_DIR } from './layout.ts';
import { setVolumeOwnership } from './ownership.ts';
import { CsiSource, decodeSource, PvcSource } from './sources.ts';
import type { SetUpResult } from './setup.ts';

type Vol = VolumePlan['volumes'][number];

export interface VolData {
  driverName: string;
  volumeHandle: string;
  specVolID: string;
  volumeLifecycleMode: 'Persistent' | 'Ephemeral';
  podUID: string;
  readOnly: boolean;
  stagingPath?: string;
  pvName?: string;
}

export const STAGE_UNSTAGE = 'STAGE_UNSTAGE_VOLUME';

const ACCESS: Record<string, AccessMode> = {
  ReadWriteOnce: 'SINGLE_NODE_WRITER',
  ReadOnlyMany: 'MULTI_NODE_READER_ONLY',
  ReadWriteMany: 'MULTI_NODE_MULTI_WRITER',
  ReadWriteOncePod: 'SINGLE_NODE_WRITER',
};

/** Upstream's handle of an inline ephemeral volume: csi-<sha256(pod uid + volume name)>. */
export const ephemeralHandle = (podUid: string, name: string) => `csi-${createHash('sha256').update(podUid + name).digest('hex')}`;

function registered(deps: VolumeEffectDeps, driver: string): RegisteredCsiDriver {
  const d = deps.csi?.driver(driver);
  if (!d) throw new VolumeError('FailedMount', `kubernetes.io/csi: driver name ${driver} not found in the list of registered CSI drivers`);
  return d;
}

interface DriverPolicy {
  podInfoOnMount: boolean;
  fsGroupPolicy: string;
  modes: string[];
}

async function driverPolicy(deps: VolumeEffectDeps, driver: string): Promise<DriverPolicy> {
  const def: DriverPolicy = { podInfoOnMount: false, fsGroupPolicy: 'ReadWriteOnceWithFSType', modes: ['Persistent'] };
  if (!deps.kube) return def;
  try {
    const o = await getCsiDriver(deps.kube, driver);
    return { podInfoOnMount: o.spec?.podInfoOnMount ?? false, fsGroupPolicy: o.spec?.fsGroupPolicy ?? def.fsGroupPolicy, modes: o.spec?.volumeLifecycleModes ?? def.modes };
  } catch (e) {
    if (isNotFound(e)) return def; // upstream: no CSIDriver object means the defaults
    throw new VolumeError('FailedMount', `cannot read CSIDriver ${driver}: ${errorMessage(e)}`);
  }
}

function podInfo(plan: VolumePlan, ephemeral: boolean): Record<string, string> {
  return {
    'csi.storage.k8s.io/pod.name': plan.podName,
    'csi.storage.k8s.io/pod.namespace': plan.namespace,
    'csi.storage.k8s.io/pod.uid': plan.podUid,
    'csi.storage.k8s.io/serviceAccount.name': plan.serviceAccountName,
    'csi.storage.k8s.io/ephemeral': String(ephemeral),
  };
}

/** A CSI secret's values, registered under `owner` for scrubbing (drivers may echo them in errors). */
async function secretsOf(deps: VolumeEffectDeps, namespace: string, ref: { name?: string; namespace?: string } | undefined, owner: string): Promise<Record<string, string> | undefined> {
  if (!ref?.name) return undefined;
  if (!deps.kube) throw new VolumeError('FailedMount', 'cannot read the CSI secret: the agent runs standalone');
  try {
    const s = await getSecret(deps.kube, ref.namespace ?? namespace, ref.name);
    const values = Object.fromEntries(Object.entries(s.data ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));
    register(owner, Object.values(values));
    return values;
  } catch (e) {
    throw new VolumeError('FailedMount', isNotFound(e) ? `secret "${ref.name}" not found` : `cannot read secret "${ref.name}": ${errorMessage(e)}`);
  }
}

export async function setUpCsiVolume(deps: VolumeEffectDeps, plan: VolumePlan, v: Vol, kind: 'csi' | 'persistentVolumeClaim'): Promise<SetUpResult> {
  const target = csiMountDir(deps.rootDir, plan.podUid, v.name);
  let driverName: string;
  let handle: string;
  let readOnly: boolean;
  let context: Record<string, string>;
  let capability: VolumeCapability;
  let secrets: Record<string, string> | undefined;
  let pvName: string | undefined;
  let fsType = '';
  let accessMode: AccessMode = 'SINGLE_NODE_WRITER';
  if (kind === 'persistentVolumeClaim') {
    const src = decodeSource(PvcSource, v.persistentVolumeClaim, 'persistentVolumeClaim');
    if (!deps.kube) throw new VolumeError('FailedMount', `cannot set up persistentvolumeclaim "${src.claimName}": the agent runs standalone`);
    let pvc;
    try {
      pvc = await getPersistentVolumeClaim(deps.kube, plan.namespace, src.claimName);
    } catch (e) {
      throw new VolumeError('FailedMount', isNotFound(e) ? `persistentvolumeclaim "${src.claimName}" not found` : `cannot read persistentvolumeclaim "${src.claimName}": ${errorMessage(e)}`);
    }
    pvName = pvc.spec?.volumeName;
    if (!pvName || pvc.status?.phase !== 'Bound') throw new VolumeError('FailedMount', `persistentvolumeclaim "${src.claimName}" is not bound`);
    let pv;
    try {
      pv = await getPersistentVolume(deps.kube, pvName);
    } catch (e) {
      throw new VolumeError('FailedMount', isNotFound(e) ? `persistentvolume "${pvName}" not found` : `cannot read persistentvolume "${pvName}": ${errorMessage(e)}`);
    }
    const csi = pv.spec?.csi;
    if (!csi) throw new VolumeError('FailedMount', `persistentvolume "${pvName}" is not a CSI volume (only CSI persistent volumes are supported)`);
    driverName = csi.driver;
    handle = csi.volumeHandle;
    readOnly = (src.readOnly ?? false) || (csi.readOnly ?? false);
    fsType = csi.fsType ?? '';
    accessMode = ACCESS[pv.spec?.accessModes?.[0] ?? 'ReadWriteOnce'] ?? 'SINGLE_NODE_WRITER';
    capability = { mount: { fsType, mountFlags: pv.spec?.mountOptions ?? [] }, accessMode: { mode: accessMode } };
    context = { ...(csi.volumeAttributes ?? {}) };
    secrets = await secretsOf(deps, plan.namespace, csi.nodePublishSecretRef, volumeOwner(plan.podUid, v.name));
    const driver = registered(deps, driverName);
    const policy = await driverPolicy(deps, driverName);
    if (policy.podInfoOnMount) Object.assign(context, podInfo(plan, false));
    let stagingPath: string | undefined;
    if (driver.capabilities.includes(STAGE_UNSTAGE)) {
      stagingPath = csiStagingDir(deps.rootDir, driverName, handle);
      await mkdir(stagingPath, { recursive: true, mode: 0o750 });
      const stageSecrets = await secretsOf(deps, plan.namespace, csi.nodeStageSecretRef, volumeOwner(plan.podUid, v.name));
      try {
        await driver.client.nodeStageVolume({ volumeId: handle, stagingTargetPath: stagingPath, volumeCapability: capability, volumeContext: { ...(csi.volumeAttributes ?? {}) }, ...(stageSecrets ? { secrets: stageSecrets } : {}) });
      } catch (e) {
        throw new VolumeError('FailedMount', `MountDevice failed: rpc error: NodeStageVolume ${driverName} ${handle}: ${errorMessage(e)}`);
      }
    }
    await publish(deps, plan, v, driver, { driverName, volumeHandle: handle, specVolID: pvName, volumeLifecycleMode: 'Persistent', podUID: plan.podUid, readOnly, stagingPath, pvName }, target, capability, context, secrets);
    await ownership(plan, target, policy, readOnly, fsType, accessMode);
    return { mount: { hostPath: target, ...(readOnly ? { readOnly } : {}) }, record: { name: v.name, kind: 'csi', hostPath: target, ...(readOnly ? { readOnly } : {}) } };
  }
  // inline (ephemeral)
  const src = decodeSource(CsiSource, v.csi, 'csi');
  driverName = src.driver;
  handle = ephemeralHandle(plan.podUid, v.name);
  readOnly = src.readOnly ?? false;
  fsType = src.fsType ?? '';
  capability = { mount: { fsType, mountFlags: [] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } };
  const driver = registered(deps, driverName);
  const policy = await driverPolicy(deps, driverName);
  if (!policy.modes.includes('Ephemeral')) throw new VolumeError('FailedMount', `CSI driver ${driverName} does not support inline ephemeral volumes (CSIDriver volumeLifecycleModes: ${policy.modes.join(',')})`);
  context = { ...(src.volumeAttributes ?? {}), ...(policy.podInfoOnMount ? podInfo(plan, true) : {}), 'csi.storage.k8s.io/ephemeral': 'true' };
  secrets = await secretsOf(deps, plan.namespace, src.nodePublishSecretRef, volumeOwner(plan.podUid, v.name));
  await publish(deps, plan, v, driver, { driverName, volumeHandle: handle, specVolID: v.name, volumeLifecycleMode: 'Ephemeral', podUID: plan.podUid, readOnly }, target, capability, context, secrets);
  await ownership(plan, target, policy, readOnly, fsType, 'SINGLE_NODE_WRITER');
  return { mount: { hostPath: target, ...(readOnly ? { readOnly } : {}) }, record: { name: v.name, kind: 'csi', hostPath: target, ...(readOnly ? { readOnly } : {}) } };
}

async function publish(deps: VolumeEffectDeps, plan: VolumePlan, v: Vol, driver: RegisteredCsiDriver, data: VolData, target: string, capability: VolumeCapability, context: Record<string, string>, secrets: Record<string, string> | undefined): Promise<void> {
  await mkdir(dirname(target), { recursive: true, mode: 0o750 });
  await writeFile(csiVolDataFile(deps.rootDir, plan.podUid, v.name), JSON.stringify(data, null, 2), { mode: 0o644 });
  try {
    await driver.client.nodePublishVolume({
      volumeId: data.volumeHandle,
      ...(data.stagingPath ? { stagingTargetPath: data.stagingPath } : {}),
      targetPath: target,
      volumeCapability: capability,
      readonly: data.readOnly,
      volumeContext: context,
      ...(secrets ? { secrets } : {}),
    });
  } catch (e) {
    throw new VolumeError('FailedMount', `MountVolume.SetUp failed: rpc error: NodePublishVolume ${data.driverName} ${data.volumeHandle}: ${errorMessage(e)}`);
  }
}

/** Upstream: fsGroupPolicy File always, ReadWriteOnceWithFSType only with an fsType and RWO. */
async function ownership(plan: VolumePlan, target: string, policy: DriverPolicy, readOnly: boolean, fsType: string, mode: AccessMode): Promise<void> {
  if (plan.fsGroup === undefined || readOnly) return;
  const apply = policy.fsGroupPolicy === 'File' || (policy.fsGroupPolicy === 'ReadWriteOnceWithFSType' && fsType !== '' && mode === 'SINGLE_NODE_WRITER');
  if (apply) await setVolumeOwnership(target, plan.fsGroup, false);
}

async function readVolData(file: string): Promise<VolData | undefined> {
  try {
    return JSON.parse(await readFile(file, 'utf8')) as VolData;
  } catch {
    return undefined;
  }
}

/** Other pods on this node whose CSI volumes use (driver, handle), from their vol_data.json. */
async function otherUsers(root: string, podUid: string, data: VolData): Promise<string[]> {
  const out: string[] = [];
  const pods = await readdir(join(root, 'pods')).catch(() => [] as string[]);
  for (const uid of pods) {
    if (uid === podUid) continue;
    const base = join(podVolumesDir(root, uid), PLUGIN_DIR.csi);
    for (const name of await readdir(base).catch(() => [] as string[])) {
      const o = await readVolData(join(base, name, 'vol_data.json'));
      if (o && o.driverName === data.driverName && o.volumeHandle === data.volumeHandle) out.push(uid);
    }
  }
  return out;
}

export async function tearDownCsiVolume(deps: VolumeEffectDeps, podUid: string, name: string): Promise<void> {
  const mounts = deps.mounts ?? systemMounts;
  const file = csiVolDataFile(deps.rootDir, podUid, name);
  const target = csiMountDir(deps.rootDir, podUid, name);
  const data = await readVolData(file);
  if (!data) {
    // never set up (or already torn down): nothing mounted is left behind
    if (await mounts.isMountPoint(target)) throw new VolumeError('FailedUnmount', `${target} is mounted but has no vol_data.json`);
    await rm(dirname(target), { recursive: true, force: true });
    return;
  }
  const driver = registered(deps, data.driverName);
  try {
    await driver.client.nodeUnpublishVolume({ volumeId: data.volumeHandle, targetPath: target });
  } catch (e) {
    throw new VolumeError('FailedUnmount', `UnmountVolume.TearDown failed: rpc error: NodeUnpublishVolume ${data.driverName} ${data.volumeHandle}: ${errorMessage(e)}`);
  }
  if (await mounts.isMountPoint(target)) throw new VolumeError('FailedUnmount', `${target} is still mounted after NodeUnpublishVolume`);
  await rmdir(target).catch(() => undefined);
  if (data.stagingPath && (await otherUsers(deps.rootDir, podUid, data)).length === 0) {
    try {
      await driver.client.nodeUnstageVolume({ volumeId: data.volumeHandle, stagingTargetPath: data.stagingPath });
    } catch (e) {
      throw new VolumeError('FailedUnmount', `UnmountDevice failed: rpc error: NodeUnstageVolume ${data.driverName} ${data.volumeHandle}: ${errorMessage(e)}`);
    }
    if (await mounts.isMountPoint(data.stagingPath)) throw new VolumeError('FailedUnmount', `${data.stagingPath} is still mounted after NodeUnstageVolume`);
    await rmdir(data.stagingPath).catch(() => undefined);
    await rmdir(dirname(data.stagingPath)).catch(() => undefined);
  }
  await rm(file, { force: true });
  await rmdir(dirname(target)).catch(() => undefined);
}
