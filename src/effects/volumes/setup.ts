// PodVolumesSetUpRequested → every volume of the plan set up, in spec order; the first that
// cannot be set up fails the whole request with a readable message (the pod reducer retries with
// backoff). Idempotent: what already exists is found and kept (mount points, unchanged payloads).
import { mkdir, chmod } from 'node:fs/promises';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import { parseQuantity } from '../../model/quantity.ts';
import type { MountPoint, VolumePlan, VolumeRecord } from '../../model/volume-plan.ts';
import { systemMounts } from '../../adapters/mount/index.ts';
import { writeAtomic, type Payload } from './atomic-writer.ts';
import { setUpCsiVolume } from './csi.ts';
import type { VolumeEffectDeps } from './deps.ts';
import { errorMessage, VolumeError } from './errors.ts';
import { checkHostPath } from './host-path.ts';
import { podDir, volumeDir, volumeKind } from './layout.ts';
import { ensurePodDirs } from '../../adapters/fs/private-dirs.ts';
import { setVolumeOwnership } from './ownership.ts';
import * as S from './sources.ts';
import { tokenDue, tokenOnDisk } from './token.ts';
import { replace, volumeOwner } from '../../runtime/secret-values.ts';

type Vol = VolumePlan['volumes'][number];

export interface SetUpResult {
  mount: MountPoint;
  record: VolumeRecord;
}

export async function setUpVolumes(deps: VolumeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { plan } = d.data as { plan: VolumePlan };
  const mounts: Record<string, MountPoint> = {};
  const volumes: VolumeRecord[] = [];
  for (const v of plan.volumes) {
    try {
      await ensurePodDirs(podDir(deps.rootDir, plan.podUid));
      const r = await setUpVolume(deps, plan, v);
      mounts[v.name] = r.mount;
      volumes.push(r.record);
    } catch (e) {
      const reason = e instanceof VolumeError ? e.reason : 'FailedMount';
      return [{ type: 'PodVolumesSetUpFailed', pod: d.pod, data: { volume: v.name, reason, message: errorMessage(e) } }];
    }
  }
  return [{ type: 'PodVolumesSetUp', pod: d.pod, data: { mounts, volumes } }];
}

/** Builds the payload of an atomic-writer volume (configMap, secret, downwardAPI, projected); its secret and token contents become what the volume holds for scrubbing (every log line). */
export async function buildPayload(deps: VolumeEffectDeps, plan: VolumePlan, v: Vol, dir: string, now: Date): Promise<S.Built> {
  const built = await buildContents(deps, plan, v, dir, now);
  replace(volumeOwner(plan.podUid, v.name), built.secretValues);
  return built;
}

async function buildContents(deps: VolumeEffectDeps, plan: VolumePlan, v: Vol, dir: string, now: Date): Promise<S.Built> {
  const kind = volumeKind(v);
  const gid = plan.fsGroup;
  const alloc = deps.allocatable?.();
  switch (kind) {
    case 'configMap': {
      const src = S.decodeSource(S.ConfigMapSource, v.configMap, 'configMap');
      return S.configMapPayload(deps.kube, plan.namespace, src, src.defaultMode ?? 0o644, gid);
    }
    case 'secret': {
      const src = S.decodeSource(S.SecretSource, v.secret, 'secret');
      return S.secretPayload(deps.kube, plan.namespace, { name: src.secretName, items: src.items, optional: src.optional }, src.defaultMode ?? 0o644, gid);
    }
    case 'downwardAPI': {
      const src = S.decodeSource(S.DownwardAPISource, v.downwardAPI, 'downwardAPI');
      return S.downwardPayload(plan, src.items ?? [], src.defaultMode ?? 0o644, alloc, gid);
    }
    case 'projected': {
      const src = S.decodeSource(S.ProjectedSource, v.projected, 'projected');
      const keep = new Map<string, Buffer>();
      for (const s of src.sources ?? []) {
        if (!s.serviceAccountToken) continue;
        const have = await tokenOnDisk(dir, s.serviceAccountToken.path);
        if (have && !tokenDue(have, now)) keep.set(s.serviceAccountToken.path, have);
      }
      return S.projectedPayload(deps.kube, plan, src, alloc, gid, (p) => keep.get(p.path));
    }
    default:
      throw new Error(`volume ${v.name} is not an atomic-writer volume`);
  }
}

/** secret, projected and downwardAPI volumes are tmpfs-backed as upstream; configMap is on disk. */
const TMPFS_KINDS = new Set(['secret', 'projected', 'downwardAPI']);

export async function setUpVolume(deps: VolumeEffectDeps, plan: VolumePlan, v: Vol): Promise<SetUpResult> {
  const mounts = deps.mounts ?? systemMounts;
  const kind = volumeKind(v);
  if (typeof kind !== 'string') throw new VolumeError('FailedMount', `unsupported volume type ${kind.unsupported} for volume ${v.name}`);
  switch (kind) {
    case 'hostPath': {
      const src = S.decodeSource(S.HostPathSource, v.hostPath, 'hostPath');
      await checkHostPath(src.path, src.type);
      return { mount: { hostPath: src.path }, record: { name: v.name, kind, hostPath: src.path } };
    }
    case 'emptyDir': {
      const src = S.decodeSource(S.EmptyDirSource, v.emptyDir, 'emptyDir');
      const dir = volumeDir(deps.rootDir, plan.podUid, 'emptyDir', v.name);
      await mkdir(dir, { recursive: true, mode: 0o777 });
      if (src.medium === 'Memory') {
        const size = src.sizeLimit !== undefined ? parseQuantity(String(src.sizeLimit)) : undefined;
        await mounts.mountTmpfs(dir, { sizeBytes: size, mode: 0o777 });
      } else if (src.medium && src.medium !== '') {
        throw new VolumeError('FailedMount', `emptyDir medium ${src.medium} is not supported`);
      }
      await chmod(dir, 0o777);
      if (plan.fsGroup !== undefined) await setVolumeOwnership(dir, plan.fsGroup, false);
      return { mount: { hostPath: dir }, record: { name: v.name, kind, hostPath: dir } };
    }
    case 'configMap':
    case 'secret':
    case 'downwardAPI':
    case 'projected': {
      const dir = volumeDir(deps.rootDir, plan.podUid, kind, v.name);
      await mkdir(dir, { recursive: true, mode: 0o755 });
      if (TMPFS_KINDS.has(kind)) await mounts.mountTmpfs(dir, { mode: 0o755 });
      const now = deps.clock.now();
      const built = await buildPayload(deps, plan, v, dir, now);
      const w = await writeVolume(dir, built.payload, now, plan.fsGroup);
      return {
        mount: { hostPath: dir, readOnly: true },
        record: { name: v.name, kind, hostPath: dir, readOnly: true, contentHash: w.contentHash, ...(Object.keys(built.resourceVersions).length ? { resourceVersions: built.resourceVersions } : {}) },
      };
    }
    case 'csi':
    case 'persistentVolumeClaim':
      return setUpCsiVolume(deps, plan, v, kind);
  }
}

/** Atomic write; fsGroup ownership comes with the payload (each file's gid). */
export async function writeVolume(dir: string, payload: Payload, now: Date, fsGroup?: number) {
  const w = await writeAtomic(dir, payload, now);
  if (fsGroup !== undefined && w.changed) {
    // an empty payload (optional object missing) still gets a group-owned directory
    await setVolumeOwnership(dir, fsGroup, true).catch(() => undefined);
  }
  return w;
}
