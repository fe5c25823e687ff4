// Mirror pod decisions: create the API copy of a static pod, or delete it when the pod ends.
import type { V1Pod } from '@kubernetes/client-node';
import type { KubeClients } from '../../adapters/kube/connect.ts';
import { getNode } from '../../adapters/kube/node.ts';
import { createMirrorPod, deleteMirrorPod } from '../../adapters/kube/pods.ts';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function createMirror(clients: KubeClients, nodeName: string, d: Entry): Promise<OutcomeDraft[]> {
  try {
    const node = await getNode(clients, nodeName);
    const { pod, created } = await createMirrorPod(clients, (d.data as { pod: V1Pod }).pod, { name: nodeName, uid: node.metadata?.uid ?? '' });
    const mirror = { uid: pod.metadata?.uid ?? '', namespace: pod.metadata?.namespace ?? 'default', name: pod.metadata?.name ?? '' };
    return [{ type: 'MirrorPodCreated', pod: d.pod, data: { mirror, created } }];
  } catch (e) {
    return [{ type: 'MirrorPodCreateFailed', pod: d.pod, data: { error: message(e) } }];
  }
}

export async function deleteMirror(clients: KubeClients, d: Entry): Promise<OutcomeDraft[]> {
  const { mirror } = d.data as { mirror: { uid: string; namespace: string; name: string } };
  try {
    const r = await deleteMirrorPod(clients, mirror);
    return [{ type: 'MirrorPodDeleted', pod: d.pod, data: { mirror, deleted: r.deleted } }];
  } catch (e) {
    return [{ type: 'MirrorPodDeleteFailed', pod: d.pod, data: { error: message(e) } }];
  }
}
