// Graceful node shutdown (upstream pkg/kubelet/nodeshutdown): once a shutdown is announced, the
// pods are killed group by group, lowest priority first (with shutdownGracePeriod: regular pods
// within period − critical period, then critical ones within the critical period). Each pod gets
// min(its terminationGracePeriodSeconds, the group's period) and reports Failed with upstream's
// reason (Terminated) and message. The next group starts when the previous one's pods have all
// stopped or its period is over (a timer decision wakes the reducer then), as upstream waits.
import type { DecisionDraft, Entry } from '../../model/entry.ts';
import {
  NodeShutdownGroupStarted, NodeShutdownRequested, SHUTDOWN_NOT_ADMITTED_MESSAGE, SHUTDOWN_NOT_ADMITTED_REASON, SHUTDOWN_POD_MESSAGE,
  groupIndexOf, shutdownPriorityOf, type PodShutdownKilled,
} from '../../model/node-shutdown.ts';
import { gracePeriodOf } from './records.ts';
import { isTerminal } from './sync.ts';
import type { PodRecord, PodsState } from './state.ts';

/** Fold the shutdown's own entries: the announcement and each group's start. */
export function onShutdownEntry(s: PodsState, e: Entry): PodsState {
  if (e.kind === 'observation' && e.type === 'NodeShutdownRequested' && NodeShutdownRequested.is(e.data)) {
    return s.shutdown ? s : { ...s, shutdown: { at: e.at, groups: e.data.groups, next: 0, killed: [] } };
  }
  if (e.kind === 'decision' && e.type === 'NodeShutdownGroupStarted' && s.shutdown && NodeShutdownGroupStarted.is(e.data)) {
    return { ...s, shutdown: { ...s.shutdown, next: e.data.index + 1, until: e.data.until, killed: [...s.shutdown.killed, ...e.data.pods] } };
  }
  return s;
}

/** Admission while shutting down: every new pod is refused, as upstream. */
export function shutdownRejection(s: PodsState): PodRecord['rejected'] {
  return s.shutdown ? { reason: SHUTDOWN_NOT_ADMITTED_REASON, message: SHUTDOWN_NOT_ADMITTED_MESSAGE } : undefined;
}

const stillUp = (rec: PodRecord | undefined) => rec !== undefined && (Object.values(rec.containers).some((c) => c.current?.state === 'running') || rec.sandbox.state === 'ready');

/** The next group's decisions: its start (a timer until its period ends) and one kill per pod. */
export function decideShutdown(s: PodsState, e: Entry): DecisionDraft[] {
  const sd = s.shutdown;
  if (!sd || sd.next >= sd.groups.length) return [];
  const previousDone = sd.next === 0 || (sd.until !== undefined && e.at >= sd.until) || !sd.killed.some((uid) => stillUp(s.pods[uid]));
  if (!previousDone) return [];
  const active = Object.values(s.pods).filter((r) => !isTerminal(r) && !r.rejected && !sd.killed.includes(r.ref.uid));
  for (let g = sd.next; g < sd.groups.length; g++) {
    const members = active.filter((r) => groupIndexOf(sd.groups, shutdownPriorityOf(r.pod.spec)) === g).sort((a, b) => a.ref.uid.localeCompare(b.ref.uid));
    if (members.length === 0) continue; // upstream skips empty groups
    const group = sd.groups[g];
    const until = new Date(Date.parse(e.at) + group.gracePeriodSeconds * 1000).toISOString();
    const start: DecisionDraft<NodeShutdownGroupStarted> = {
      type: 'NodeShutdownGroupStarted', reason: 'NodeShutdown',
      data: { index: g, priority: group.priority, gracePeriodSeconds: group.gracePeriodSeconds, until, pods: members.map((r) => r.ref.uid) },
    };
    const kills = members.map((r): DecisionDraft<PodShutdownKilled> => ({
      type: 'PodShutdownKilled', reason: 'NodeShutdown', pod: r.ref,
      data: { gracePeriodSeconds: Math.min(gracePeriodOf(r.pod), group.gracePeriodSeconds), group: g, message: SHUTDOWN_POD_MESSAGE },
    }));
    return [start, ...kills];
  }
  return [];
}
