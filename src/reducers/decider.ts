// The contract every reducer module implements (Emmett's decider, adapted to a log of entries).
import type { DecisionDraft, Entry } from '../model/entry.ts';

/**
 * evolve and decide are pure: no I/O, no clock, no randomness. Time is entry.at.
 * State must be plain JSON (objects, arrays, strings, numbers, booleans, null) so that it can be
 * snapshotted and compared byte for byte.
 */
export interface Decider<S> {
  initialState: () => S;
  /** Fold one entry (observation, decision or outcome) into the state. Must not mutate `state`. */
  evolve: (state: S, entry: Entry) => S;
  /**
   * Decisions caused by `entry`, given the state after evolving it. Called for observations and
   * outcomes, never for decisions.
   */
  decide: (state: S, entry: Entry) => DecisionDraft[];
  /**
   * Versioned rules (src/reducers/rules.ts): which rules version this decider decides with, and
   * the same reducers under another version for stretches of the log written by it. Absent: the
   * decider has one behaviour and folds every stretch with it (test deciders).
   */
  rules?: VersionedRules<S>;
}

export interface VersionedRules<S> {
  /** The rules version this decider runs under. */
  version: number;
  /** The newest version these reducers know (the one a running agent writes). */
  current: number;
  /** The decider under rules version v; undefined when v is unknown (a newer ledgerlet wrote it). */
  forVersion: (v: number) => Decider<S> | undefined;
}
