// The volume manager's contract. The pod reducer decides `PodVolumesSetUpRequested` {plan}
// before the sandbox starts and `PodVolumesTearDownRequested` {plan} once the pod's containers and
// sandbox are stopped; the volume effects (src/effects/volumes) carry them out and report:
// - `PodVolumesSetUp` {mounts: {<volume name>: {hostPath, readOnly?}}, volumes: VolumeRecord[]}
// - `PodVolumesSetUpFailed` {volume, reason, message}   (the pod waits in ContainerCreating and retries with backoff)
// - `PodVolumesTornDown` {volumes: string[]} / `PodVolumesTearDownFailed` {volume, message}
// and, from the refresh source (configMap/secret/projected updates, token rotation), the
// observation `PodVolumeContentUpdated` {volume, kind, contentHash, resourceVersion?} (source `volumes`).
// Secret and token contents never appear in any of these: names, resource versions and hashes only.
import type { Pod } from './pod.ts';

export interface VolumePlan {
  podUid: string;
  namespace: string;
  podName: string;
  nodeName: string;
  serviceAccountName: string;
  /** The pod's volumes exactly as in its spec (sources reference objects by name only). */
  volumes: NonNullable<Pod['spec']['volumes']>;
  /** For downwardAPI volumes and ownership. */
  labels: Record<string, string>;
  annotations: Record<string, string>;
  fsGroup?: number;
  /** Container resources, for downwardAPI resourceFieldRef items. */
  containers: { name: string; resources?: NonNullable<Pod['spec']['containers'][number]['resources']> }[];
}

export interface VolumeRecord {
  name: string;
  kind: string;
  hostPath: string;
  readOnly?: boolean;
  /** sha256 of the content written (configMap/secret/projected/downwardAPI), never the content. */
  contentHash?: string;
  resourceVersions?: Record<string, string>;
}

export interface MountPoint {
  hostPath: string;
  readOnly?: boolean;
}
