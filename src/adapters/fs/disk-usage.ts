// What a directory tree holds on disk (du): bytes in allocated blocks and inodes, walked with
// lstat so a symlink is counted as itself and never followed out of the tree, and bounded so a
// volume with millions of files cannot make one stats request walk for minutes.
import { lstat, readdir } from 'node:fs/promises';
import { join } from 'node:path';

export interface DiskUsage {
  usedBytes: number;
  inodesUsed: number;
}

/** undefined when `dir` is missing or holds more than `maxEntries` entries (then the figure would be a guess). */
export async function diskUsage(dir: string, maxEntries = 20_000): Promise<DiskUsage | undefined> {
  const top = await lstat(dir).catch(() => undefined);
  if (!top?.isDirectory()) return undefined;
  let usedBytes = top.blocks * 512;
  let inodesUsed = 1;
  const pending = [dir];
  while (pending.length) {
    const d = pending.pop()!;
    const names = await readdir(d).catch(() => [] as string[]);
    for (const n of names) {
      if (++inodesUsed > maxEntries) return undefined;
      const p = join(d, n);
      const s = await lstat(p).catch(() => undefined);
      if (!s) continue;
      // Another filesystem mounted inside (a CSI volume, a bind mount) is not this tree's usage.
      if (s.dev !== top.dev) continue;
      usedBytes += s.blocks * 512;
      if (s.isDirectory()) pending.push(p);
    }
  }
  return { usedBytes, inodesUsed };
}
