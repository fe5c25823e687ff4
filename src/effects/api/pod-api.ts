// Pod decisions that write to the API server: status patches and the final delete (grace 0).
import type { KubeClients } from '../../adapters/kube/connect.ts';
import { deletePod, patchPodStatus, readPodStatus } from '../../adapters/kube/pods.ts';
import { isNotFound } from '../../adapters/kube/errors.ts';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** Conditions the kubelet owns (upstream kubetypes.PodConditionByKubelet, and the shared DisruptionTarget). */
const KUBELET_CONDITIONS = new Set(['PodScheduled', 'Ready', 'Initialized', 'ContainersReady', 'PodReadyToStartContainers', 'PodResizePending', 'PodResizeInProgress', 'DisruptionTarget']);

/**
 * As upstream's mergePodStatus: conditions other controllers set (readiness gates) are kept, not
 * removed by a patch computed against the server's status.
 */
export function withForeignConditions(status: Record<string, unknown>, current: unknown): Record<string, unknown> {
  const ours = (status.conditions as { type: string }[] | undefined) ?? [];
  const theirs = ((current as { conditions?: { type: string }[] } | undefined)?.conditions ?? [])
    .filter((c) => !KUBELET_CONDITIONS.has(c.type) && !ours.some((o) => o.type === c.type));
  return theirs.length ? { ...status, conditions: [...ours, ...theirs] } : status;
}

export async function patchStatus(clients: KubeClients | undefined, d: Entry): Promise<OutcomeDraft[]> {
  const { status, origin, mirror } = d.data as { status: Record<string, unknown>; origin: 'api' | 'file'; mirror?: { uid: string; namespace: string; name: string } };
  // Static pods report through their mirror pod; until it exists there is nothing to patch.
  const target = origin === 'api' ? d.pod : mirror;
  if (!clients || !target) return [];
  try {
    // As upstream's status manager: the patch is computed against the status the API server has
    // now, so lists that changed (podIPs after a new sandbox, hostIPs after a node IP change) are
    // replaced rather than merged into something invalid.
    const current = await readPodStatus(clients, target);
    if (current === undefined) return [{ type: 'PodStatusPatched', pod: d.pod, data: { phase: status.phase, podGone: true } }];
    await patchPodStatus(clients, target, current, withForeignConditions(status, current));
    return [{ type: 'PodStatusPatched', pod: d.pod, data: { phase: status.phase } }];
  } catch (e) {
    // A pod already gone from the API has no status to patch: not a failure worth retrying.
    if (isNotFound(e)) return [{ type: 'PodStatusPatched', pod: d.pod, data: { phase: status.phase, podGone: true } }];
    return [{ type: 'PodStatusPatchFailed', pod: d.pod, data: { error: message(e) } }];
  }
}

export async function deletePodObject(clients: KubeClients | undefined, d: Entry): Promise<OutcomeDraft[]> {
  if (!clients || !d.pod) return [];
  try {
    const r = await deletePod(clients, d.pod, { gracePeriodSeconds: 0 });
    return [{ type: 'PodObjectDeleted', pod: d.pod, data: { alreadyGone: !r.deleted } }];
  } catch (e) {
    return [{ type: 'PodObjectDeleteFailed', pod: d.pod, data: { error: message(e) } }];
  }
}
