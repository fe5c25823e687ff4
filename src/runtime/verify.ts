// `ledgerlet verify`: refold the log from its start (or the retention horizon's snapshot),
// recompute every decision from the entries before it, and compare with the recorded decisions
// and with every stored snapshot. The first difference is named by seq. Entries lost to damage
// (or recorded as lost by `ledgerlet salvage`) are listed by range; after one, the fold resumes
// from the next readable snapshot and decisions before it cannot be checked.
// Each stretch of the log (from one AgentStarted to the next) is checked against the rules version
// that AgentStarted records: the decisions of an older ledgerlet are verified with its own rules.
import type { DecisionDraft, Entry } from '../model/entry.ts';
import { lostRange } from '../model/log-damage.ts';
import type { Decider } from '../reducers/decider.ts';
import type { LogStore } from '../adapters/store/log-store.ts';
import { canonicalJson } from './canonical.ts';
import { decideOn, decisionDraftFor, evolveEntry, stoppingAfter } from './fold.ts';
import { deciderAt, deciderFor } from './rules-stretch.ts';
import { FIRST_RULES_VERSION } from '../reducers/rules-version.ts';

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
  /** Entries that cannot be read; `recorded` ranges were written down by `ledgerlet salvage`. */
  lost: Array<{ fromSeq: number; toSeq: number; error: string; recorded: boolean }>;
  /** Decisions after a lost range and before the next readable snapshot: not comparable. */
  decisionsUnchecked: number;
  /** Damage outside the entries (snapshots, index, meta records). */
  otherDamage: string[];
  /** The rules each stretch was checked against, from its first seq (empty for an unversioned decider). */
  rules: Array<{ fromSeq: number; version: number }>;
}

const comparable = (cause: Entry, d: DecisionDraft) => {
  const x = decisionDraftFor(cause, d);
  return canonicalJson({ type: x.type, reason: x.reason, data: x.data, pod: x.pod, cause: x.cause });
};
const recorded = (e: Entry) => canonicalJson({ type: e.type, reason: e.reason, data: e.data, pod: e.pod, cause: e.cause });

export async function verifyLog<S>(store: LogStore, decider: Decider<S>): Promise<VerifyReport> {
  const report: VerifyReport = { ok: true, entries: 0, observations: 0, decisions: 0, outcomes: 0, snapshotsChecked: 0, startedFromSnapshot: 0, reducerErrors: [], lost: [], decisionsUnchecked: 0, otherDamage: [], rules: [] };
  const fail = (seq: number, reason: string) => {
    report.ok = false;
    report.divergence = { seq, reason };
    return report;
  };
  /** Damage is listed and reading goes on; the first one is also the divergence. */
  const damaged = (seq: number, reason: string) => {
    report.ok = false;
    report.divergence ??= { seq, reason };
  };
  let state = decider.initialState();
  let next = store.firstSeq;
  let rules = decider;
  const useRules = (fromSeq: number, step: { decider: Decider<S>; problem?: string }): string | undefined => {
    if (step.problem) return step.problem;
    const v = step.decider.rules?.version;
    if (v !== undefined && report.rules.at(-1)?.version !== v) report.rules.push({ fromSeq, version: v });
    rules = step.decider;
    return undefined;
  };
  /** Set after lost entries: the state is unknown until a readable snapshot replaces it. */
  let blind = false;
  if (next > 1) {
    const h = store.horizon;
    const snap = h ? await store.getSnapshot<S>(h.snapshotSeq) : undefined;
    if (!snap || !snap.ok || snap.snapshot.seq !== next - 1) {
      const why = `log starts at the retention horizon (seq ${next}) but its snapshot is ${!snap ? 'missing' : snap.ok ? 'at the wrong seq' : `unreadable: ${snap.error}`}`;
      if (snap?.ok) return fail(next, why);
      damaged(next, why);
      blind = true;
    } else {
      state = snap.snapshot.state;
      report.startedFromSnapshot = snap.snapshot.seq;
      report.snapshotsChecked++;
      const problem = useRules(next, deciderAt(decider, snap.snapshot.rulesVersion));
      if (problem) return fail(next, `the retention snapshot was ${problem}`);
    }
  }
  if (next === 1) useRules(1, deciderAt(decider, undefined));
  const snapshotSeqs = new Set((await store.listSnapshots()).map((h) => h.seq).filter((s) => s >= next));

  // Decisions replay says the last observation/outcome should have caused, not yet matched.
  let expected: Array<{ cause: Entry; draft: DecisionDraft }> = [];
  let stopping = false;
  const missing = () => {
    const x = expected[0];
    return `replay decides ${x.draft.type} (${x.draft.reason}) on seq ${x.cause.seq} but the log does not record it`;
  };
  const lose = (fromSeq: number, toSeq: number, error: string, recorded: boolean) => {
    report.lost.push({ fromSeq, toSeq, error, recorded });
    expected = [];
    blind = true;
    next = toSeq + 1;
  };
  for await (const r of store.readRange({ from: next })) {
    if (!r.ok) {
      const to = r.toSeq ?? r.seq;
      damaged(r.seq, r.toSeq !== undefined ? `seq ${r.seq}${to > r.seq ? `..${to}` : ''} is missing: ${r.error}` : `entry cannot be read: ${r.error}`);
      lose(r.seq, to, r.error, false);
      continue;
    }
    const e = r.entry;
    if (e.seq !== next) {
      damaged(next, `seq ${next} is missing (next entry is ${e.seq})`);
      lose(next, e.seq - 1, 'missing', false);
    }
    next++;
    report.entries++;
    const problem = useRules(e.seq, deciderFor(decider, rules, e));
    if (problem) return fail(e.seq, `the stretch from ${problem}`);
    const recordedGap = lostRange(e);
    if (recordedGap) {
      report.observations++;
      lose(recordedGap.fromSeq, recordedGap.toSeq, recordedGap.error, true);
      continue;
    }
    if (blind) {
      // No state to compare against: fold on, and take the next readable snapshot as the truth.
      if (e.kind === 'decision') {
        report.decisions++;
        report.decisionsUnchecked++;
      } else if (e.kind === 'observation') report.observations++;
      else report.outcomes++;
      state = evolveEntry(rules, state, e, { guard: true }).state;
      if (snapshotSeqs.delete(e.seq)) {
        const snap = await store.getSnapshot<S>(e.seq);
        if (snap?.ok) {
          state = snap.snapshot.state;
          const problem = useRules(e.seq + 1, deciderAt(decider, snap.snapshot.rulesVersion));
          if (problem) return fail(e.seq, `the snapshot at seq ${e.seq} was ${problem}`);
          blind = false;
          report.snapshotsChecked++;
        } else damaged(e.seq, `snapshot at seq ${e.seq} cannot be read: ${snap && !snap.ok ? snap.error : 'missing'}`);
      }
      continue;
    }
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
    const step = evolveEntry(rules, state, e, { guard: true });
    if (step.error) report.reducerErrors.push({ seq: e.seq, error: step.error });
    state = step.state;
    stopping = stoppingAfter(stopping, e);
    if (e.kind !== 'decision' && !stopping) {
      const d = decideOn(rules, state, e, { guard: true });
      if (d.error) report.reducerErrors.push({ seq: e.seq, error: d.error });
      expected = d.decisions.map((draft) => ({ cause: e, draft }));
    }
    if (snapshotSeqs.has(e.seq)) {
      snapshotSeqs.delete(e.seq);
      const snap = await store.getSnapshot<S>(e.seq);
      if (!snap || !snap.ok) {
        damaged(e.seq, `snapshot at seq ${e.seq} cannot be read: ${snap && !snap.ok ? snap.error : 'missing'}`);
        continue;
      }
      if (canonicalJson(snap.snapshot.state) !== canonicalJson(state)) return fail(e.seq, `snapshot at seq ${e.seq} differs from the replayed state`);
      const snapRules = snap.snapshot.rulesVersion;
      if (rules.rules && (snapRules ?? FIRST_RULES_VERSION) !== rules.rules.version) return fail(e.seq, `snapshot at seq ${e.seq} records rules version ${snapRules ?? FIRST_RULES_VERSION} but its stretch is under version ${rules.rules.version}`);
      report.snapshotsChecked++;
    }
  }
  for (const d of store.damage) if (d.where !== 'entries') report.otherDamage.push(`${d.where}: ${d.error}`);
  if (report.otherDamage.length > 0) damaged(0, `the log is damaged: ${report.otherDamage[0]}`);
  if (!report.ok) return report;
  if (expected.length > 0) return fail(expected[0].cause.seq, missing());
  if (next - 1 < store.lastSeq) return fail(next, `log ends at seq ${next - 1} but its tail record says ${store.lastSeq}`);
  for (const s of snapshotSeqs) return fail(s, `snapshot at seq ${s} is beyond the end of the log`);
  return report;
}
