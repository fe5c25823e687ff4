// The node heartbeat Lease kube-node-lease/<node>: get or create, then renew with an update
// that carries the resourceVersion read last (optimistic concurrency), as upstream does.
import { V1MicroTime, type V1Lease, type V1OwnerReference } from '@kubernetes/client-node';
import type { Clock } from '../../runtime/clock.ts';
import type { KubeClients } from './connect.ts';
import { call, isNotFound } from './errors.ts';

export const NODE_LEASE_NAMESPACE = 'kube-node-lease';
export const NODE_LEASE_DURATION_SECONDS = 40;

/** RFC 3339 with exactly six fractional digits, as metav1.MicroTime serialises. */
export function formatMicroTime(d: Date): string {
  return d.toISOString().replace(/\.(\d{3})Z$/, '.$1000Z');
}

function microTime(d: Date): V1MicroTime {
  // V1MicroTime serialises with six fractional digits; JS dates carry milliseconds.
  return new V1MicroTime(d.getTime());
}

export function nodeOwnerReference(nodeName: string, nodeUid: string): V1OwnerReference {
  return { apiVersion: 'v1', kind: 'Node', name: nodeName, uid: nodeUid };
}

export interface LeaseParams {
  nodeName: string;
  /** When known, the lease gets an ownerReference to the Node (garbage-collected with it). */
  nodeUid?: string;
  clock: Clock;
  leaseDurationSeconds?: number;
}

/** The lease as we want it after a renewal at clock.now() (pure). */
export function desiredLease(base: V1Lease | undefined, p: LeaseParams): V1Lease {
  const lease: V1Lease = base
    ? { ...base, metadata: { ...base.metadata }, spec: { ...base.spec } }
    : { apiVersion: 'coordination.k8s.io/v1', kind: 'Lease', metadata: { name: p.nodeName, namespace: NODE_LEASE_NAMESPACE }, spec: {} };
  lease.spec = {
    ...lease.spec,
    holderIdentity: p.nodeName,
    leaseDurationSeconds: p.leaseDurationSeconds ?? NODE_LEASE_DURATION_SECONDS,
    renewTime: microTime(p.clock.now()),
  };
  if ((lease.metadata?.ownerReferences ?? []).length === 0 && p.nodeUid) {
    lease.metadata = { ...lease.metadata, ownerReferences: [nodeOwnerReference(p.nodeName, p.nodeUid)] };
  }
  return lease;
}

export async function getLease(clients: KubeClients, nodeName: string): Promise<V1Lease | undefined> {
  try {
    return await call(`get leases/${NODE_LEASE_NAMESPACE}/${nodeName}`, () =>
      clients.coordination.readNamespacedLease({ name: nodeName, namespace: NODE_LEASE_NAMESPACE }),
    );
  } catch (err) {
    if (isNotFound(err)) return undefined;
    throw err;
  }
}

export async function createLease(clients: KubeClients, p: LeaseParams): Promise<V1Lease> {
  return call(`create leases/${NODE_LEASE_NAMESPACE}/${p.nodeName}`, () =>
    clients.coordination.createNamespacedLease({ namespace: NODE_LEASE_NAMESPACE, body: desiredLease(undefined, p) }),
  );
}

/**
 * Renew `current` (the lease as last read or written): update with its resourceVersion.
 * A concurrent writer makes this fail with kind 'Conflict'; then call ensureLease again.
 */
export async function renewLease(clients: KubeClients, current: V1Lease, p: LeaseParams): Promise<V1Lease> {
  const body = desiredLease(current, p);
  return call(`update leases/${NODE_LEASE_NAMESPACE}/${p.nodeName}`, () =>
    clients.coordination.replaceNamespacedLease({ name: p.nodeName, namespace: NODE_LEASE_NAMESPACE, body }),
  );
}

/**
 * One heartbeat: renew the cached lease if given; on Conflict/NotFound (or no cache) read it,
 * creating it when absent, and renew that. Returns the lease now stored.
 */
export async function ensureLease(clients: KubeClients, p: LeaseParams, cached?: V1Lease): Promise<V1Lease> {
  if (cached) {
    try {
      return await renewLease(clients, cached, p);
    } catch (err) {
      if (!(err instanceof Error && 'kind' in err && (err.kind === 'Conflict' || err.kind === 'NotFound'))) throw err;
    }
  }
  const existing = await getLease(clients, p.nodeName);
  if (!existing) return createLease(clients, p);
  return renewLease(clients, existing, p);
}

/** renewTime of a lease as an RFC 3339 string (the client leaves MicroTime as the server's string). */
export function leaseRenewTime(lease: V1Lease): string | undefined {
  const t = lease.spec?.renewTime as unknown;
  if (t === undefined || t === null) return undefined;
  return t instanceof Date ? t.toISOString() : String(t);
}
