// Container log rotation on disk, as upstream's container log manager (pkg/kubelet/logs) does it:
// `<log>` is renamed to `<log>.<YYYYMMDD-hhmmss>`, the runtime is asked to reopen `<log>`, older
// rotated files are gzip-compressed to `<name>.gz`, and at most maxFiles files (the live one
// included) are kept, the oldest removed first so that a running `kubectl logs` is not cut short.
import { createReadStream, createWriteStream } from 'node:fs';
import { readdir, rename, rm, stat } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { pipeline } from 'node:stream/promises';
import { createGzip } from 'node:zlib';

const COMPRESSED = '.gz';
const TMP = '.tmp';

/** Upstream's timestamp suffix (Go layout 20060102-150405, the node's local time). */
export function rotationSuffix(now: Date): string {
  const p = (n: number) => String(n).padStart(2, '0');
  return `${now.getFullYear()}${p(now.getMonth() + 1)}${p(now.getDate())}-${p(now.getHours())}${p(now.getMinutes())}${p(now.getSeconds())}`;
}

/** The rotated files of `log` (`<log>.*`), oldest first: the suffix is a sortable timestamp. */
export async function rotatedFiles(log: string): Promise<string[]> {
  const prefix = `${basename(log)}.`;
  const names = await readdir(dirname(log)).catch(() => [] as string[]);
  return names.filter((n) => n.startsWith(prefix)).sort().map((n) => join(dirname(log), n));
}

/** What a crash mid-compression left behind: a .tmp file, or a plain file whose .gz exists. */
function unused(file: string, all: string[]): boolean {
  return file.endsWith(TMP) || (!file.endsWith(COMPRESSED) && all.includes(file + COMPRESSED));
}

async function compress(file: string): Promise<void> {
  const mode = (await stat(file)).mode & 0o777;
  await pipeline(createReadStream(file), createGzip(), createWriteStream(file + TMP, { mode }));
  await rename(file + TMP, file + COMPRESSED);
  await rm(file);
}

export interface RotationPolicy {
  maxBytes: number;
  /** Files kept, the live one included (upstream requires > 1). */
  maxFiles: number;
}

/**
 * Rotates `log` when it has reached maxBytes; `reopen` asks the runtime to start a new file.
 * Returns whether it rotated. On a failed reopen the file is renamed back, as upstream does, so
 * the next round tries again and nothing is lost.
 */
export async function rotateIfNeeded(log: string, policy: RotationPolicy, now: Date, reopen: () => Promise<void>): Promise<boolean> {
  const size = await stat(log).then((s) => s.size, (e: NodeJS.ErrnoException) => {
    if (e.code === 'ENOENT') return undefined;
    throw e;
  });
  if (size === undefined) {
    await reopen(); // the file was removed under the runtime: have it write a new one
    return false;
  }
  if (size < policy.maxBytes) return false;
  const target = `${log}.${rotationSuffix(now)}`;
  let rotated = await rotatedFiles(log);
  if (rotated.some((f) => f === target || f === target + COMPRESSED)) return false; // rotated this second already
  for (const f of rotated.filter((f) => unused(f, rotated))) await rm(f, { force: true });
  rotated = rotated.filter((f) => !unused(f, rotated));
  // The live file and the one being rotated now take two of the maxFiles places.
  const excess = rotated.length - Math.max(0, policy.maxFiles - 2);
  for (const f of rotated.slice(0, Math.max(0, excess))) await rm(f, { force: true });
  for (const f of rotated.slice(Math.max(0, excess))) if (!f.endsWith(COMPRESSED)) await compress(f);
  await rename(log, target);
  try {
    await reopen();
  } catch (e) {
    await rename(target, log);
    throw e;
  }
  return true;
}
