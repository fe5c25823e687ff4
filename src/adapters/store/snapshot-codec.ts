// Stored snapshots: the folded state at a seq, plus the engine's unfinished decisions at that point.
import * as t from 'io-ts';
import { Entry } from '../../model/entry.ts';
import { describeErrors } from '../../model/decode.ts';

export const SNAPSHOT_VERSION = 1;

/** Small record listed without reading the (possibly large) state. */
export const SnapshotHead = t.type({
  v: t.number,
  seq: t.number,
  at: t.string,
  /** Cumulative encoded bytes of all entries up to and including seq (used by size retention). */
  logBytes: t.number,
  stateBytes: t.number,
});
export type SnapshotHead = t.TypeOf<typeof SnapshotHead>;

export const Snapshot = t.intersection([
  t.type({
    v: t.number,
    seq: t.number,
    at: t.string,
    state: t.unknown,
    unfinished: t.array(Entry),
  }),
  /** The rules version the state at seq is folded under; absent in snapshots older than versioned rules (the first version). */
  t.partial({ rulesVersion: t.number }),
]);
export type Snapshot<S = unknown> = Omit<t.TypeOf<typeof Snapshot>, 'state' | 'unfinished'> & {
  state: S;
  unfinished: Entry[];
};

export type SnapshotRead<S = unknown> = { ok: true; snapshot: Snapshot<S> } | { ok: false; seq: number; error: string };

export function decodeSnapshot<S>(text: string, seq: number): SnapshotRead<S> {
  let raw: unknown;
  try {
    raw = JSON.parse(text);
  } catch (err) {
    return { ok: false, seq, error: `snapshot is not valid JSON (${(err as Error).message})` };
  }
  const r = Snapshot.decode(raw);
  if (r._tag === 'Left') return { ok: false, seq, error: `snapshot: ${describeErrors(r.left).join('; ')}` };
  if (r.right.v > SNAPSHOT_VERSION) return { ok: false, seq, error: `snapshot written by a newer ledgerlet (version ${r.right.v})` };
  return { ok: true, snapshot: r.right as Snapshot<S> };
}

export function decodeSnapshotHead(text: string): SnapshotHead | undefined {
  try {
    const r = SnapshotHead.decode(JSON.parse(text));
    return r._tag === 'Right' ? r.right : undefined;
  } catch {
    return undefined;
  }
}
