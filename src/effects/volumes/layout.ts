// Where volumes live on disk, as upstream lays them out under the kubelet's root directory:
//   <root>/pods/<uid>/volumes/kubernetes.io~<plugin>/<name>             emptyDir, configMap, secret, ...
//   <root>/pods/<uid>/volumes/kubernetes.io~csi/<name>/mount            a CSI volume's publish target
//   <root>/pods/<uid>/volumes/kubernetes.io~csi/<name>/vol_data.json    what teardown needs to know
//   <root>/plugins/kubernetes.io/csi/<driver>/<sha256(volumeHandle)>/globalmount   CSI staging path
//   <root>/plugins_registry                                              plugin registration sockets
import { createHash } from 'node:crypto';
import { join } from 'node:path';

export type VolumeKind = 'emptyDir' | 'hostPath' | 'configMap' | 'secret' | 'downwardAPI' | 'projected' | 'csi' | 'persistentVolumeClaim';

/** The upstream plugin directory name of each kind (a PVC's is its PV's: CSI here). */
export const PLUGIN_DIR: Record<Exclude<VolumeKind, 'hostPath'>, string> = {
  emptyDir: 'kubernetes.io~empty-dir',
  configMap: 'kubernetes.io~configmap',
  secret: 'kubernetes.io~secret',
  downwardAPI: 'kubernetes.io~downward-api',
  projected: 'kubernetes.io~projected',
  csi: 'kubernetes.io~csi',
  persistentVolumeClaim: 'kubernetes.io~csi',
};

const KINDS: VolumeKind[] = ['emptyDir', 'hostPath', 'configMap', 'secret', 'downwardAPI', 'projected', 'csi', 'persistentVolumeClaim'];

/** Which source a volume uses (the first known key that is set), or the unknown key it has. */
export function volumeKind(v: Record<string, unknown>): VolumeKind | { unsupported: string } {
  for (const k of KINDS) if (v[k] !== undefined && v[k] !== null) return k;
  const other = Object.keys(v).find((k) => k !== 'name');
  return { unsupported: other ?? 'none' };
}

export const podDir = (root: string, uid: string) => join(root, 'pods', uid);
export const podVolumesDir = (root: string, uid: string) => join(podDir(root, uid), 'volumes');

export function volumeDir(root: string, uid: string, kind: Exclude<VolumeKind, 'hostPath'>, name: string): string {
  return join(podVolumesDir(root, uid), PLUGIN_DIR[kind], name);
}

/** The CSI publish target (what the containers bind-mount). */
export const csiMountDir = (root: string, uid: string, name: string) => join(volumeDir(root, uid, 'csi', name), 'mount');
export const csiVolDataFile = (root: string, uid: string, name: string) => join(volumeDir(root, uid, 'csi', name), 'vol_data.json');

/** Upstream: sha256 of the volume handle names the staging directory of a (driver, volume). */
export function csiStagingDir(root: string, driver: string, volumeHandle: string): string {
  return join(root, 'plugins', 'kubernetes.io', 'csi', driver, createHash('sha256').update(volumeHandle).digest('hex'), 'globalmount');
}

export const pluginsRegistryDir = (root: string) => join(root, 'plugins_registry');

/** Where a container's subPath mounts are bind-mounted before the runtime gets them (upstream's layout). */
export const podSubPathsDir = (root: string, uid: string) => join(podDir(root, uid), 'volume-subpaths');
export const subPathTarget = (root: string, uid: string, volume: string, container: string, index: number) =>
  join(podSubPathsDir(root, uid), volume, container, String(index));
