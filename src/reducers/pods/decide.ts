// decide for the pods concern: which pods an entry touches, their sync decisions, status changes
// and the clean-up of runtime objects that belong to no pod.
import type { DecisionDraft, Entry } from '../../model/entry.ts';
import { canonicalJson } from '../../runtime/canonical.ts';
import { podStatus } from './status.ts';
import { syncPod } from './sync.ts';
import { decideMirror } from './mirror.ts';
import { onDecision } from './evolve-intents.ts';
import type { PodRecord, PodsState } from './state.ts';
import { decideEviction } from './eviction.ts';
import { decideShutdown } from './shutdown.ts';

/** Entries after which every pod is looked at again. */
const NODE_WIDE = new Set(['RuntimeRelisted', 'AgentConfigured', 'PodsRelisted', 'StaticPodsListed', 'ApiServerReachable', 'NodeRegistered']);

export function decidePods(s: PodsState, e: Entry): DecisionDraft[] {
  if (!s.runtimeSynced) return [];
  if (e.type === 'EvictionSignalsObserved') return evict(s, e);
  const out: DecisionDraft[] = shutdownStep(s, e);
  const killed = new Set(out.filter((d) => d.type === 'PodShutdownKilled').map((d) => d.pod?.uid));
  const uids = (NODE_WIDE.has(e.type) ? Object.keys(s.pods).sort() : e.pod?.uid && s.pods[e.pod.uid] ? [e.pod.uid] : []).filter((uid) => !killed.has(uid));
  for (const uid of uids) out.push(...decideForPod(s, s.pods[uid], e));
  if (s.sourcesSynced.api && s.sourcesSynced.file && (NODE_WIDE.has(e.type) || e.type === 'ContainerStateChanged')) {
    for (const o of Object.values(s.orphans).sort((a, b) => a.podUid.localeCompare(b.podUid))) {
      out.push({ type: 'OrphanPodKilled', reason: 'PodNoLongerOnNode', data: o });
    }
  }
  return out;
}

/** One eviction, and at once what it means for the pod: its kills and its Failed status. */
function evict(s: PodsState, e: Entry): DecisionDraft[] {
  const d = decideEviction(s, e);
  if (!d || !d.pod) return [];
  const rec = withDecisions(s, s.pods[d.pod.uid], [d], e.at);
  return [d, ...decideForPod({ ...s, pods: { ...s.pods, [rec.ref.uid]: rec } }, rec, e)];
}

/** The next shutdown group, and at once what it means for each of its pods: kills and Failed status. */
function shutdownStep(s: PodsState, e: Entry): DecisionDraft[] {
  const ds = decideShutdown(s, e);
  const out: DecisionDraft[] = [];
  let tmp = s;
  for (const d of ds) {
    out.push(d);
    if (!d.pod) continue;
    const rec = withDecisions(tmp, tmp.pods[d.pod.uid], [d], e.at);
    tmp = { ...tmp, pods: { ...tmp.pods, [rec.ref.uid]: rec } };
    out.push(...decideForPod(tmp, rec, e));
  }
  return out;
}

function withDecisions(s: PodsState, rec: PodRecord, ds: DecisionDraft[], at: string): PodRecord {
  let tmp: PodsState = { ...s, pods: { ...s.pods, [rec.ref.uid]: rec } };
  for (const d of ds) tmp = onDecision(tmp, { v: 1, seq: -1, at, kind: 'decision', type: d.type, source: 'engine', reason: d.reason, data: d.data, pod: d.pod });
  return tmp.pods[rec.ref.uid] ?? rec;
}

function decideForPod(s: PodsState, rec: PodRecord, e: Entry): DecisionDraft[] {
  const out = [...decideMirror(s, rec, e), ...syncPod(s, rec, e.at)];
  // A pod past its active deadline is stopped at once (its kills follow the decision in the same batch).
  if (out.some((d) => d.type === 'PodActiveDeadlineExceeded')) out.push(...syncPod(s, withDecisions(s, rec, out, e.at), e.at));
  // Status reflects the decisions just made (a restart decided now shows as ContainerCreating),
  // so one change is patched once rather than again at the next entry.
  const status = podStatus(withDecisions(s, rec, out, e.at), e.at, s.hostIP);
  const mirror = s.mirrors[rec.ref.uid];
  // A static pod's status goes to its mirror pod once there is one.
  const mirrorAppeared = rec.origin === 'file' && mirror !== undefined && rec.lastStatusTarget !== mirror.uid;
  const changed = mirrorAppeared || !rec.lastStatus || canonicalJson(status) !== canonicalJson(rec.lastStatus);
  // A status the API server refused is re-sent when it changes, or once its retry time has come.
  const retryDue = rec.statusDirty === true && (!rec.statusRetry || e.at >= rec.statusRetry.after);
  if (changed || retryDue) {
    out.unshift({ type: 'PodStatusChanged', reason: e.type, pod: rec.ref, data: { status, origin: rec.origin, ...(mirror ? { mirror } : {}) } });
  } else if (rec.statusDirty && rec.statusRetry && rec.statusRetry.timerSeq === undefined) {
    out.push({ type: 'RestartBackedOff', reason: 'StatusPatchRetry', pod: rec.ref, data: { which: 'status', until: rec.statusRetry.after, waitingReason: 'StatusPatchRetry' } });
  }
  // After an effect threw, outcomes decide nothing for the pod before its retry time (a timer
  // wakes it then): a failing effect is retried after time passes or the pod changes, never in a loop.
  const r = rec.effectRetry;
  if (r && out.length && e.kind === 'outcome' && e.at < r.after) {
    return r.timerSeq === undefined ? [{ type: 'RestartBackedOff', reason: 'EffectRetry', pod: rec.ref, data: { which: 'effect', until: r.after, waitingReason: 'EffectRetry' } }] : [];
  }
  return out;
}
