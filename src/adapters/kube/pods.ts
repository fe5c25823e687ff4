// Pods bound to this node: list + watch (raw JSON, for the log), status patches, deletion,
// and mirror pods for static pods.
import { PatchStrategy, setHeaderOptions, type V1Pod, type V1PodStatus } from '@kubernetes/client-node';
import * as t from 'io-ts';
import { isRight } from 'fp-ts/lib/Either.js';
import type { KubeClients } from './connect.ts';
import { call, fromStatus, isAlreadyExists, isConflict, isNotFound, KubeApiError, toKubeApiError } from './errors.ts';
import { rawGetJson } from './raw.ts';
import { POD_SCHEMA, twoWayMergePatch, type Json } from './strategic-patch.ts';

export const ANNOTATION_CONFIG_MIRROR = 'kubernetes.io/config.mirror';
export const ANNOTATION_CONFIG_HASH = 'kubernetes.io/config.hash';
export const ANNOTATION_CONFIG_SOURCE = 'kubernetes.io/config.source';

export const nodeFieldSelector = (nodeName: string): string => `spec.nodeName=${nodeName}`;

const ListMeta = t.partial({ resourceVersion: t.string, continue: t.string });
const RawList = t.type({ metadata: ListMeta, items: t.array(t.unknown) });

export interface PodList {
  /** Each pod exactly as the server sent it (to be decoded by the caller). */
  items: unknown[];
  resourceVersion: string;
}

/** All pods bound to `nodeName`, across namespaces, with the list's resourceVersion. */
export async function listNodePods(clients: KubeClients, nodeName: string, signal?: AbortSignal): Promise<PodList> {
  const items: unknown[] = [];
  let cont: string | undefined;
  let resourceVersion = '';
  do {
    const body = await rawGetJson(
      clients,
      '/api/v1/pods',
      { fieldSelector: nodeFieldSelector(nodeName), limit: 500, continue: cont },
      { signal },
    );
    const decoded = RawList.decode(body);
    if (!isRight(decoded)) throw new KubeApiError('Unknown', 200, 'BadBody', 'pod list has no metadata/items', 'list pods');
    items.push(...decoded.right.items);
    resourceVersion = decoded.right.metadata.resourceVersion ?? '';
    cont = decoded.right.metadata.continue || undefined;
  } while (cont);
  if (resourceVersion === '') throw new KubeApiError('Unknown', 200, 'BadBody', 'pod list has no resourceVersion', 'list pods');
  return { items, resourceVersion };
}

export type WatchEvent =
  | { type: 'ADDED' | 'MODIFIED' | 'DELETED'; object: unknown }
  | { type: 'BOOKMARK'; resourceVersion: string }
  | { type: 'ERROR'; error: KubeApiError };

export interface WatchHandle {
  /** Stop the watch; `done` is not called after this. */
  stop(): void;
}

/**
 * Watch pods bound to `nodeName` from `resourceVersion` with bookmarks. `onEvent` gets each
 * event (raw object); `onDone` is called once when the stream ends: with no error on a normal
 * close, with a KubeApiError when the request failed (a 410 here means "relist").
 */
export async function watchNodePods(
  clients: KubeClients,
  nodeName: string,
  resourceVersion: string,
  onEvent: (e: WatchEvent) => void,
  onDone: (err?: KubeApiError) => void,
  opts: { timeoutSeconds?: number } = {},
): Promise<WatchHandle> {
  let stopped = false;
  let finished = false;
  const finish = (err?: KubeApiError) => {
    if (stopped || finished) return;
    finished = true;
    onDone(err);
  };
  const controller = await clients.watch.watch(
    '/api/v1/pods',
    {
      fieldSelector: nodeFieldSelector(nodeName),
      resourceVersion,
      allowWatchBookmarks: true,
      timeoutSeconds: opts.timeoutSeconds ?? 300,
    },
    (type: string, obj: unknown) => {
      if (stopped || finished) return;
      if (type === 'ADDED' || type === 'MODIFIED' || type === 'DELETED') onEvent({ type, object: obj });
      else if (type === 'BOOKMARK') {
        const rv = (obj as { metadata?: { resourceVersion?: unknown } } | null)?.metadata?.resourceVersion;
        if (typeof rv === 'string') onEvent({ type: 'BOOKMARK', resourceVersion: rv });
      } else if (type === 'ERROR') onEvent({ type: 'ERROR', error: fromStatus(obj, 'watch pods') });
    },
    (err: unknown) => finish(err ? toKubeApiError(err, 'watch pods') : undefined),
  );
  return {
    stop: () => {
      if (stopped) return;
      stopped = true;
      controller.abort();
    },
  };
}

export interface PodKey {
  namespace: string;
  name: string;
  uid: string;
}

/**
 * The strategic merge patch the kubelet sends to pods/status: the difference between the
 * status last read and the desired status, plus metadata.uid so that a patch meant for an
 * earlier pod of the same name is refused (uid is immutable: the server answers 422).
 */
export function podStatusPatch(uid: string, oldStatus: unknown, newStatus: unknown): Record<string, Json> {
  return twoWayMergePatch({ status: oldStatus ?? {} }, { metadata: { uid }, status: newStatus ?? {} }, POD_SCHEMA);
}

/** The pod's status as the API server has it now (what a status patch must be computed against). */
export async function readPodStatus(clients: KubeClients, pod: PodKey): Promise<V1PodStatus | undefined> {
  try {
    const p = await call(`get pods ${pod.namespace}/${pod.name}`, () => clients.core.readNamespacedPod({ namespace: pod.namespace, name: pod.name }));
    return p.metadata?.uid === pod.uid ? p.status ?? {} : undefined;
  } catch (err) {
    // The Node authorizer answers 403 "no relationship found" once the pod is no longer bound to
    // this node (deleted): for the node, the pod is gone.
    if (isNotFound(err) || (err instanceof KubeApiError && err.status === 403 && /no relationship found/.test(err.message))) return undefined;
    throw err;
  }
}

export async function patchPodStatus(
  clients: KubeClients,
  pod: PodKey,
  oldStatus: V1PodStatus | Record<string, unknown> | undefined,
  newStatus: V1PodStatus | Record<string, unknown>,
): Promise<{ pod: V1Pod; patch: Record<string, Json> }> {
  const patch = podStatusPatch(pod.uid, oldStatus, newStatus);
  const updated = await call(`patch pods/status ${pod.namespace}/${pod.name}`, () =>
    clients.core.patchNamespacedPodStatus(
      { name: pod.name, namespace: pod.namespace, body: patch },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
  return { pod: updated, patch };
}

/**
 * Delete a pod for good once its containers are gone: grace period 0 and a uid precondition
 * (a newer pod of the same name is left alone: the server answers 409). A pod already gone
 * counts as deleted.
 */
export async function deletePod(
  clients: KubeClients,
  pod: PodKey,
  opts: { gracePeriodSeconds?: number } = {},
): Promise<{ deleted: boolean }> {
  try {
    await call(`delete pods ${pod.namespace}/${pod.name}`, () =>
      clients.core.deleteNamespacedPod({
        name: pod.name,
        namespace: pod.namespace,
        body: { gracePeriodSeconds: opts.gracePeriodSeconds ?? 0, preconditions: { uid: pod.uid } },
      }),
    );
    return { deleted: true };
  } catch (err) {
    if (isNotFound(err)) return { deleted: false };
    throw err;
  }
}

/**
 * The mirror pod for a static pod (pure): same object, plus annotation config.mirror = the
 * static pod's config.hash, and the Node as controlling owner (required by NodeRestriction).
 */
export function buildMirrorPod(staticPod: V1Pod, node: { name: string; uid: string }): V1Pod {
  const annotations = { ...(staticPod.metadata?.annotations ?? {}) };
  const hash = annotations[ANNOTATION_CONFIG_HASH] ?? '';
  annotations[ANNOTATION_CONFIG_MIRROR] = hash;
  const { uid: _uid, resourceVersion: _rv, ...meta } = staticPod.metadata ?? {};
  return {
    ...staticPod,
    apiVersion: 'v1',
    kind: 'Pod',
    metadata: {
      ...meta,
      annotations,
      ownerReferences: [{ apiVersion: 'v1', kind: 'Node', name: node.name, uid: node.uid, controller: true }],
    },
    spec: { ...staticPod.spec!, nodeName: node.name },
    status: undefined,
  };
}

/**
 * Create the mirror pod. If a pod of that name exists with the same mirror hash it is ours
 * already (`created: false`); a different pod of that name is a Conflict error.
 */
export async function createMirrorPod(
  clients: KubeClients,
  staticPod: V1Pod,
  node: { name: string; uid: string },
): Promise<{ pod: V1Pod; created: boolean }> {
  const body = buildMirrorPod(staticPod, node);
  const ns = body.metadata?.namespace ?? 'default';
  const name = body.metadata?.name ?? '';
  try {
    const pod = await call(`create pods ${ns}/${name} (mirror)`, () => clients.core.createNamespacedPod({ namespace: ns, body }));
    return { pod, created: true };
  } catch (err) {
    if (!isAlreadyExists(err)) throw err;
  }
  const existing = await call(`get pods ${ns}/${name}`, () => clients.core.readNamespacedPod({ namespace: ns, name }));
  const want = body.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR];
  if (existing.metadata?.annotations?.[ANNOTATION_CONFIG_MIRROR] === want) return { pod: existing, created: false };
  throw new KubeApiError('Conflict', 409, 'AlreadyExists', `pod ${ns}/${name} exists and is not this static pod's mirror`, `create pods ${ns}/${name} (mirror)`);
}

/**
 * Delete a mirror pod (grace period 0, optional uid precondition). Returns whether it was
 * deleted; absent or replaced (uid mismatch) pods are not errors, as upstream.
 */
export async function deleteMirrorPod(
  clients: KubeClients,
  ref: { namespace: string; name: string; uid?: string },
): Promise<{ deleted: boolean }> {
  try {
    await call(`delete pods ${ref.namespace}/${ref.name} (mirror)`, () =>
      clients.core.deleteNamespacedPod({
        name: ref.name,
        namespace: ref.namespace,
        body: { gracePeriodSeconds: 0, ...(ref.uid ? { preconditions: { uid: ref.uid } } : {}) },
      }),
    );
    return { deleted: true };
  } catch (err) {
    if (isNotFound(err) || isConflict(err)) return { deleted: false };
    throw err;
  }
}
