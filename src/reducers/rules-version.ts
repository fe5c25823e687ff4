// The version of the decision rules (the reducers' behaviour) this ledgerlet writes with. It is
// recorded in every AgentStarted and every snapshot, so a log is always refolded with the rules
// that wrote it (see docs/architecture.md, "Versioned rules").
//
// To change what the reducers decide (or how they fold state) for logs written from now on:
//   1. add an entry below with `since` = the new version, and bump RULES_VERSION to it;
//   2. in the reducer, keep the old path: `if (rules().has('your-change')) { new } else { old }`;
//   3. record a fixture with the new rules (test/fixtures/*/record.sh) and list it in
//      test/unit/replay-fixture.test.ts.
// Two changes landing in parallel that both claim the same new version conflict here on merge:
// renumber one of them (a version must mean one set of behaviours).
/** The first rules version: a log entry or snapshot without a rules version was written by it. */
export const FIRST_RULES_VERSION = 1;

/** The rules this ledgerlet decides with. Never lower it; never reuse a number. */
export const RULES_VERSION = 1;

/** Every behaviour change since the first rules version: id → the version it first applies in. */
export const RULE_CHANGES = {
} as const satisfies Record<string, { since: number; what: string }>;

export type RuleChangeId = keyof typeof RULE_CHANGES;
