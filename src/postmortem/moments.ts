// Moments an operator names on the command line: `#SEQ` (or a bare number), an RFC 3339 time, or
// a time relative to now (`-10m`, `-2h`, `-30s`, `-1d`). Each resolves to a seq of the log, and a
// moment the log no longer holds is said plainly.
import { PostmortemError, type LogBounds, type LogSource } from './source.ts';

export type Moment = { kind: 'seq'; seq: number } | { kind: 'time'; iso: string; text: string };

const UNIT_MS: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 };

export function parseMoment(text: string, now: Date): Moment {
  const t = text.trim();
  const seq = /^#?(\d+)$/.exec(t);
  if (seq) return { kind: 'seq', seq: Number(seq[1]) };
  const rel = /^-(\d+(?:\.\d+)?)([smhd])$/.exec(t);
  if (rel) return { kind: 'time', iso: new Date(now.getTime() - Number(rel[1]) * UNIT_MS[rel[2]]).toISOString(), text: t };
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:\d{2})$/.test(t) && !Number.isNaN(Date.parse(t))) {
    return { kind: 'time', iso: new Date(Date.parse(t)).toISOString(), text: t };
  }
  throw new PostmortemError(`cannot read ${JSON.stringify(text)} as a moment: use #SEQ, an RFC 3339 time (2026-11-23T11:25:42Z) or a relative time (-10m)`);
}

export function horizonMessage(b: LogBounds): string {
  return `before the retention horizon (first retained entry #${b.firstSeq}${b.firstAt ? ` at ${b.firstAt}` : ''})`;
}

/** Is a time before the first retained entry (so part of what was asked about is gone)? */
export function timeBeforeHorizon(b: LogBounds, iso: string): boolean {
  return b.horizon !== undefined && b.firstAt !== undefined && iso < b.firstAt;
}

/**
 * The seq whose state a moment names: the entry itself for #SEQ, else the last entry at or before
 * the time. States exist from the horizon's snapshot on (or from seq 0, the empty node).
 */
export async function stateSeqOf(src: LogSource, m: Moment, b: LogBounds): Promise<number> {
  const lowest = b.horizon ? b.horizon.snapshotSeq : 0;
  if (m.kind === 'seq') {
    if (m.seq < lowest) throw new PostmortemError(`#${m.seq} is ${horizonMessage(b)}`);
    if (m.seq > b.lastSeq) throw new PostmortemError(`#${m.seq} is after the end of the log (last entry #${b.lastSeq} at ${b.lastAt})`);
    return m.seq;
  }
  if (timeBeforeHorizon(b, m.iso)) throw new PostmortemError(`${m.text} (${m.iso}) is ${horizonMessage(b)}`);
  if (!b.horizon && b.firstAt && m.iso < b.firstAt) throw new PostmortemError(`${m.text} (${m.iso}) is before the first entry of the log (#${b.firstSeq} at ${b.firstAt})`);
  if (m.iso > b.lastAt) throw new PostmortemError(`${m.text} (${m.iso}) is after the end of the log (last entry #${b.lastSeq} at ${b.lastAt})`);
  return Math.max(lowest, await src.seqAtOrBefore(m.iso));
}

/** A moment as an RFC 3339 bound for `--since/--until` (a seq bound becomes that entry's time). */
export async function timeBoundOf(src: LogSource, m: Moment): Promise<{ iso?: string; seq?: number }> {
  return m.kind === 'seq' ? { seq: m.seq } : { iso: m.iso };
}
