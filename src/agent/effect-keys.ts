// Which effects must wait for each other. Container work is serialised per container (so one
// container's long grace period does not hold up its siblings, as upstream kills in parallel);
// API writes for a pod are serialised (final status before the delete); timers never block.
import type { Entry } from '../model/entry.ts';

export function effectKey(d: Entry): string {
  const uid = d.pod?.uid ?? 'node';
  const data = d.data as { name?: string; plan?: { name?: string } };
  switch (d.type) {
    case 'ContainerStartRequested':
    case 'ContainerKilled':
      return `${uid}/container/${data.plan?.name ?? data.name}`;
    case 'RestartBackedOff':
      return `timer/${d.seq}`;
    case 'PodStatusChanged':
    case 'PodObjectDeleteRequested':
      return `${uid}/api`;
    case 'NodeShutdownGroupStarted':
      return `timer/${d.seq}`;
    case 'ImageRemoveRequested':
      return 'images';
    case 'OrphanPodKilled':
      return `orphan/${(d.data as { podUid: string }).podUid}`;
    default:
      return uid;
  }
}
