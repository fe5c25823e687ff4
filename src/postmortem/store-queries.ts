// LogSource queries over an open LogStore. Used by openRootDir (a stopped agent's log) and by the
// local endpoint inside a running agent, so both answer exactly the same way.
import type { LogStore } from '../adapters/store/log-store.ts';
import type { EntryRead } from '../model/entry-codec.ts';
import { nodeDecider } from '../reducers/index.ts';
import { replayLog } from '../runtime/replay.ts';
import type { EntryQuery, LogBounds, PodSeen, StateAt } from './source.ts';

/** Does a read entry pass the query's type and time filters? Unreadable entries always pass. */
export function matches(r: EntryRead, q: EntryQuery): boolean {
  if (!r.ok) return true;
  const e = r.entry;
  if (q.types && q.types.length > 0 && !q.types.includes(e.type)) return false;
  if (q.since && e.at < q.since) return false;
  if (q.until && e.at > q.until) return false;
  return true;
}

export async function* queryEntries(store: LogStore, q: EntryQuery = {}): AsyncGenerator<EntryRead> {
  let from = q.from ?? store.firstSeq;
  // `at` never decreases along seq, so a lower time bound is a seq bound found by bisection.
  if (q.since) from = Math.max(from, await store.firstSeqAtOrAfter(q.since));
  const range = { from, to: q.to };
  const it = q.pod ? store.readPod(q.pod, range) : store.readRange(range);
  for await (const r of it) {
    if (r.ok && q.until && r.entry.at > q.until) return;
    if (matches(r, q)) yield r;
  }
}

export function storeBounds(store: LogStore): LogBounds {
  const h = store.horizon;
  return {
    firstSeq: store.firstSeq,
    lastSeq: store.lastSeq,
    lastAt: store.lastAt,
    ...(h ? { firstAt: h.firstAt, horizon: { ...h } } : {}),
  };
}

export async function firstRetainedAt(store: LogStore): Promise<string | undefined> {
  if (store.horizon) return store.horizon.firstAt;
  const r = await store.getEntry(store.firstSeq);
  return r?.ok ? r.entry.at : undefined;
}

export async function seqAtOrBefore(store: LogStore, iso: string): Promise<number> {
  // Entries are stored with millisecond times: "at <= iso" is "before the next millisecond".
  const next = new Date(Date.parse(iso) + 1).toISOString();
  return (await store.firstSeqAtOrAfter(next)) - 1;
}

/** Every pod with entries in the retained log (one scan; newest name wins for a uid). */
export async function podsSeen(store: LogStore): Promise<PodSeen[]> {
  const byUid = new Map<string, PodSeen>();
  for await (const r of store.readRange({ from: store.firstSeq })) {
    if (!r.ok || !r.entry.pod) continue;
    const e = r.entry;
    const p = byUid.get(e.pod!.uid);
    if (p) Object.assign(p, { ref: e.pod, lastSeq: e.seq, lastAt: e.at });
    else byUid.set(e.pod!.uid, { ref: e.pod!, firstSeq: e.seq, lastSeq: e.seq, firstAt: e.at, lastAt: e.at });
  }
  return [...byUid.values()];
}

export async function stateAt(store: LogStore, seq: number): Promise<StateAt> {
  const r = await replayLog(store, nodeDecider, { toSeq: seq });
  const e = r.lastSeq > 0 ? await store.getEntry(r.lastSeq) : undefined;
  // At the retention horizon the entry itself is gone; its snapshot still knows the time.
  const snap = !e && r.snapshotSeq === r.lastSeq ? await store.latestSnapshot(r.lastSeq) : undefined;
  const at = e?.ok ? e.entry.at : snap?.ok ? snap.snapshot.at : undefined;
  return { seq: r.lastSeq, ...(at ? { at } : {}), state: r.state, problems: r.problems };
}
