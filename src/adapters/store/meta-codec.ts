// Records kept in the `meta` sublevel, written in the same batch as the entries they describe.
import * as t from 'io-ts';

/** The log's tail: survives retention emptying the log, so seq never restarts. */
export const TailMeta = t.type({ lastSeq: t.number, lastAt: t.string, bytes: t.number });
export type TailMeta = t.TypeOf<typeof TailMeta>;

/** Retention horizon: entries before firstSeq were removed; the snapshot at snapshotSeq replaces them. */
export const HorizonMeta = t.type({ firstSeq: t.number, firstAt: t.string, snapshotSeq: t.number });
export type HorizonMeta = t.TypeOf<typeof HorizonMeta>;

export function decodeMeta<A>(codec: t.Decoder<unknown, A>, text: string | undefined): A | undefined {
  if (text === undefined) return undefined;
  try {
    const r = codec.decode(JSON.parse(text));
    return r._tag === 'Right' ? r.right : undefined;
  } catch {
    return undefined;
  }
}
