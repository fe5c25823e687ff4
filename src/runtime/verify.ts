// `ledgerlet verify`: refold the log from its start (or the retention horizon's snapshot),
// recompute every decision from the entries before it, and compare with the recorded decisions
// and with every stored snapshot. The first difference is named by seq.
import type { DecisionDraft, Entry } from '../model/entry.ts';
import type { Decider } from '../reducers/decider.ts';
import type { LogStore } from '../adapters/store/log-store.ts';
import { canonicalJson } from './canonical.ts';
import { decideOn, decisionDraftFor, evolveEntry, stoppingAfter } from './fold.ts';

export interface VerifyReport {
  ok: boolean;
  entries: number;
  observations: number;
  decisions: number;
  outcomes: number;
  snapshotsChecked: number;
  /** 0 when verified from the first entry, else the horizon snapshot's seq. */
  startedFromSnapshot: number;
  /** Reducer throws (deterministic, so not a divergence, but worth a look). */
  reducerErrors: Array<{ seq: number; error: string }>;
  divergence?: { seq: number; reason: string };
}

const comparable = (cause: Entry, d: DecisionDraft) => {
  const x = decisionDraftFor(cause, d);
  return canonicalJson({ type: x.type, reason: x.reason, data: x.data, pod: x.pod, cause: x.cause });
};
const recorded = (e: Entry) => canonicalJson({ type: e.type, reason: e.reason, data: e.data, pod: e.pod, cause: e.cause });

export async function verifyLog<S>(store: LogStore, decider: Decider<S>): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, entries: 0, observations: 0, decisions: 0, outcomes: 0, snapshotsChecked: 0, startedFromSnapshot: 0, reducerErrors: [] };
  const fail = (seq: number, reason: string) => {
    report.ok = false;
    report.divergence = { seq, reason };
    return report;
  };
  let state = decider.initialState();
  let next = store.firstSeq;
  if (next > 1) {
    const h = store.horizon;
    const snap = h ? await store.getSnapshot<S>(h.snapshotSeq) : undefined;
    if (!snap || !snap.ok || snap.snapshot.seq !== next - 1) {
      return fail(next, `log starts at the retention horizon (seq ${next}) but its snapshot is ${!snap ? 'missing' : snap.ok ? 'at the wrong seq' : `unreadable: ${snap.error}`}`);
    }
    state = snap.snapshot.state;
    report.startedFromSnapshot = snap.snapshot.seq;
    report.snapshotsChecked++;
  }
  const snapshotSeqs = new Set((await store.listSnapshots()).map((h) => h.seq).filter((s) => s >= next));

  // Decisions replay says the last observation/outcome should have caused, not yet matched.
  let expected: Array<{ cause: Entry; draft: DecisionDraft }> = [];
  let stopping = false;
  const missing = () => {
    const x = expected[0];
    return `replay decides ${x.draft.type} (${x.draft.reason}) on seq ${x.cause.seq} but the log does not record it`;
  };
  for await (const r of store.readRange({ from: next })) {
    if (!r.ok) return fail(r.seq, `entry cannot be read: ${r.error}`);
    const e = r.entry;
    if (e.seq !== next) return fail(next, `seq ${next} is missing (next entry is ${e.seq})`);
    next++;
    report.entries++;
    if (e.kind === 'decision') {
      report.decisions++;
      const want = expected.shift();
      if (!want) return fail(e.seq, `recorded decision ${e.type} (${e.reason}) is not decided on replay`);
      if (recorded(e) !== comparable(want.cause, want.draft)) {
        return fail(e.seq, `recorded decision ${e.type} (${e.reason}) differs from replay's ${want.draft.type} (${want.draft.reason}): ${recorded(e)} vs ${comparable(want.cause, want.draft)}`);
      }
    } else {
      if (expected.length > 0) return fail(e.seq, missing());
      if (e.kind === 'observation') report.observations++;
      else report.outcomes++;
    }
    const step = evolveEntry(decider, state, e);
    if (step.error) report.reducerErrors.push({ seq: e.seq, error: step.error });
    state = step.state;
    stopping = stoppingAfter(stopping, e);
    if (e.kind !== 'decision' && !stopping) {
      const d = decideOn(decider, state, e);
      if (d.error) report.reducerErrors.push({ seq: e.seq, error: d.error });
      expected = d.decisions.map((draft) => ({ cause: e, draft }));
    }
    if (snapshotSeqs.has(e.seq)) {
      snapshotSeqs.delete(e.seq);
      const snap = await store.getSnapshot<S>(e.seq);
      if (!snap || !snap.ok) return fail(e.seq, `snapshot at seq ${e.seq} cannot be read: ${snap && !snap.ok ? snap.error : 'missing'}`);
      if (canonicalJson(snap.snapshot.state) !== canonicalJson(state)) return fail(e.seq, `snapshot at seq ${e.seq} differs from the replayed state`);
      report.snapshotsChecked++;
    }
  }
  if (expected.length > 0) return fail(expected[0].cause.seq, missing());
  if (next - 1 < store.lastSeq) return fail(next, `log ends at seq ${next - 1} but its tail record says ${store.lastSeq}`);
  for (const s of snapshotSeqs) return fail(s, `snapshot at seq ${s} is beyond the end of the log`);
  return report;
}
