// subPath mounts as upstream's doBindSubPath / CleanSubPaths (pkg/volume/util/subpath): the
// sub-path is opened inside its volume without following symlinks out of it (missing directories
// made the same way), and what was opened, not a path, is bind-mounted from /proc/<pid>/fd/<n> to
// <root>/pods/<uid>/volume-subpaths/<volume>/<container>/<index>. The runtime gets that target, so
// nothing the pod changes in its volume after the check can redirect the mount.
import { closeSync, statSync } from 'node:fs';
import { mkdir, rm, rmdir, stat, unlink, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import { descriptorPath, InsideRootError, openInside } from '../../adapters/fs/inside-root.ts';
import { bindMountDescriptor, isMountPoint, mountsUnder, unmount } from '../../adapters/mount/index.ts';
import { isSafePathComponent, subPathComponents } from '../../model/subpath.ts';
import { errorMessage } from './errors.ts';
import { podSubPathsDir, subPathTarget } from './layout.ts';

/** A subPath the container cannot have: `message` is upstream's (shown to the pod's owner), `detail` is for the operator. */
export class SubPathError extends Error {
  constructor(message: string, readonly detail: string) {
    super(message);
  }
}

export interface SubPathRequest {
  rootDir: string;
  podUid: string;
  container: string;
  volume: string;
  /** The mount's index in the container's volumeMounts. */
  index: number;
  /** The volume's own directory. */
  volumePath: string;
  /** Checked (relative, no `..`): src/model/subpath.ts. */
  subPath: string;
}

/** Bind-mounts the sub-path and returns the target to give the runtime. */
export async function prepareSubPath(r: SubPathRequest): Promise<string> {
  const prepareFailed = (detail: string) => new SubPathError(`failed to prepare subPath for volumeMount "${r.volume}" of container "${r.container}"`, detail);
  for (const name of [r.podUid, r.volume, r.container]) {
    if (!isSafePathComponent(name)) throw prepareFailed(`"${name}" cannot name a directory`);
  }
  // Upstream creates missing directories with the volume root's own mode (0777 for an emptyDir).
  let mode: number;
  try {
    mode = statSync(r.volumePath).mode & 0o7777;
  } catch (e) {
    throw prepareFailed(`volume path ${r.volumePath}: ${errorMessage(e)}`);
  }
  let opened;
  try {
    opened = openInside(r.volumePath, subPathComponents(r.subPath), { mode });
  } catch (e) {
    if (e instanceof InsideRootError && e.creating) {
      throw new SubPathError(`failed to create subPath directory for volumeMount "${r.volume}" of container "${r.container}"`, `subPath "${r.subPath}" in ${r.volumePath}: ${e.message}`);
    }
    throw prepareFailed(`subPath "${r.subPath}" in ${r.volumePath}: ${errorMessage(e)}`);
  }
  const target = subPathTarget(r.rootDir, r.podUid, r.volume, r.container, r.index);
  try {
    if (await isMountPoint(target)) {
      // Set up before (a restart of the container, or of the agent): keep it if it is still the same file.
      const now = await stat(target);
      if (now.dev === opened.stats.dev && now.ino === opened.stats.ino) return target;
      await unmount(target);
    }
    await mkdir(dirname(target), { recursive: true, mode: 0o750 });
    const existing = await stat(target).catch(() => undefined);
    if (existing && existing.isDirectory() !== opened.stats.isDirectory()) await (existing.isDirectory() ? rmdir(target) : unlink(target));
    // A file target serves every non-directory (a bind mount over it takes the source's type).
    if (opened.stats.isDirectory()) await mkdir(target, { mode: 0o750 }).catch((e) => { if ((e as { code?: string }).code !== 'EEXIST') throw e; });
    else await writeFile(target, '', { mode: 0o640, flag: 'a' });
    try {
      await bindMountDescriptor(descriptorPath(opened.fd), target);
    } catch (e) {
      await (opened.stats.isDirectory() ? rmdir(target) : unlink(target)).catch(() => undefined);
      throw e;
    }
    return target;
  } catch (e) {
    throw prepareFailed(`bind mount of "${r.subPath}" (${opened.relative || '.'}) at ${target}: ${errorMessage(e)}`);
  } finally {
    closeSync(opened.fd);
  }
}

/**
 * Unmounts and removes every subPath bind target of a pod (at teardown, after its containers are
 * gone; also what a crash left behind). Nothing is removed while anything below is still mounted.
 */
export async function cleanSubPaths(rootDir: string, podUid: string): Promise<void> {
  const dir = podSubPathsDir(rootDir, podUid);
  for (const m of await mountsUnder(dir)) await unmount(m.target);
  const left = await mountsUnder(dir);
  if (left.length) throw new Error(`${left[0].target} is still mounted`);
  await rm(dir, { recursive: true, force: true });
}
