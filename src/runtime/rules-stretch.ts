// Which rules fold which entries: each AgentStarted opens a stretch under the rules version it
// records (the rules that agent decided with), until the next one. Used by the engine, replay and
// verify alike, so all three fold a stretch with the same rules.
import type { Entry } from '../model/entry.ts';
import { rulesVersionOpenedBy } from '../model/engine-observations.ts';
import type { Decider } from '../reducers/decider.ts';
import { FIRST_RULES_VERSION } from '../reducers/rules-version.ts';

export interface StretchStep<S> {
  decider: Decider<S>;
  /** Set when the entry opens a stretch under rules this ledgerlet does not have. */
  problem?: string;
}

/** The decider to fold with from a snapshot (its recorded rules version) or the log's start. */
export function deciderAt<S>(base: Decider<S>, version: number | undefined): StretchStep<S> {
  if (!base.rules) return { decider: base };
  const v = version ?? FIRST_RULES_VERSION;
  const d = base.rules.forVersion(v);
  return d ? { decider: d } : { decider: base, problem: unknownRules(v, base) };
}

/**
 * The decider for `e` and the entries after it: a new one when `e` opens a stretch (call it
 * before folding `e`: AgentStarted itself belongs to the stretch it opens). With `pinned`, every
 * stretch folds with `current` (`verify --rules current`).
 */
export function deciderFor<S>(base: Decider<S>, current: Decider<S>, e: Entry, pinned = false): StretchStep<S> {
  if (!base.rules || pinned) return { decider: current };
  const v = rulesVersionOpenedBy(e, FIRST_RULES_VERSION);
  if (v === undefined || v === current.rules?.version) return { decider: current };
  const d = base.rules.forVersion(v);
  return d ? { decider: d } : { decider: current, problem: `seq ${e.seq}: ${unknownRules(v, base)}` };
}

function unknownRules<S>(v: number, base: Decider<S>): string {
  const cur = base.rules?.current ?? FIRST_RULES_VERSION;
  return v > cur
    ? `written under rules version ${v}, newer than this ledgerlet's (${cur}); read it with a ledgerlet that has those rules`
    : `written under rules version ${v}, which does not exist`;
}
