// Upstream's AtomicWriter (pkg/volume/util/atomic_writer.go): a volume's files are written into a
// fresh timestamped directory, `..data` is switched to it with one rename of a symlink, and the
// user-visible names are symlinks through `..data`. A reader sees the old set of files or the new
// one, never a mix:
//
//   <dir>/..2026_11_23_10_00_00.123456789/key     the files (mode per item)
//   <dir>/..data -> ..2026_11_23_10_00_00.123456789
//   <dir>/key -> ..data/key                        one per top-level path component
//
// Writing the same payload again changes nothing (the content is compared first).
import { createHash } from 'node:crypto';
import { chmod, chown, lstat, mkdir, mkdtemp, readdir, readFile, readlink, rename, rm, stat, symlink, writeFile } from 'node:fs/promises';
import { dirname, join, normalize, sep } from 'node:path';

export interface FileProjection {
  data: Buffer;
  /** file mode, e.g. 0o644 */
  mode: number;
  /** chown to this gid (fsGroup); the file then also gets g+r as upstream's SetVolumeOwnership */
  gid?: number;
}

/** The mode a file ends up with: with an fsGroup, upstream adds g+r (read-only volume mask 0440). */
export const effectiveMode = (f: FileProjection) => (f.gid !== undefined ? f.mode | 0o440 : f.mode);

export type Payload = Record<string, FileProjection>;

export const DATA_DIR = '..data';
const DATA_TMP = '..data_tmp';

/** Upstream's path rules: relative, no '..' element, not starting with '..'. */
export function validatePath(p: string): string | undefined {
  if (p === '') return 'path must not be empty';
  if (p.length > 4096) return 'path too long';
  if (p.startsWith('/')) return `path "${p}" must be relative`;
  if (p.split('/').includes('..')) return `path "${p}" must not contain '..'`;
  if (p.startsWith('..')) return `path "${p}" must not start with '..'`;
  return undefined;
}

/** sha256 over the sorted paths, modes and contents: what the log records instead of the data. */
export function payloadHash(payload: Payload): string {
  const h = createHash('sha256');
  for (const k of Object.keys(payload).sort()) {
    h.update(k).update('\0').update(payload[k].mode.toString(8)).update('\0').update(payload[k].data).update('\0');
  }
  return `sha256:${h.digest('hex')}`;
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
function tsPrefix(now: Date): string {
  return `..${now.getUTCFullYear()}_${pad(now.getUTCMonth() + 1)}_${pad(now.getUTCDate())}_${pad(now.getUTCHours())}_${pad(now.getUTCMinutes())}_${pad(now.getUTCSeconds())}.`;
}

async function exists(p: string): Promise<boolean> {
  return lstat(p).then(() => true, () => false);
}

/** The files under the current `..data`, relative paths → content/mode (undefined: none yet). */
async function currentPayload(dir: string): Promise<Map<string, { data: Buffer; mode: number }> | undefined> {
  const target = await readlink(join(dir, DATA_DIR)).catch(() => undefined);
  if (!target) return undefined;
  const root = join(dir, target);
  const out = new Map<string, { data: Buffer; mode: number }>();
  const walk = async (rel: string): Promise<void> => {
    for (const ent of await readdir(join(root, rel), { withFileTypes: true })) {
      const r = rel ? `${rel}/${ent.name}` : ent.name;
      if (ent.isDirectory()) await walk(r);
      else out.set(r, { data: await readFile(join(root, r)), mode: (await stat(join(root, r))).mode & 0o7777 });
    }
  };
  try {
    await walk('');
  } catch {
    return undefined;
  }
  return out;
}

function samePayload(cur: Map<string, { data: Buffer; mode: number }>, next: Payload): boolean {
  const keys = Object.keys(next);
  if (keys.length !== cur.size) return false;
  return keys.every((k) => {
    const c = cur.get(normalize(k));
    return c !== undefined && c.mode === effectiveMode(next[k]) && c.data.equals(next[k].data);
  });
}

export interface WriteResult {
  /** false when the payload on disk was already this one */
  changed: boolean;
  contentHash: string;
}

/**
 * Writes `payload` into the volume directory `dir` (which must exist) atomically.
 * `now` names the timestamped directory (upstream uses the wall clock; we take the injected one).
 */
export async function writeAtomic(dir: string, payload: Payload, now: Date): Promise<WriteResult> {
  for (const p of Object.keys(payload)) {
    const bad = validatePath(p);
    if (bad) throw new Error(bad);
  }
  const contentHash = payloadHash(payload);
  const cur = await currentPayload(dir);
  const oldTsName = await readlink(join(dir, DATA_DIR)).catch(() => undefined);
  if (cur && samePayload(cur, payload)) {
    await ensureUserLinks(dir, payload);
    return { changed: false, contentHash };
  }
  // 1. the new timestamped directory with every file
  const tsDir = await mkdtemp(join(dir, tsPrefix(now)));
  await chmod(tsDir, 0o755);
  const gids = new Set<number>();
  for (const [p, f] of Object.entries(payload)) {
    const file = join(tsDir, normalize(p));
    await mkdir(dirname(file), { recursive: true, mode: 0o755 });
    await writeFile(file, f.data, { mode: effectiveMode(f) });
    await chmod(file, effectiveMode(f)); // writeFile's mode is filtered by the umask
    if (f.gid !== undefined) {
      await chown(file, -1, f.gid);
      gids.add(f.gid);
    }
  }
  // directories of an fsGroup volume: group-owned, g+rx and setgid (upstream's SetVolumeOwnership)
  for (const gid of gids) {
    for (const d of [dir, tsDir]) {
      await chown(d, -1, gid);
      await chmod(d, 0o2755);
    }
  }
  // 2. ..data_tmp -> new dir, renamed over ..data (the atomic switch)
  const tmpLink = join(dir, DATA_TMP);
  await rm(tmpLink, { force: true });
  await symlink(tsDir.slice(dir.length + 1), tmpLink);
  await rename(tmpLink, join(dir, DATA_DIR));
  // 3. user-visible links for the new top-level names; 4. remove names no longer projected
  await ensureUserLinks(dir, payload);
  const wanted = topLevel(payload);
  for (const name of await readdir(dir)) {
    if (name.startsWith('..') || wanted.has(name)) continue;
    const st = await lstat(join(dir, name));
    if (st.isSymbolicLink()) await rm(join(dir, name), { force: true });
  }
  // 5. the old timestamped directory
  if (oldTsName && oldTsName !== tsDir.slice(dir.length + 1)) await rm(join(dir, oldTsName), { recursive: true, force: true });
  return { changed: true, contentHash };
}

function topLevel(payload: Payload): Set<string> {
  return new Set(Object.keys(payload).map((p) => normalize(p).split(sep)[0]));
}

async function ensureUserLinks(dir: string, payload: Payload): Promise<void> {
  for (const name of topLevel(payload)) {
    const link = join(dir, name);
    const want = `${DATA_DIR}/${name}`;
    const have = await readlink(link).catch(() => undefined);
    if (have === want) continue;
    if (await exists(link)) await rm(link, { recursive: true, force: true });
    await symlink(want, link);
  }
}
