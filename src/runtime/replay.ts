// Rebuilds state from the log: the newest readable snapshot (if asked; older ones when the newest
// cannot be read), then every later entry.
// Used by engine start-up, the benchmarks and the history commands.
import type { Entry } from '../model/entry.ts';
import type { Decider } from '../reducers/decider.ts';
import type { LogStore } from '../adapters/store/log-store.ts';
import { evolveEntry } from './fold.ts';
import { UnfinishedDecisions } from './unfinished.ts';
import { deciderAt, deciderFor } from './rules-stretch.ts';

export interface ReplayProblem {
  seq: number;
  error: string;
}

export interface ReplayResult<S> {
  state: S;
  /** Seq of the last entry folded (or of the snapshot, if the tail was empty). */
  lastSeq: number;
  snapshotSeq?: number;
  /** Entries folded after the snapshot. */
  folded: number;
  unfinished: UnfinishedDecisions;
  /** Unreadable entries and snapshots, and reducer errors, by seq. */
  problems: ReplayProblem[];
  /** The rules version in force after the last entry folded (undefined: the decider is unversioned). */
  rulesVersion?: number;
}

export interface ReplayOptions {
  useSnapshot?: boolean;
  /** Stop after this seq (time travel); default the end of the log. */
  toSeq?: number;
  hasEffect?: (type: string) => boolean;
  onEntry?: (e: Entry) => void;
}

export async function replayLog<S>(store: LogStore, decider: Decider<S>, opts: ReplayOptions = {}): Promise<ReplayResult<S>> {
  const problems: ReplayProblem[] = [];
  const hasEffect = opts.hasEffect ?? (() => false);
  let state = decider.initialState();
  let from = store.firstSeq;
  let snapshotSeq: number | undefined;
  let unfinished = new UnfinishedDecisions(hasEffect);
  let snapshotRules: number | undefined;
  const toSeq = opts.toSeq ?? Number.MAX_SAFE_INTEGER;
  // Below the retention horizon there are no entries: the horizon's snapshot is the only start.
  const mustSnapshot = store.firstSeq > 1;
  if (opts.useSnapshot !== false || mustSnapshot) {
    // The newest readable snapshot: an unreadable one costs a longer fold from an older one.
    for await (const snap of store.snapshotsNewestFirst<S>(Math.min(toSeq, store.lastSeq))) {
      if (!snap.ok) {
        problems.push({ seq: snap.seq, error: `snapshot unreadable: ${snap.error}` });
        continue;
      }
      if (snap.snapshot.seq + 1 < store.firstSeq) break; // older ones are before the horizon too
      state = snap.snapshot.state;
      snapshotSeq = snap.snapshot.seq;
      from = snap.snapshot.seq + 1;
      unfinished = new UnfinishedDecisions(hasEffect, snap.snapshot.unfinished.filter((e) => hasEffect(e.type)));
      snapshotRules = snap.snapshot.rulesVersion;
      break;
    }
  }
  let lastSeq = snapshotSeq ?? from - 1;
  let folded = 0;
  // Each stretch of the log is folded with the rules that wrote it.
  const start = deciderAt(decider, snapshotRules);
  if (start.problem) problems.push({ seq: snapshotSeq ?? 0, error: `snapshot: ${start.problem}` });
  let rules = start.decider;
  for await (const r of store.readRange({ from, to: toSeq })) {
    if (!r.ok) {
      problems.push({ seq: r.seq, error: r.error });
      lastSeq = r.toSeq ?? r.seq;
      continue;
    }
    const stretch = deciderFor(decider, rules, r.entry);
    if (stretch.problem) problems.push({ seq: r.entry.seq, error: stretch.problem });
    rules = stretch.decider;
    const step = evolveEntry(rules, state, r.entry, { guard: true });
    if (step.error) problems.push({ seq: r.entry.seq, error: step.error });
    state = step.state;
    unfinished.observe(r.entry);
    opts.onEntry?.(r.entry);
    lastSeq = r.entry.seq;
    folded++;
  }
  return { state, lastSeq, snapshotSeq, folded, unfinished, problems, rulesVersion: rules.rules?.version };
}
