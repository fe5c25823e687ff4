// Encodes entries to the bytes stored in the log (JSON text) and decodes them back through the
// schema upgrade chain and the io-ts envelope codec. A bad entry becomes a readable error, never a throw.
import { Entry } from './entry.ts';
import { upgradeEntry } from './upgrade.ts';
import { describeErrors } from './decode.ts';

/** The result of reading one stored entry; commands print the error with its seq. */
export type EntryRead = { ok: true; entry: Entry } | { ok: false; seq: number; error: string };

const RFC3339_SUBSECOND = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+(Z|[+-]\d{2}:\d{2})$/;

/** Stable field order keeps the stored bytes reproducible for the same entry. */
export function encodeEntry(e: Entry): string {
  const out: Record<string, unknown> = { v: e.v, seq: e.seq, at: e.at, kind: e.kind, type: e.type, source: e.source };
  if (e.cause !== undefined) out.cause = e.cause;
  if (e.pod !== undefined) out.pod = e.pod;
  if (e.reason !== undefined) out.reason = e.reason;
  out.data = e.data === undefined ? null : e.data;
  return JSON.stringify(out);
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
