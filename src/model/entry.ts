// The node state log entry: one envelope for every observation, decision and outcome.
import * as t from 'io-ts';

/** Bump when the envelope changes; src/model/upgrade.ts lifts older entries to this one. */
export const SCHEMA_VERSION = 1;

export const EntryKind = t.keyof({ observation: null, decision: null, outcome: null });
export type EntryKind = t.TypeOf<typeof EntryKind>;

/** The pod an entry is about: uid plus the namespace/name an operator types. */
export const PodRef = t.type({ uid: t.string, namespace: t.string, name: t.string });
export type PodRef = t.TypeOf<typeof PodRef>;

export const Entry = t.intersection([
  t.type({
    v: t.number,
    seq: t.number,
    /** RFC 3339 with sub-second precision; the only time reducers may use. */
    at: t.string,
    kind: EntryKind,
    /** Past-tense, operator-facing name: PodSpecObserved, ContainerStartRequested, ContainerKilled... */
    type: t.string,
    /** Which source or subsystem produced it: apiserver, static-pods, pleg, prober, engine, effect:cri... */
    source: t.string,
    data: t.unknown,
  }),
  t.partial({
    /** seq of the entry that caused this decision or outcome. */
    cause: t.number,
    pod: PodRef,
    /** Machine-readable reason code of a decision (LivenessProbeFailed, BackOff, PodDeleted...). */
    reason: t.string,
  }),
]);
export type Entry<D = unknown> = Omit<t.TypeOf<typeof Entry>, 'data'> & { data: D };

/** What a source emits; the engine stamps seq, at and v when it appends. */
export interface ObservationDraft<D = unknown> {
  type: string;
  source: string;
  data: D;
  pod?: PodRef;
  /** Set only by sources that replay an outcome of an earlier decision. */
  cause?: number;
}

/** What decide() returns; the engine sets cause to the seq of the entry being decided on. */
export interface DecisionDraft<D = unknown> {
  type: string;
  reason: string;
  data: D;
  pod?: PodRef;
}

/** What an effect handler returns; the engine sets cause to the decision's seq. */
export interface OutcomeDraft<D = unknown> {
  type: string;
  data: D;
  pod?: PodRef;
  source?: string;
}

/** What the log store appends: a draft of any kind plus the time it was observed. */
export interface AppendDraft<D = unknown> {
  kind: EntryKind;
  type: string;
  source: string;
  data: D;
  pod?: PodRef;
  cause?: number;
  reason?: string;
  /** RFC 3339 string or Date; the store normalises it and never lets time run backwards. */
  at: string | Date;
}
