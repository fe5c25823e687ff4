// `ledgerlet verify --rules current`: what the installed rules would have decided differently on a
// recorded log — the check an operator runs on a copy of production logs before rolling out a new
// ledgerlet. The recorded entries are refolded with the installed rules (every stretch, whatever
// rules wrote it); after each observation and outcome, the decisions the installed rules make are
// compared, per pod, with the recorded ones. The first difference of each pod is listed with its
// cause; after it, that pod's later decisions are not compared (the effects that would have
// followed were never run, so what came next cannot be known).
import type { DecisionDraft, Entry } from '../model/entry.ts';
import type { Decider } from '../reducers/decider.ts';
import { FIRST_RULES_VERSION, RULE_CHANGES } from '../reducers/rules-version.ts';
import { rulesVersionOpenedBy } from '../model/engine-observations.ts';
import type { LogStore } from '../adapters/store/log-store.ts';
import { canonicalJson } from './canonical.ts';
import { decideOn, decisionDraftFor, evolveEntry, stoppingAfter } from './fold.ts';

export interface DecisionBrief {
  type: string;
  reason?: string;
  /** seq of the recorded decision (recorded side only). */
  seq?: number;
}

export interface FirstDifference {
  /** namespace/name, or 'node' for decisions about no pod. */
  pod: string;
  uid?: string;
  /** The observation or outcome both decided on. */
  causeSeq: number;
  causeType: string;
  at: string;
  /** The rules version the recorded decisions were made under. */
  recordedRules?: number;
  /** What was recorded and what the installed rules decide instead, from the first that differs (undefined: nothing). */
  recorded?: DecisionBrief;
  current?: DecisionBrief;
  /** Same type and reason, different content: the first differing field. */
  detail?: string;
  /** Rule changes in force now that were not under the recorded rules: the likely why. */
  changes: Array<{ id: string; since: number; what: string }>;
}

export interface UpgradeCheckReport {
  entries: number;
  currentRules?: number;
  /** Rules versions the log was written with. */
  recordedRules: number[];
  /** Pods that got recorded decisions. */
  subjects: number;
  differences: FirstDifference[];
  /** Entries that could not be read (not compared). */
  unreadable: number;
  reducerErrors: Array<{ seq: number; error: string }>;
}

type Changes = Readonly<Record<string, { since: number; what: string }>>;

const keyOf = (pod: Entry['pod']) => (pod ? pod.uid : 'node');
const nameOf = (pod: Entry['pod']) => (pod ? `${pod.namespace}/${pod.name}` : 'node');
const comparable = (d: { type: string; reason?: string; data: unknown; pod?: Entry['pod'] }) => canonicalJson({ type: d.type, reason: d.reason, data: d.data, pod: d.pod });

/** The first top-level data field in which two decisions of the same type and reason differ. */
function firstField(a: unknown, b: unknown): string | undefined {
  if (typeof a !== 'object' || typeof b !== 'object' || a === null || b === null) return undefined;
  const keys = [...new Set([...Object.keys(a), ...Object.keys(b)])].sort();
  for (const k of keys) {
    const x = (a as Record<string, unknown>)[k];
    const y = (b as Record<string, unknown>)[k];
    if (canonicalJson(x ?? null) !== canonicalJson(y ?? null)) return `data.${k}: recorded ${short(x)}, now ${short(y)}`;
  }
  return undefined;
}
const short = (v: unknown) => {
  const s = v === undefined ? 'absent' : canonicalJson(v);
  return s.length > 120 ? `${s.slice(0, 117)}...` : s;
};

export async function checkAgainstCurrentRules<S>(store: LogStore, decider: Decider<S>, changes: Changes = RULE_CHANGES): Promise<UpgradeCheckReport> {
  const report: UpgradeCheckReport = { entries: 0, currentRules: decider.rules?.version, recordedRules: [], subjects: 0, differences: [], unreadable: 0, reducerErrors: [] };
  let state = decider.initialState();
  let from = store.firstSeq;
  let recordedRules = decider.rules ? FIRST_RULES_VERSION : undefined;
  if (from > 1) {
    const h = store.horizon;
    const snap = h ? await store.getSnapshot<S>(h.snapshotSeq) : undefined;
    if (!snap?.ok) throw new Error(`the log starts at the retention horizon (seq ${from}) and its snapshot cannot be read`);
    state = snap.snapshot.state;
    recordedRules = snap.snapshot.rulesVersion ?? recordedRules;
    if (recordedRules !== undefined) report.recordedRules.push(recordedRules);
  }
  const diverged = new Set<string>();
  const seen = new Set<string>();
  let pending: { cause: Entry; byKey: Map<string, DecisionDraft[]>; recorded: Map<string, Entry[]> } | undefined;
  let stopping = false;

  const settle = () => {
    if (!pending) return;
    const { cause, byKey, recorded } = pending;
    pending = undefined;
    for (const key of new Set([...byKey.keys(), ...recorded.keys()])) {
      if (diverged.has(key)) continue;
      const now = byKey.get(key) ?? [];
      const was = recorded.get(key) ?? [];
      for (let i = 0; i < Math.max(now.length, was.length); i++) {
        const a = was[i];
        const b = now[i];
        if (a && b && comparable(a) === comparable(decisionDraftFor(cause, b))) continue;
        diverged.add(key);
        const pod = a?.pod ?? b?.pod;
        const changed = Object.entries(changes).filter(([, c]) => c.since > (recordedRules ?? 0) && c.since <= (decider.rules?.version ?? 0)).map(([id, c]) => ({ id, since: c.since, what: c.what }));
        const diff: FirstDifference = { pod: nameOf(pod), causeSeq: cause.seq, causeType: cause.type, at: cause.at, changes: changed };
        if (pod) diff.uid = pod.uid;
        if (recordedRules !== undefined) diff.recordedRules = recordedRules;
        if (a) diff.recorded = { type: a.type, reason: a.reason, seq: a.seq };
        if (b) diff.current = { type: b.type, reason: b.reason };
        if (a && b && a.type === b.type && a.reason === b.reason) diff.detail = firstField(a.data, b.data);
        report.differences.push(diff);
        break;
      }
    }
  };

  for await (const r of store.readRange({ from })) {
    if (!r.ok) {
      report.unreadable += (r.toSeq ?? r.seq) - r.seq + 1;
      continue;
    }
    const e = r.entry;
    report.entries++;
    if (e.kind === 'decision') {
      if (pending && e.cause === pending.cause.seq) {
        const k = keyOf(e.pod);
        const list = pending.recorded.get(k) ?? [];
        list.push(e);
        pending.recorded.set(k, list);
      }
    } else settle();
    // Which rules wrote this stretch (for the report); the fold itself stays on the installed ones.
    const v = rulesVersionOpenedBy(e, FIRST_RULES_VERSION);
    if (v !== undefined && decider.rules) {
      recordedRules = v;
      if (!report.recordedRules.includes(v)) report.recordedRules.push(v);
    }
    const step = evolveEntry(decider, state, e, { guard: true });
    if (step.error) report.reducerErrors.push({ seq: e.seq, error: step.error });
    state = step.state;
    stopping = stoppingAfter(stopping, e);
    if (e.kind !== 'decision' && !stopping) {
      const d = decideOn(decider, state, e, { guard: true });
      if (d.error) report.reducerErrors.push({ seq: e.seq, error: d.error });
      const byKey = new Map<string, DecisionDraft[]>();
      for (const x of d.decisions) {
        const k = keyOf(x.pod);
        byKey.set(k, [...(byKey.get(k) ?? []), x]);
      }
      pending = { cause: e, byKey, recorded: new Map() };
    }
    if (e.kind === 'decision' && !seen.has(keyOf(e.pod))) seen.add(keyOf(e.pod));
  }
  settle();
  report.subjects = [...seen].filter((k) => k !== 'node').length;
  return report;
}
