// Graceful node shutdown (upstream pkg/kubelet/nodeshutdown): the shutdown groups from
// KubeletConfiguration, the payloads of the shutdown entries, and upstream's texts.
import * as t from 'io-ts';
import { parseDurationMs } from './duration.ts';

export const NODE_SHUTDOWN_SOURCE = 'node-shutdown';

/** Upstream's reason and message for a pod killed by the shutdown, and the node's Ready message. */
export const SHUTDOWN_POD_REASON = 'Terminated';
export const SHUTDOWN_POD_MESSAGE = 'Pod was terminated in response to imminent node shutdown.';
export const SHUTDOWN_NOT_READY_MESSAGE = 'node is shutting down';
export const SHUTDOWN_NOT_ADMITTED_REASON = 'NodeShutdown';
export const SHUTDOWN_NOT_ADMITTED_MESSAGE = 'Pod was rejected as the node is shutting down.';

/** scheduling.SystemCriticalPriority: pods at or above it are critical. */
export const SYSTEM_CRITICAL_PRIORITY = 2_000_000_000;
const CRITICAL_CLASSES: Record<string, number> = { 'system-node-critical': 2_000_001_000, 'system-cluster-critical': 2_000_000_000 };

/** A pod's priority as the shutdown groups it: spec.priority, else its system class, else 0. */
export function shutdownPriorityOf(spec: { priority?: number; priorityClassName?: string }): number {
  return spec.priority ?? CRITICAL_CLASSES[spec.priorityClassName ?? ''] ?? 0;
}

/** Pods whose priority is at least `priority` (and below the next group's) get `gracePeriodSeconds`. */
export const ShutdownGroup = t.type({ priority: t.number, gracePeriodSeconds: t.number }, 'ShutdownGroup');
export type ShutdownGroup = t.TypeOf<typeof ShutdownGroup>;

/**
 * `NodeShutdownRequested` (source `node-shutdown`): the shutdown was announced (`trigger`: `cli`
 * for `ledgerlet shutdown`, `signal` for SIGUSR2), with the groups in force, lowest priority first.
 */
export const NodeShutdownRequested = t.type({ trigger: t.string, groups: t.array(ShutdownGroup) }, 'NodeShutdownRequested');
export type NodeShutdownRequested = t.TypeOf<typeof NodeShutdownRequested>;

/** `NodeShutdownGroupStarted` decision: one group's pods are being killed; the next starts at `until` or once they stopped. */
export const NodeShutdownGroupStarted = t.type({ index: t.number, priority: t.number, gracePeriodSeconds: t.number, until: t.string, pods: t.array(t.string) }, 'NodeShutdownGroupStarted');
export type NodeShutdownGroupStarted = t.TypeOf<typeof NodeShutdownGroupStarted>;

/** `PodShutdownKilled` decision: the pod is killed with this grace period, reported Failed / Terminated. */
export const PodShutdownKilled = t.type({ gracePeriodSeconds: t.number, group: t.number, message: t.string }, 'PodShutdownKilled');
export type PodShutdownKilled = t.TypeOf<typeof PodShutdownKilled>;

/** Upstream's migrateConfig: shutdownGracePeriod(+CriticalPods) as two groups, or the by-priority list. */
export function shutdownGroups(c: { shutdownGracePeriod: string; shutdownGracePeriodCriticalPods: string; shutdownGracePeriodByPodPriority: Array<{ priority: number; shutdownGracePeriodSeconds: number }> }): ShutdownGroup[] {
  if (c.shutdownGracePeriodByPodPriority.length) {
    return [...c.shutdownGracePeriodByPodPriority].sort((a, b) => a.priority - b.priority).map((g) => ({ priority: g.priority, gracePeriodSeconds: g.shutdownGracePeriodSeconds }));
  }
  const period = Math.floor((parseDurationMs(c.shutdownGracePeriod) ?? 0) / 1000);
  const critical = Math.floor((parseDurationMs(c.shutdownGracePeriodCriticalPods) ?? 0) / 1000);
  if (period <= 0) return [];
  return [{ priority: Number.MIN_SAFE_INTEGER, gracePeriodSeconds: period - critical }, { priority: SYSTEM_CRITICAL_PRIORITY, gracePeriodSeconds: critical }];
}

/** The group a priority falls in: the last whose priority is not above it (upstream groupByPriority). */
export function groupIndexOf(groups: readonly ShutdownGroup[], priority: number): number {
  let idx = 0;
  for (let i = 0; i < groups.length; i++) if (groups[i].priority <= priority) idx = i;
  return idx;
}
