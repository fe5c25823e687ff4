// Cause chains: a decision names the entry it was decided on (`cause`), an outcome names its
// decision, so walking `cause` from any entry reaches the observation that started it all.
import type { EntryRead } from '../model/entry-codec.ts';
import type { Entry } from '../model/entry.ts';
import { horizonMessage } from './moments.ts';
import type { LogBounds } from './source.ts';

export interface ChainStep {
  seq: number;
  entry?: Entry;
  /** Why the step cannot be shown: before the retention horizon, unreadable... */
  problem?: string;
}

export type Lookup = (seq: number) => Promise<EntryRead | undefined>;

/** Memoised lookups: a pod's entries are usually already at hand; the rest are fetched once. */
export function cachedLookup(fetch: Lookup, known: Iterable<Entry> = []): Lookup & { add(e: Entry): void } {
  const cache = new Map<number, Promise<EntryRead | undefined>>();
  const add = (e: Entry) => void cache.set(e.seq, Promise.resolve({ ok: true, entry: e }));
  for (const e of known) add(e);
  const f = (seq: number) => {
    let p = cache.get(seq);
    if (!p) cache.set(seq, (p = fetch(seq)));
    return p;
  };
  return Object.assign(f, { add });
}

const MAX_STEPS = 64;

/** The causes of `e`, nearest first, ending at an entry without a cause (or where the log stops). */
export async function causeChain(e: Entry, lookup: Lookup, bounds: LogBounds): Promise<ChainStep[]> {
  const out: ChainStep[] = [];
  const seen = new Set<number>([e.seq]);
  let next = e.cause;
  while (next !== undefined && out.length < MAX_STEPS) {
    if (seen.has(next)) {
      out.push({ seq: next, problem: 'cause loop' });
      break;
    }
    seen.add(next);
    if (next < bounds.firstSeq) {
      out.push({ seq: next, problem: horizonMessage(bounds) });
      break;
    }
    const r = await lookup(next);
    if (!r) {
      out.push({ seq: next, problem: 'not in the log' });
      break;
    }
    if (!r.ok) {
      out.push({ seq: next, problem: `unreadable: ${r.error}` });
      break;
    }
    out.push({ seq: next, entry: r.entry });
    next = r.entry.cause;
  }
  return out;
}
