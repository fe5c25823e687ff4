// Container log files as the runtime writes them (the CRI log format, one entry per line):
//   2026-11-23T10:00:00.123456789Z stdout F the message
// `F` ends a line, `P` is a partial line continued by the next entry. This module turns them back
// into what `kubectl logs` prints, with its options (tail, since, limit, timestamps, follow).
import { open, type FileHandle } from 'node:fs/promises';

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

export function limit(out: string, limitBytes: number | undefined): string {
  if (limitBytes === undefined || Buffer.byteLength(out) <= limitBytes) return out;
  return Buffer.from(out).subarray(0, limitBytes).toString('utf8');
}

/** Reads are this big: memory per request stays bounded whatever the file's size. */
const CHUNK = 64 * 1024;
/**
 * A "line" longer than this is dropped rather than buffered: runtimes split lines at 16 KiB
 * (containerd's max_container_log_line_size), so only a damaged or hostile file has one.
 */
export const MAX_LINE_BYTES = 1 << 20;
const NL = 0x0a;

/** Offset just after the last newline before `size`: the end of the last complete line. */
async function lastLineEnd(fh: FileHandle, size: number): Promise<number> {
  const buf = Buffer.alloc(CHUNK);
  for (let end = size; end > 0; end -= CHUNK) {
    const start = Math.max(0, end - CHUNK);
    const { bytesRead } = await fh.read(buf, 0, end - start, start);
    const i = buf.subarray(0, bytesRead).lastIndexOf(NL);
    if (i >= 0) return start + i + 1;
  }
  return 0;
}

/** Where the last `n` lines before `end` (a line end) begin, read backwards chunk by chunk. */
export async function tailOffset(fh: FileHandle, end: number, n: number): Promise<number> {
  if (n <= 0) return end;
  const buf = Buffer.alloc(CHUNK);
  let seen = 0;
  for (let hi = end; hi > 0; hi -= CHUNK) {
    const lo = Math.max(0, hi - CHUNK);
    const { bytesRead } = await fh.read(buf, 0, hi - lo, lo);
    for (let i = bytesRead - 1; i >= 0; i--) {
      // The newline ending the last line is the first one met; the (n+1)th ends the line before the tail.
      if (buf[i] === NL && ++seen === n + 1) return lo + i + 1;
    }
  }
  return 0;
}

/** The complete lines of [start, end), without their newlines, one chunk in memory at a time. */
export async function* linesIn(fh: FileHandle, start: number, end: number): AsyncGenerator<string> {
  const buf = Buffer.alloc(CHUNK);
  let carry: Buffer[] = [];
  let carried = 0;
  let dropping = false;
  for (let pos = start; pos < end; ) {
    const { bytesRead } = await fh.read(buf, 0, Math.min(CHUNK, end - pos), pos);
    if (bytesRead === 0) break;
    pos += bytesRead;
    let from = 0;
    for (let nl = buf.indexOf(NL, 0); nl >= 0 && nl < bytesRead; nl = buf.indexOf(NL, from)) {
      if (!dropping && carried + nl - from <= MAX_LINE_BYTES) yield Buffer.concat([...carry, buf.subarray(from, nl)]).toString('utf8');
      carry = [];
      carried = 0;
      dropping = false;
      from = nl + 1;
    }
    if (from < bytesRead && !dropping) {
      carried += bytesRead - from;
      if (carried > MAX_LINE_BYTES) (dropping = true), (carry = []), (carried = 0);
      else carry.push(Buffer.from(buf.subarray(from, bytesRead)));
    }
  }
}

export interface LogRead {
  /** Offset after the last complete line written or skipped: where a follow goes on. */
  next: number;
  /** Bytes of output written. */
  written: number;
  /** The file read (its inode): a follow notices the live file was rotated away when this changes. */
  ino: number;
}

/**
 * Streams a CRI log file as `kubectl logs` prints it, as upstream's ReadLogs does: the tail is
 * found by reading backwards, `since` filters what follows, output stops at `limitBytes`. Memory
 * is a chunk and one line; `write` may return a promise to apply backpressure. `from` resumes a
 * follow (a file now shorter than `from` was rotated or truncated: it is read from the start).
 */
export async function writeLog(path: string, opts: LogOptions & { from?: number }, write: (text: string) => void | Promise<void>): Promise<LogRead> {
  const fh = await open(path, 'r');
  try {
    const { size, ino } = await fh.stat();
    const from = opts.from !== undefined && opts.from <= size ? opts.from : 0;
    const end = await lastLineEnd(fh, size);
    if (end <= from) return { next: Math.max(from, end), written: 0, ino };
    const start = opts.tailLines !== undefined && opts.tailLines >= 0 ? Math.max(from, await tailOffset(fh, end, opts.tailLines)) : from;
    let budget = opts.limitBytes ?? Infinity;
    let pending = '';
    let pendingBytes = 0;
    let written = 0;
    const flush = async () => {
      if (!pending) return;
      const text = limit(pending, Number.isFinite(budget) ? budget : undefined);
      pending = '';
      pendingBytes = 0;
      const bytes = Buffer.byteLength(text);
      budget -= bytes;
      written += bytes;
      await write(text);
    };
    for await (const line of linesIn(fh, start, end)) {
      const e = line.length > 0 ? parseCriLogLine(line) : undefined;
      if (!e || (opts.sinceMs !== undefined && timeMs(e.time) < opts.sinceMs)) continue;
      const text = renderEntry(e, opts.timestamps ?? false);
      pending += text;
      pendingBytes += Buffer.byteLength(text);
      if (pendingBytes >= CHUNK || pendingBytes >= budget) {
        await flush();
        if (budget <= 0) break;
      }
    }
    await flush();
    return { next: end, written, ino };
  } finally {
    await fh.close();
  }
}
