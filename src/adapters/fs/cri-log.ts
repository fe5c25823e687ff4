// Container log files as the runtime writes them (the CRI log format, one entry per line):
//   2026-11-23T10:00:00.123456789Z stdout F the message
// `F` ends a line, `P` is a partial line continued by the next entry. This module turns them back
// into what `kubectl logs` prints, with its options (tail, since, limit, timestamps, follow).
import { open, stat } from 'node:fs/promises';

export interface CriLogEntry {
  /** RFC 3339 with nanoseconds, as written by the runtime. */
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  message: string;
}

export interface LogOptions {
  /** Only the last N entries of the file. */
  tailLines?: number;
  /** Stop after this many bytes of output. */
  limitBytes?: number;
  /** Only entries at or after this time (ms since the epoch). */
  sinceMs?: number;
  /** Prefix each entry with its time. */
  timestamps?: boolean;
}

const LINE = /^(\S+) (stdout|stderr) (?:([PF])(?::\S*)? )?(.*)$/s;

/** One line of a CRI log file; undefined for a line that does not follow the format. */
export function parseCriLogLine(line: string): CriLogEntry | undefined {
  const m = LINE.exec(line);
  if (!m) return undefined;
  return { time: m[1], stream: m[2] as CriLogEntry['stream'], partial: m[3] === 'P', message: m[4] };
}

/** What an entry prints: its message, a newline unless partial, its time first if asked. */
export function renderEntry(e: CriLogEntry, timestamps: boolean): string {
  return (timestamps ? `${e.time} ` : '') + e.message + (e.partial ? '' : '\n');
}

/** Nanosecond RFC 3339 → ms (Date.parse keeps only ms; finer digits do not matter for `since`). */
function timeMs(t: string): number {
  return Date.parse(t.replace(/(\.\d{3})\d+/, '$1'));
}

/** Apply tail/since/limit/timestamps to the text of a whole log file. */
export function renderLog(text: string, opts: LogOptions = {}): string {
  let entries = text.split('\n').filter((l) => l.length > 0).map(parseCriLogLine).filter((e): e is CriLogEntry => e !== undefined);
  if (opts.sinceMs !== undefined) entries = entries.filter((e) => timeMs(e.time) >= opts.sinceMs!);
  if (opts.tailLines !== undefined && opts.tailLines >= 0) entries = opts.tailLines === 0 ? [] : entries.slice(-opts.tailLines);
  let out = '';
  for (const e of entries) out += renderEntry(e, opts.timestamps ?? false);
  return limit(out, opts.limitBytes);
}

export function limit(out: string, limitBytes: number | undefined): string {
  if (limitBytes === undefined || Buffer.byteLength(out) <= limitBytes) return out;
  return Buffer.from(out).subarray(0, limitBytes).toString('utf8');
}

/** The file's contents from `offset`, only up to its last complete line; and where that ends. */
export async function readFrom(path: string, offset: number): Promise<{ text: string; next: number }> {
  const size = (await stat(path)).size;
  if (size <= offset) return { text: '', next: size < offset ? 0 : offset }; // shrunk: rotated or truncated
  const fh = await open(path, 'r');
  try {
    const buf = Buffer.alloc(size - offset);
    const { bytesRead } = await fh.read(buf, 0, buf.length, offset);
    const end = buf.subarray(0, bytesRead).lastIndexOf(0x0a);
    if (end < 0) return { text: '', next: offset };
    return { text: buf.subarray(0, end + 1).toString('utf8'), next: offset + end + 1 };
  } finally {
    await fh.close();
  }
}
