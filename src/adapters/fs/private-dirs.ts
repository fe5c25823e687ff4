// Modes of the agent's own directories, as upstream's kubelet sets them (kubelet.go setupDataDirs,
// kubelet_pods.go mkdirs): the root dir, pods/, plugins/, plugins_registry/ and each pod's
// directories 0750, so no other local user can reach pod data (secret and token files keep their
// defaultMode: containers reach them through bind mounts, not through these parents). The node log
// is stricter: its directory 0700 and its files 0600. Existing directories are tightened too
// (upstream only sets the mode when it creates them).
import { watch, type FSWatcher } from 'node:fs';
import { chmod, mkdir, readdir } from 'node:fs/promises';
import { join } from 'node:path';

/** Upstream's mode for the kubelet's data directories. */
export const DATA_DIR_MODE = 0o750;
export const LOG_DIR_MODE = 0o700;
export const LOG_FILE_MODE = 0o600;

/** Creates `dir` (and missing parents) and sets its mode, whatever the umask or its old mode. */
export async function privateDir(dir: string, mode = DATA_DIR_MODE): Promise<void> {
  await mkdir(dir, { recursive: true, mode });
  await chmod(dir, mode);
}

/** The root dir and the directories under it that hold pod data or plugin sockets. */
export async function ensureRootDirs(rootDir: string): Promise<void> {
  await privateDir(rootDir);
  for (const sub of ['pods', 'plugins', 'plugins_registry']) await privateDir(join(rootDir, sub));
}

/** A pod's directory and its volumes directory (upstream: 0750 both). */
export async function ensurePodDirs(podDir: string): Promise<void> {
  await privateDir(podDir);
  await privateDir(join(podDir, 'volumes'));
}

export interface LogDirGuard {
  close(): void;
}

/**
 * The log directory 0700 and every file in it 0600, including the files LevelDB creates later
 * (new tables after a compaction, MANIFEST, LOG): LevelDB creates them with the process umask, so
 * each new name is chmodded as soon as inotify reports it. The directory's mode is what keeps
 * other users out in the meantime (a file cannot be opened through a directory one cannot search).
 */
export async function guardLogDir(dir: string): Promise<LogDirGuard> {
  await privateDir(dir, LOG_DIR_MODE);
  let watcher: FSWatcher | undefined;
  try {
    // Only 'rename' (a name appeared or went): a chmod is itself an inotify event ('change'), and
    // answering those would chmod the same file again and again, a busy loop.
    watcher = watch(dir, { persistent: false }, (event, name) => {
      if (event === 'rename' && name) chmod(join(dir, name.toString()), LOG_FILE_MODE).catch(() => undefined);
    });
    watcher.on('error', () => undefined);
  } catch {
    watcher = undefined; // no inotify: the sweep below and the 0700 directory still hold
  }
  await tightenLogFiles(dir);
  return { close: () => watcher?.close() };
}

/** chmod 0600 of every file already in the log directory. */
export async function tightenLogFiles(dir: string): Promise<void> {
  for (const name of await readdir(dir).catch(() => [] as string[])) await chmod(join(dir, name), LOG_FILE_MODE).catch(() => undefined);
}
