// Mount-table I/O for the volume manager: tmpfs and bind mounts through mount(8)/umount(8),
// and mount-point checks from /proc/self/mountinfo. The agent runs as root.
import { execFile } from 'node:child_process';
import { readFile } from 'node:fs/promises';
import { resolve } from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);

export interface MountEntry {
  /** mount point, unescaped */
  target: string;
  fsType: string;
  source: string;
  options: string[];
}

const unescape = (s: string) => s.replace(/\\([0-7]{3})/g, (_, o: string) => String.fromCharCode(parseInt(o, 8)));

/** Parses /proc/self/mountinfo (mount point = field 5; fs type and source after the ' - '). */
export function parseMountInfo(text: string): MountEntry[] {
  const out: MountEntry[] = [];
  for (const line of text.split('\n')) {
    if (!line.trim()) continue;
    const [left, right] = line.split(' - ');
    const f = left.split(' ');
    const r = (right ?? '').split(' ');
    if (f.length < 6) continue;
    out.push({ target: unescape(f[4]), options: f[5].split(','), fsType: r[0] ?? '', source: unescape(r[1] ?? '') });
  }
  return out;
}

export async function mountTable(): Promise<MountEntry[]> {
  return parseMountInfo(await readFile('/proc/self/mountinfo', 'utf8'));
}

export async function isMountPoint(path: string): Promise<boolean> {
  const p = resolve(path);
  return (await mountTable()).some((m) => m.target === p);
}

/** Mount points at or under `dir`, deepest first (the order to unmount them). */
export async function mountsUnder(dir: string): Promise<MountEntry[]> {
  const p = resolve(dir);
  return (await mountTable()).filter((m) => m.target === p || m.target.startsWith(p + '/')).sort((a, b) => b.target.length - a.target.length);
}

async function cmd(bin: string, args: string[]): Promise<void> {
  try {
    await run(bin, args, { timeout: 60_000 });
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${bin} ${args.join(' ')}: ${(err.stderr || err.message).trim()}`);
  }
}

/** tmpfs on `dir` (already a directory) unless something is mounted there; size in bytes (0 = default). */
export async function mountTmpfs(dir: string, opts: { sizeBytes?: number; mode?: number } = {}): Promise<void> {
  if (await isMountPoint(dir)) return;
  const o = [`mode=${(opts.mode ?? 0o777).toString(8)}`];
  if (opts.sizeBytes) o.push(`size=${Math.ceil(opts.sizeBytes)}`);
  await cmd('mount', ['-t', 'tmpfs', '-o', o.join(','), 'tmpfs', dir]);
}

export async function bindMount(source: string, target: string, readOnly = false): Promise<void> {
  if (await isMountPoint(target)) return;
  await cmd('mount', ['--bind', source, target]);
  if (readOnly) await cmd('mount', ['-o', 'remount,bind,ro', target]);
}

/**
 * Bind-mounts what an open descriptor names (`/proc/<pid>/fd/<n>`) onto `target`. mount(8) must
 * not canonicalize the source: resolving it to a path string and mounting that would reopen the
 * window between the check and the mount that the descriptor closes (upstream passes the same flag).
 */
export async function bindMountDescriptor(source: string, target: string): Promise<void> {
  await cmd('mount', ['--no-canonicalize', '--bind', source, target]);
}

/** Unmounts everything at `path` (stacked mounts too); a path with nothing mounted is fine. */
export async function unmount(path: string): Promise<void> {
  for (let i = 0; i < 16 && (await isMountPoint(path)); i++) await cmd('umount', [path]);
}

/** The operations the volume effects use, injectable for tests of the layout logic. */
export interface MountOps {
  isMountPoint(path: string): Promise<boolean>;
  mountTmpfs(dir: string, opts?: { sizeBytes?: number; mode?: number }): Promise<void>;
  unmount(path: string): Promise<void>;
  mountsUnder(dir: string): Promise<MountEntry[]>;
}

export const systemMounts: MountOps = { isMountPoint, mountTmpfs, unmount, mountsUnder };
