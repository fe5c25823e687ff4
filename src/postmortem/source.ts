// The read model the postmortem commands share: one interface, answered either by the log in a
// stopped agent's root directory (or a copy) or by a running agent's local endpoint, since
// LevelDB admits one process at a time.
import type { EntryRead } from '../model/entry-codec.ts';
import type { PodRef } from '../model/entry.ts';

/** The local endpoint's socket, under the agent's root directory. */
export const LOCAL_API_SOCKET = 'ledgerlet.sock';

export interface EntryQuery {
  from?: number;
  to?: number;
  /** Pod uid: read through the by-pod index. */
  pod?: string;
  /** Keep only these entry types. */
  types?: string[];
  /** RFC 3339 bounds on `at`, inclusive. */
  since?: string;
  until?: string;
}

export interface LogBounds {
  /** First retained seq (1 unless retention removed older entries). */
  firstSeq: number;
  firstAt?: string;
  lastSeq: number;
  lastAt: string;
  /** Set when retention cut the log; the snapshot at snapshotSeq stands for what was removed. */
  horizon?: { firstSeq: number; firstAt: string; snapshotSeq: number };
}

/** A pod the log has entries about, with the span of those entries. */
export interface PodSeen {
  ref: PodRef;
  firstSeq: number;
  lastSeq: number;
  firstAt: string;
  lastAt: string;
}

export interface StateAt<S = unknown> {
  /** Seq of the last entry folded into `state`. */
  seq: number;
  at?: string;
  state: S;
  /** Unreadable entries and reducer errors met on the way, by seq. */
  problems: Array<{ seq: number; error: string }>;
}

export interface LogSource {
  /** Where the answers come from, for messages ("log at DIR", "agent at SOCKET"). */
  readonly origin: string;
  bounds(): Promise<LogBounds>;
  entries(q?: EntryQuery): AsyncIterable<EntryRead>;
  entry(seq: number): Promise<EntryRead | undefined>;
  /** Seq of the last entry with at <= iso (firstSeq - 1 when none). */
  seqAtOrBefore(iso: string): Promise<number>;
  pods(): Promise<PodSeen[]>;
  /** The node's folded state after entry `seq`. */
  stateAt(seq: number): Promise<StateAt>;
  /** Damage met by the reads so far (lost entry ranges also come as failed reads); none over an endpoint. */
  damage?(): string[];
  close(): Promise<void>;
}

/** Thrown for what an operator must be told plainly (a time before the horizon, no such pod...). */
export class PostmortemError extends Error {
  override name = 'PostmortemError';
}
