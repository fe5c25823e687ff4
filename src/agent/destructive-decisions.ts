// Decisions whose effect cannot be undone: a kill, a removal, a deletion. The engine syncs the
// batch carrying one to disk before the effect runs, so after a power loss the log still explains
// every container that is gone and every object that was deleted (docs/operations.md, durability).
// Starts, status patches and timers are not synced: losing them to a power cut is repaired by the
// level-triggered relist at the next start-up.
import type { Entry } from '../model/entry.ts';

export const DESTRUCTIVE_DECISIONS: ReadonlySet<string> = new Set([
  'ContainerKilled',
  'PodSandboxKilled',
  'OrphanPodKilled',
  'PodRuntimeCleanupRequested',
  'PodVolumesTearDownRequested',
  'PodObjectDeleteRequested',
  'MirrorPodDeleteRequested',
  'PodEvicted',
  'PodShutdownKilled',
  'ImageRemoveRequested',
]);

export const isDestructive = (d: Entry): boolean => DESTRUCTIVE_DECISIONS.has(d.type);
