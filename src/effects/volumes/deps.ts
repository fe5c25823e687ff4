// What the volume effects need, injected: the API clients (undefined when standalone), the
// kubelet root directory, the node, the clock, the registered CSI drivers and the mount table.
import type { CsiClient } from '../../adapters/csi/index.ts';
import type { KubeClients } from '../../adapters/kube/connect.ts';
import type { MountOps } from '../../adapters/mount/index.ts';
import type { Clock } from '../../runtime/clock.ts';

export interface RegisteredCsiDriver {
  name: string;
  /** unix socket path of the driver's CSI endpoint */
  endpoint: string;
  nodeId: string;
  /** NodeGetCapabilities: STAGE_UNSTAGE_VOLUME, ... */
  capabilities: string[];
  client: CsiClient;
}

/** The drivers registered through the plugin registration directory (src/streams/csi-plugins.ts). */
export interface CsiDriverLookup {
  driver(name: string): RegisteredCsiDriver | undefined;
}

export interface VolumeEffectDeps {
  /** undefined when running standalone: configMap/secret/token/PVC volumes then fail to set up */
  kube?: KubeClients;
  /** the kubelet root directory (--root-dir) */
  rootDir: string;
  nodeName: string;
  clock: Clock;
  csi?: CsiDriverLookup;
  /** node allocatable (cpu, memory) for downwardAPI limits left unset */
  allocatable?: () => Record<string, string> | undefined;
  /** defaults to the real mount table (src/adapters/mount) */
  mounts?: MountOps;
}
