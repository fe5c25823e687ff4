// Encodes entries to the bytes stored in the log (JSON text) and decodes them back through the
// schema upgrade chain and the io-ts envelope codec. A bad entry becomes a readable error, never a throw.
import { Entry } from './entry.ts';
import { upgradeEntry } from './upgrade.ts';
import { describeErrors } from './decode.ts';

/** The result of reading one stored entry; commands print the error with its seq. `toSeq` is set
 *  when a whole range of entries is lost (a damaged log). */
export type EntryRead = { ok: true; entry: Entry } | { ok: false; seq: number; error: string; toSeq?: number };

const RFC3339_SUBSECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+(Z|[+-]\d{2}:\d{2})$/;

/**
 * Stable field order keeps the stored bytes reproducible for the same entry. Built by hand rather
 * than through an intermediate object: this runs once per appended entry and is the largest
 * JavaScript cost of an append (docs/performance.md). Same bytes as JSON.stringify of
 * { v, seq, at, kind, type, source, cause?, pod?: { uid, namespace, name }, reason?, data }.
 */
export function encodeEntry(e: Entry): string {
  let s = '{"v":' + num(e.v) + ',"seq":' + num(e.seq) + ',"at":' + time(e.at) + ',"kind":' + word(e.kind) + ',"type":' + word(e.type) + ',"source":' + word(e.source);
  if (e.cause !== undefined) s += ',"cause":' + num(e.cause);
  if (e.pod !== undefined) s += ',"pod":{"uid":' + word(e.pod.uid) + ',"namespace":' + word(e.pod.namespace) + ',"name":' + word(e.pod.name) + '}';
  if (e.reason !== undefined) s += ',"reason":' + word(e.reason);
  return s + ',"data":' + (e.data === undefined ? 'null' : (JSON.stringify(e.data) ?? 'null')) + '}';
}

const num = (n: number): string => (Number.isFinite(n) ? String(n) : 'null');

// Stamped times are canonical (digits and -:.TZ), which need no escaping.
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;
const time = (at: string): string => (CANONICAL_TIME.test(at) ? '"' + at + '"' : JSON.stringify(at));

// Kinds, types, sources, reasons and pod names and uids come from a small working set: quote each
// once. The cache is dropped when full, so pods that are long gone do not pin it.
const quoted = new Map<string, string>();
function word(s: string): string {
  let q = quoted.get(s);
  if (q === undefined) {
    q = JSON.stringify(s);
    if (quoted.size >= 8192) quoted.clear();
    quoted.set(s, q);
  }
  return q;
}

/** Decode stored text; `seq` is the key it was stored under, checked against the body. */
export function decodeEntry(text: string, seq: number): EntryRead {
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (err) {
    return { ok: false, seq, error: `not valid JSON (${(err as Error).message})` };
  }
  const up = upgradeEntry(parsed);
  if (!up.ok) return { ok: false, seq, error: up.error };
  const raw = up.raw;
  // Fast path: a guard check allocates nothing; only a failing entry pays for the error report.
  if (!Entry.is(raw)) {
    const r = Entry.decode(raw);
    const msg = r._tag === 'Left' ? describeErrors(r.left).join('; ') : 'does not match the entry envelope';
    return { ok: false, seq, error: msg };
  }
  if (raw.seq !== seq) return { ok: false, seq, error: `stored under seq ${seq} but says seq ${raw.seq}` };
  if (!RFC3339_SUBSECOND.test(raw.at)) return { ok: false, seq, error: `at: expected RFC 3339 with sub-second precision, got ${JSON.stringify(raw.at)}` };
  return { ok: true, entry: raw as Entry };
}
