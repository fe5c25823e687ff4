// The Node object: register (create, or get the one already there) and patch its status
// through the `status` subresource with a strategic merge patch, as the upstream kubelet does.
import { PatchStrategy, setHeaderOptions, type V1Node, type V1NodeStatus, type V1Taint } from '@kubernetes/client-node';
import type { KubeClients } from './connect.ts';
import { call, isAlreadyExists, KubeApiError } from './errors.ts';
import { NODE_SCHEMA, twoWayMergePatch, type Json } from './strategic-patch.ts';

export const LABEL_HOSTNAME = 'kubernetes.io/hostname';
export const LABEL_OS = 'kubernetes.io/os';
export const LABEL_ARCH = 'kubernetes.io/arch';
export const LABEL_OS_BETA = 'beta.kubernetes.io/os';
export const LABEL_ARCH_BETA = 'beta.kubernetes.io/arch';
export const ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH = 'volumes.kubernetes.io/controller-managed-attach-detach';

export interface NodeRegistration {
  nodeName: string;
  hostname: string;
  /** GOOS / GOARCH values. */
  os: string;
  arch: string;
  /** Extra labels (--node-labels); may not override the default ones. */
  labels?: Record<string, string>;
  /** --register-with-taints; none by default. */
  taints?: V1Taint[];
  /** --register-schedulable=false → spec.unschedulable. */
  unschedulable?: boolean;
  /** Default true, as upstream: the attach/detach controller owns attachments. */
  controllerManagedAttachDetach?: boolean;
  /** Initial status (capacity, allocatable, addresses, nodeInfo, conditions): nodes accept
   *  status on create, and upstream sends it. */
  status?: V1NodeStatus;
}

/** The labels upstream's initialNode() puts on a node (stable + beta os/arch, hostname). */
export function defaultNodeLabels(r: Pick<NodeRegistration, 'hostname' | 'os' | 'arch'>): Record<string, string> {
  return {
    [LABEL_HOSTNAME]: r.hostname,
    [LABEL_OS]: r.os,
    [LABEL_ARCH]: r.arch,
    [LABEL_OS_BETA]: r.os,
    [LABEL_ARCH_BETA]: r.arch,
  };
}

/** The Node object the agent registers (pure). */
export function buildNode(r: NodeRegistration): V1Node {
  const annotations: Record<string, string> = {};
  if (r.controllerManagedAttachDetach ?? true) annotations[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH] = 'true';
  return {
    apiVersion: 'v1',
    kind: 'Node',
    metadata: {
      name: r.nodeName,
      labels: { ...(r.labels ?? {}), ...defaultNodeLabels(r) },
      annotations,
    },
    spec: {
      ...(r.unschedulable ? { unschedulable: true } : {}),
      ...(r.taints && r.taints.length > 0 ? { taints: r.taints } : {}),
    },
    ...(r.status ? { status: r.status } : {}),
  };
}

export async function getNode(clients: KubeClients, name: string): Promise<V1Node> {
  return call(`get nodes/${name}`, () => clients.core.readNode({ name }));
}

export interface RegisterResult {
  node: V1Node;
  /** True when this call created the Node; false when it existed already. */
  created: boolean;
}

/**
 * Create the Node; when it already exists, read it back and bring the default labels and the
 * attach-detach annotation up to date (upstream's reconcile on re-registration), via a
 * status-subresource patch, which is what the node credentials may write.
 */
export async function registerNode(clients: KubeClients, r: NodeRegistration): Promise<RegisterResult> {
  const desired = buildNode(r);
  try {
    const node = await call(`create nodes/${r.nodeName}`, () => clients.core.createNode({ body: desired }));
    return { node, created: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const existing = await getNode(clients, r.nodeName);
  const want = defaultNodeLabels(r);
  const labels = { ...(existing.metadata?.labels ?? {}) };
  let changed = false;
  for (const [k, v] of Object.entries(want)) {
    if (labels[k] !== v) {
      labels[k] = v;
      changed = true;
    }
  }
  const annotations = { ...(existing.metadata?.annotations ?? {}) };
  const cmad = desired.metadata?.annotations?.[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH];
  if (cmad !== undefined && annotations[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH] !== cmad) {
    annotations[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH] = cmad;
    changed = true;
  } else if (cmad === undefined && ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH in annotations) {
    delete annotations[ANNOTATION_CONTROLLER_MANAGED_ATTACH_DETACH];
    changed = true;
  }
  if (!changed) return { node: existing, created: false };
  const patch = twoWayMergePatch(
    { metadata: { labels: existing.metadata?.labels ?? {}, annotations: existing.metadata?.annotations ?? {} } },
    { metadata: { labels, annotations } },
  );
  const node = await patchNodeStatusRaw(clients, r.nodeName, patch);
  return { node, created: false };
}

/** Send a strategic merge patch to nodes/<name>/status. */
export async function patchNodeStatusRaw(clients: KubeClients, name: string, patch: Record<string, Json>): Promise<V1Node> {
  return call(`patch nodes/${name}/status`, () =>
    clients.core.patchNodeStatus(
      { name, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
}

/** The patch that moves `oldNode`'s status (and metadata) to `newStatus` (pure). */
export function nodeStatusPatch(oldNode: V1Node | undefined, newStatus: V1NodeStatus): Record<string, Json> {
  return twoWayMergePatch({ status: oldNode?.status ?? {} }, { status: newStatus }, NODE_SCHEMA);
}

/**
 * Patch node status from what was last read (`oldNode`) to `newStatus`. Returns the node as
 * the server stored it, or the old node unchanged when there was nothing to send.
 */
export async function patchNodeStatus(
  clients: KubeClients,
  name: string,
  oldNode: V1Node | undefined,
  newStatus: V1NodeStatus,
): Promise<{ node: V1Node | undefined; patch: Record<string, Json>; sent: boolean }> {
  const patch = nodeStatusPatch(oldNode, newStatus);
  if (Object.keys(patch).length === 0) return { node: oldNode, patch, sent: false };
  const node = await patchNodeStatusRaw(clients, name, patch);
  return { node, patch, sent: true };
}

/** Read a node's UID (needed for owner references of the lease and mirror pods). */
export async function nodeUid(clients: KubeClients, name: string): Promise<string> {
  const node = await getNode(clients, name);
  const uid = node.metadata?.uid;
  if (!uid) throw new KubeApiError('Unknown', undefined, 'NoUID', `node ${name} has no metadata.uid`, `get nodes/${name}`);
  return uid;
}
