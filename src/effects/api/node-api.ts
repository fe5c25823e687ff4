// Node registration and node status (conditions decided by the reducer; machine facts read here).
import type { V1NodeStatus } from '@kubernetes/client-node';
import type { KubeClients } from '../../adapters/kube/connect.ts';
import { getNode, nodeStatusPatch, patchNodeStatusRaw, registerNode } from '../../adapters/kube/node.ts';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import type { NodeCondition } from '../../reducers/node/index.ts';

export interface NodeStatusSource {
  /** Capacity, allocatable, addresses, nodeInfo, images: everything but the conditions. */
  baseStatus(): Promise<V1NodeStatus>;
  nodeName: string;
  hostname: string;
  os: string;
  arch: string;
  /** registerWithTaints: set when the Node is created, as upstream (never re-applied to an existing Node). */
  taints?: { key: string; value?: string; effect: string }[];
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function withHeartbeat(conditions: NodeCondition[], now: Date) {
  return conditions.map((c) => ({ ...c, lastHeartbeatTime: now.toISOString() }));
}

export async function register(clients: KubeClients, src: NodeStatusSource, d: Entry): Promise<OutcomeDraft[]> {
  try {
    const status = await src.baseStatus();
    const r = await registerNode(clients, { nodeName: src.nodeName, hostname: src.hostname, os: src.os, arch: src.arch, status, taints: src.taints });
    return [{ type: 'NodeRegistered', data: { nodeName: src.nodeName, created: r.created, uid: r.node.metadata?.uid } }];
  } catch (e) {
    return [{ type: 'NodeRegistrationFailed', data: { error: message(e) } }];
  } finally {
    void d;
  }
}

export async function patchNodeConditions(clients: KubeClients, src: NodeStatusSource, conditions: NodeCondition[], now: Date) {
  const old = await getNode(clients, src.nodeName).catch(() => undefined);
  const base = await src.baseStatus();
  const status = { ...base, conditions: withHeartbeat(conditions, now) } as unknown as V1NodeStatus;
  await patchNodeStatusRaw(clients, src.nodeName, nodeStatusPatch(old, status));
}

export async function reportNodeStatus(clients: KubeClients, src: NodeStatusSource, d: Entry, now: Date): Promise<OutcomeDraft[]> {
  const { conditions } = d.data as { conditions: NodeCondition[] };
  try {
    await patchNodeConditions(clients, src, conditions, now);
    return [{ type: 'NodeStatusPatched', data: { ready: conditions.find((c) => c.type === 'Ready')?.status } }];
  } catch (e) {
    return [{ type: 'NodeStatusPatchFailed', data: { error: message(e) } }];
  }
}
