// Storage objects the volume manager reads and writes: PVCs and their bound PVs (reads, allowed by
// the Node authorizer for pods on this node), CSIDriver (read), the node's own CSINode (create /
// update, allowed by NodeRestriction for the node itself) and the csi.volume.kubernetes.io/nodeid
// annotation on the Node.
import { PatchStrategy, setHeaderOptions, StorageV1Api, type V1CSIDriver, type V1CSINode, type V1PersistentVolume, type V1PersistentVolumeClaim } from '@kubernetes/client-node';
import type { KubeClients } from './connect.ts';
import { call, KubeApiError } from './errors.ts';

const storageApis = new WeakMap<KubeClients, StorageV1Api>();
function storage(clients: KubeClients): StorageV1Api {
  let s = storageApis.get(clients);
  if (!s) storageApis.set(clients, (s = clients.kubeConfig.makeApiClient(StorageV1Api)));
  return s;
}

export async function getPersistentVolumeClaim(clients: KubeClients, namespace: string, name: string): Promise<V1PersistentVolumeClaim> {
  return call(`get persistentvolumeclaims ${namespace}/${name}`, () => clients.core.readNamespacedPersistentVolumeClaim({ namespace, name }));
}

export async function getPersistentVolume(clients: KubeClients, name: string): Promise<V1PersistentVolume> {
  return call(`get persistentvolumes ${name}`, () => clients.core.readPersistentVolume({ name }));
}

export async function getCsiDriver(clients: KubeClients, name: string): Promise<V1CSIDriver> {
  return call(`get csidrivers ${name}`, () => storage(clients).readCSIDriver({ name }));
}

export async function getCsiNode(clients: KubeClients, name: string): Promise<V1CSINode> {
  return call(`get csinodes ${name}`, () => storage(clients).readCSINode({ name }));
}

export interface CsiNodeDriver {
  name: string;
  nodeID: string;
  topologyKeys: string[];
  /** maxVolumesPerNode; 0 or undefined = no limit */
  count?: number;
}

/**
 * Makes the node's CSINode list `driver` (added or updated) or, with `remove`, not list it.
 * Created when missing with an ownerReference to the Node, as upstream's nodeinfomanager.
 * Conflicts (a concurrent writer) are retried with a fresh read.
 */
export async function upsertCsiNodeDriver(clients: KubeClients, nodeName: string, nodeUid: string | undefined, driver: CsiNodeDriver | { remove: string }): Promise<V1CSINode> {
  for (let attempt = 0; ; attempt++) {
    let cur: V1CSINode | undefined;
    try {
      cur = await getCsiNode(clients, nodeName);
    } catch (e) {
      if (!(e instanceof KubeApiError && e.kind === 'NotFound')) throw e;
    }
    const others = (cur?.spec?.drivers ?? []).filter((d) => d.name !== ('remove' in driver ? driver.remove : driver.name));
    const drivers = 'remove' in driver
      ? others
      : [...others, { name: driver.name, nodeID: driver.nodeID, topologyKeys: driver.topologyKeys, ...(driver.count ? { allocatable: { count: driver.count } } : {}) }];
    try {
      if (!cur) {
        const body: V1CSINode = {
          apiVersion: 'storage.k8s.io/v1',
          kind: 'CSINode',
          metadata: { name: nodeName, ...(nodeUid ? { ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid }] } : {}) },
          spec: { drivers },
        };
        return await call(`create csinodes ${nodeName}`, () => storage(clients).createCSINode({ body }));
      }
      return await call(`update csinodes ${nodeName}`, () => storage(clients).replaceCSINode({ name: nodeName, body: { ...cur, spec: { drivers } } }));
    } catch (e) {
      if (attempt < 5 && e instanceof KubeApiError && (e.kind === 'Conflict' || e.kind === 'AlreadyExists')) continue;
      throw e;
    }
  }
}

/** Sets (or, with nodeId undefined, removes) the driver's entry in csi.volume.kubernetes.io/nodeid. */
export async function setNodeIdAnnotation(clients: KubeClients, nodeName: string, driver: string, nodeId: string | undefined): Promise<void> {
  const node = await call(`get nodes ${nodeName}`, () => clients.core.readNode({ name: nodeName }));
  const key = 'csi.volume.kubernetes.io/nodeid';
  const raw = node.metadata?.annotations?.[key];
  let ids: Record<string, string> = {};
  try {
    ids = raw ? (JSON.parse(raw) as Record<string, string>) : {};
  } catch {
    ids = {};
  }
  if (nodeId === undefined) delete ids[driver];
  else ids[driver] = nodeId;
  const value = Object.keys(ids).length ? JSON.stringify(ids) : null;
  if ((value ?? undefined) === raw) return;
  await call(`patch nodes ${nodeName}`, () =>
    clients.core.patchNode({ name: nodeName, body: { metadata: { annotations: { [key]: value } } } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch)),
  );
}
