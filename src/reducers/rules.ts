// The rules a fold runs under, and how a reducer asks for them (as Temporal workflow code asks
// `patched('id')`): `rules().has('change-id')` or `rules().version`. The fold harness sets them for
// each stretch of the log (from the AgentStarted that opens it, or the snapshot it starts from), so
// an old stretch is folded with the old behaviour and the current one with the current behaviour.
//
// They are ambient rather than an argument so that gating a change deep inside a reducer costs one
// line, not a parameter threaded through every function on the way. They are an input of the fold
// like the entry, fixed for the call: reducers stay pure functions of (rules, state, entry).
import type { DecisionDraft, Entry } from '../model/entry.ts';
import type { Decider } from './decider.ts';
import { FIRST_RULES_VERSION, RULE_CHANGES, RULES_VERSION, type RuleChangeId } from './rules-version.ts';

export interface Rules {
  readonly version: number;
  /** Whether the named change is in force under these rules. */
  has(change: RuleChangeId): boolean;
}

type ChangeTable = Readonly<Record<string, { since: number; what: string }>>;

/** Rules over any change table (tests use their own; the agent uses RULE_CHANGES). */
export function makeRules(version: number, changes: ChangeTable, current: number): Rules {
  if (!Number.isInteger(version) || version < FIRST_RULES_VERSION) throw new Error(`rules version ${version} does not exist (the first is ${FIRST_RULES_VERSION})`);
  if (version > current) throw new Error(`rules version ${version} is newer than this ledgerlet's (${current}): use a ledgerlet that has it`);
  return {
    version,
    has(change: string) {
      const c = changes[change];
      // A typo must not silently select the old behaviour.
      if (!c) throw new Error(`unknown rule change '${change}' (not listed in src/reducers/rules-version.ts)`);
      return version >= c.since;
    },
  };
}

const known = new Map<number, Rules>();

/** The rules of `version`, which must be between the first and this ledgerlet's version. */
export function rulesFor(version: number): Rules {
  let r = known.get(version);
  if (!r) {
    r = makeRules(version, RULE_CHANGES, RULES_VERSION);
    known.set(version, r);
  }
  return r;
}

/** Whether this ledgerlet can fold a stretch written under `version`. */
export const knowsRules = (version: number, current = RULES_VERSION) => Number.isInteger(version) && version >= FIRST_RULES_VERSION && version <= current;

let active: Rules | undefined;

/** The rules of the fold in progress (outside one, e.g. a unit test calling a reducer: the current rules). */
export function rules(): Rules {
  return active ?? rulesFor(RULES_VERSION);
}

/** Run fn with `r` as the active rules (restored after, also on a throw). */
export function withRules<T>(r: Rules, fn: () => T): T {
  const prev = active;
  active = r;
  try {
    return fn();
  } finally {
    active = prev;
  }
}

/**
 * The decider `base` under one rules version, able to hand out itself under any other known
 * version (`forRules`), which is how replay, verify and the engine switch rules between stretches.
 */
export function versionedDecider<S>(base: Decider<S>, version: number, opts: { current?: number; rulesOf?: (v: number) => Rules } = {}): Decider<S> {
  const current = opts.current ?? RULES_VERSION;
  const rulesOf = opts.rulesOf ?? rulesFor;
  const r = rulesOf(version);
  const byVersion = new Map<number, Decider<S>>();
  const self: Decider<S> = {
    initialState: base.initialState,
    evolve: (s: S, e: Entry) => withRules(r, () => base.evolve(s, e)),
    decide: (s: S, e: Entry): DecisionDraft[] => withRules(r, () => base.decide(s, e)),
    rules: {
      version,
      current,
      forVersion: (v: number) => {
        if (v === version) return self;
        if (!knowsRules(v, current)) return undefined;
        let d = byVersion.get(v);
        if (!d) {
          d = versionedDecider(base, v, opts);
          byVersion.set(v, d);
        }
        return d;
      },
    },
  };
  return self;
}
