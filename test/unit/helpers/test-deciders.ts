// Small deciders for engine tests and benchmarks: a pod lifecycle (start, kill, re-check after a
// restart) and a counter for property tests. They follow the real rules: pure, time = entry.at.
import type { DecisionDraft, Entry, PodRef } from '../../../src/model/entry.ts';
import type { Decider } from '../../../src/reducers/decider.ts';

export interface TestPod {
  phase: 'Pending' | 'Starting' | 'Running' | 'Failed' | 'Terminating';
  attempts: number;
  since: string;
}

export interface LifecycleState {
  pods: Record<string, TestPod>;
  /** Decision seqs an AgentStarted said were interrupted. */
  interrupted: number[];
}

const setPod = (s: LifecycleState, uid: string, pod: TestPod | undefined): LifecycleState => {
  const pods = { ...s.pods };
  if (pod) pods[uid] = pod;
  else delete pods[uid];
  return { ...s, pods };
};

export const lifecycleDecider: Decider<LifecycleState> = {
  initialState: () => ({ pods: {}, interrupted: [] }),
  evolve: (s, e) => {
    const uid = e.pod?.uid;
    const pod = uid ? s.pods[uid] : undefined;
    switch (`${e.kind}:${e.type}`) {
      case 'observation:PodAdded':
        return uid && !pod ? setPod(s, uid, { phase: 'Pending', attempts: 0, since: e.at }) : s;
      case 'observation:PodDeleted':
        return uid && pod ? setPod(s, uid, { ...pod, phase: 'Terminating', since: e.at }) : s;
      case 'decision:StartPod':
        return uid && pod ? setPod(s, uid, { ...pod, phase: 'Starting', attempts: pod.attempts + 1, since: e.at }) : s;
      case 'outcome:PodStarted':
        return uid && pod ? setPod(s, uid, { ...pod, phase: 'Running', since: e.at }) : s;
      case 'outcome:PodKilled':
        return uid ? setPod(s, uid, undefined) : s;
      case 'outcome:EffectFailed':
        return uid && pod ? setPod(s, uid, { ...pod, phase: 'Failed', since: e.at }) : s;
      case 'observation:AgentStarted': {
        const listed = (e.data as { unfinished: Array<{ seq: number }> }).unfinished.map((d) => d.seq);
        return { ...s, interrupted: [...s.interrupted, ...listed] };
      }
      default:
        return s;
    }
  },
  decide: (s, e) => {
    const uid = e.pod?.uid;
    const pod = uid ? s.pods[uid] : undefined;
    if (e.kind === 'observation' && e.type === 'PodAdded' && pod?.phase === 'Pending') {
      return [{ type: 'StartPod', reason: 'PodAdded', data: { attempt: pod.attempts + 1 }, pod: e.pod }];
    }
    if (e.kind === 'observation' && e.type === 'PodDeleted' && pod?.phase === 'Terminating') {
      return [{ type: 'KillPod', reason: 'PodDeleted', data: {}, pod: e.pod }];
    }
    if (e.kind === 'observation' && e.type === 'AgentStarted') {
      // Re-check what was interrupted instead of repeating it.
      const listed = (e.data as { unfinished: Array<{ seq: number; type: string; pod?: PodRef }> }).unfinished;
      return listed.map((d): DecisionDraft => ({ type: 'CheckPod', reason: 'UnfinishedAtStart', data: { decision: d.seq, was: d.type }, pod: d.pod }));
    }
    return [];
  },
};

export const podRef = (n: number | string): PodRef => ({ uid: `uid-${n}`, namespace: 'default', name: `pod-${n}` });

export interface CounterState {
  total: number;
  count: number;
  milestones: number;
  byPod: Record<string, number>;
  lastAt: string | null;
}

/** Counts observations; every time the total crosses a multiple of 10 it decides a Milestone. */
export const counterDecider: Decider<CounterState> = {
  initialState: () => ({ total: 0, count: 0, milestones: 0, byPod: {}, lastAt: null }),
  evolve: (s, e) => {
    if (e.kind === 'decision' && e.type === 'Milestone') return { ...s, milestones: s.milestones + 1 };
    if (e.kind === 'outcome' && e.type === 'MilestoneRecorded') return { ...s, lastAt: e.at };
    if (e.kind !== 'observation' || e.type !== 'Add') return s;
    const n = (e.data as { n: number }).n;
    const uid = e.pod?.uid;
    return {
      ...s,
      total: s.total + n,
      count: s.count + 1,
      byPod: uid ? { ...s.byPod, [uid]: (s.byPod[uid] ?? 0) + n } : s.byPod,
      lastAt: e.at,
    };
  },
  decide: (s, e: Entry) => {
    if (e.kind !== 'observation' || e.type !== 'Add') return [];
    const n = (e.data as { n: number }).n;
    const before = s.total - n;
    return Math.floor(s.total / 10) > Math.floor(before / 10)
      ? [{ type: 'Milestone', reason: 'TotalCrossedTen', data: { total: s.total }, pod: e.pod }]
      : [];
  },
};
