// Opening a path inside a directory the pod controls (a volume) without ever leaving it: the
// equivalent of upstream's doSafeOpen / doSafeMakeDir (pkg/volume/util/subpath/subpath_linux.go).
//
// Node has no openat(2). `/proc/self/fd/<dirfd>/<name>` is one: the kernel jumps to the open
// directory itself (not to a path re-read from the disk), then looks `<name>` up in it, and
// O_NOFOLLOW applies to that last (only) component. So each step opens one component relative to
// the directory opened before, and a symlink is never followed by the kernel: it is read, and its
// target is walked the same way, only while it stays inside the root (as upstream, which resolves
// symlinks first and then refuses anything outside the volume). A symlink swapped in after a step
// is opened as the symlink itself (O_PATH | O_NOFOLLOW) and refused; whatever a pod changes, the
// descriptor returned names a file reached through real directories below the root.
import { closeSync, constants, fchmodSync, fstatSync, mkdirSync, openSync, readlinkSync, realpathSync, type Stats } from 'node:fs';

/** Linux's O_PATH (absent from fs.constants): a handle to the file without opening it (no FIFO can hang it). */
const O_PATH = 0o10000000;
const PATH_NOFOLLOW = O_PATH | constants.O_NOFOLLOW;
/** Linux's MAXSYMLINKS. */
const MAX_SYMLINKS = 40;

/** Why a path could not be opened inside its root; `creating` when making a missing directory failed. */
export class InsideRootError extends Error {
  constructor(message: string, readonly creating = false) {
    super(message);
  }
}

export interface OpenedInside {
  /** A descriptor of the file or directory; the caller closes it. */
  fd: number;
  stats: Stats;
  /** Where it was found, relative to the root, symlinks resolved (for messages). */
  relative: string;
}

const at = (dirFd: number, name: string) => `/proc/self/fd/${dirFd}/${name}`;

function errnoOf(e: unknown): string | undefined {
  return (e as { code?: string }).code;
}

/**
 * Opens `components` below `root`. `root` itself is resolved once (it is the agent's own volume
 * directory, or a hostPath the pod was given whole). With `create`, missing directories are made
 * one at a time (mkdir in the opened parent, then opened without following) with exactly that mode.
 */
export function openInside(root: string, components: string[], create?: { mode: number }): OpenedInside {
  const realRoot = realpathSync(root);
  const stack: { name: string; fd: number }[] = [{ name: '', fd: openSync(realRoot, PATH_NOFOLLOW | constants.O_DIRECTORY) }];
  const queue = [...components];
  let symlinks = 0;
  const here = () => stack.slice(1).map((s) => s.name).join('/');
  try {
    while (queue.length) {
      const name = queue.shift()!;
      if (name === '' || name === '.') continue;
      if (name === '..') {
        // Only symlink targets bring `..` here (the sub-path was checked); never above the root.
        if (stack.length === 1) throw new InsideRootError(`a symlink leads above the volume root at "${here() || '.'}"`);
        closeSync(stack.pop()!.fd);
        continue;
      }
      if (name.includes('\0')) throw new InsideRootError('path contains a NUL byte');
      const parent = stack[stack.length - 1];
      const path = here() ? `${here()}/${name}` : name;
      let fd: number;
      try {
        fd = openSync(at(parent.fd, name), PATH_NOFOLLOW);
      } catch (e) {
        if (errnoOf(e) !== 'ENOENT' || !create) throw new InsideRootError(`cannot open ${path}: ${errnoOf(e) ?? String(e)}`);
        try {
          mkdirSync(at(parent.fd, name), create.mode);
          // Opened as a directory, not following: if it was swapped for a symlink this fails.
          fd = openSync(at(parent.fd, name), constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
        } catch (me) {
          throw new InsideRootError(`cannot create directory ${path}: ${errnoOf(me) ?? String(me)}`, true);
        }
        // mkdir's mode went through the umask: set the one asked for (upstream's Fchmod).
        fchmodSync(fd, create.mode);
      }
      const st = fstatSync(fd);
      if (st.isSymbolicLink()) {
        closeSync(fd);
        if (++symlinks > MAX_SYMLINKS) throw new InsideRootError(`too many levels of symbolic links at ${path}`);
        const target = readlinkSync(at(parent.fd, name));
        if (target.startsWith('/')) {
          // An absolute target counts only if it names a place inside the root.
          if (target !== realRoot && !target.startsWith(realRoot.endsWith('/') ? realRoot : realRoot + '/')) throw new InsideRootError(`${path} is a symlink to ${target}, outside the volume`);
          while (stack.length > 1) closeSync(stack.pop()!.fd);
          queue.unshift(...target.slice(realRoot.length).split('/'));
        } else {
          queue.unshift(...target.split('/'));
        }
        continue;
      }
      if (queue.some((q) => q !== '' && q !== '.') && !st.isDirectory()) {
        closeSync(fd);
        throw new InsideRootError(`${path} is not a directory`);
      }
      stack.push({ name, fd });
    }
    const relative = here();
    const last = stack.pop()!;
    return { fd: last.fd, stats: fstatSync(last.fd), relative };
  } finally {
    for (const s of stack) closeSync(s.fd);
  }
}

/** The path another process uses to reach an open descriptor of this one (mount's source). */
export const descriptorPath = (fd: number) => `/proc/${process.pid}/fd/${fd}`;
