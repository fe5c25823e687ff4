// The per-container termination message file, as upstream's kubelet makes it
// (kuberuntime_container.go makeMounts / getTerminationMessage): an empty file 0666 under
// pods/<uid>/containers/<name>/ bind-mounted at terminationMessagePath, so any user in the
// container can write it; read back (its last 4 KiB) once the container has exited.
import { constants } from 'node:fs';
import { open, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { privateDir } from './private-dirs.ts';
import { writeLog } from './cri-log.ts';

/** Upstream MaxContainerTerminationMessageLength. */
export const MAX_MESSAGE_BYTES = 4 * 1024;
/** Upstream MaxContainerTerminationMessageLogLines / MaxContainerTerminationMessageLogLength. */
export const MAX_LOG_LINES = 80;
export const MAX_LOG_BYTES = 2 * 1024;

// Both come from the pod: the API server validates them, a static pod may not have been.
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]{0,61}[a-z0-9])?$/;
const UID = /^[A-Za-z0-9][A-Za-z0-9-]{0,127}$/;

/** Where the file of one container instance lives; undefined for names that are not safe path parts. */
export function terminationMessageFile(rootDir: string, podUid: string, container: string, attempt: number): string | undefined {
  if (!UID.test(podUid) || !DNS_LABEL.test(container) || !Number.isInteger(attempt) || attempt < 0) return undefined;
  return join(rootDir, 'pods', podUid, 'containers', container, `termination-${attempt}`);
}

/** At pod clean-up, once its containers are gone: every instance's file (regular files we made, never mount points). */
export async function removeTerminationMessageFiles(rootDir: string, podUid: string): Promise<void> {
  if (!UID.test(podUid)) return;
  await rm(join(rootDir, 'pods', podUid, 'containers'), { recursive: true, force: true });
}

/** Creates the (empty) file for a container instance; an existing one (a replayed start) is kept. */
export async function createTerminationMessageFile(file: string): Promise<void> {
  const dir = join(file, '..');
  await privateDir(join(dir, '..'));
  await privateDir(dir);
  const fh = await open(file, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW, 0o666);
  try {
    // The umask took bits off: upstream chmods to 0666 whatever it is.
    await fh.chmod(0o666);
  } finally {
    await fh.close();
  }
}

/** The last MAX_MESSAGE_BYTES of the file; undefined when it does not exist. Never follows a symlink. */
export async function readTerminationMessage(file: string): Promise<string | undefined> {
  let fh;
  try {
    fh = await open(file, constants.O_RDONLY | constants.O_NOFOLLOW | constants.O_NONBLOCK);
  } catch (e) {
    if ((e as { code?: string }).code === 'ENOENT') return undefined;
    throw e;
  }
  try {
    const st = await fh.stat();
    if (!st.isFile()) throw new Error('not a regular file');
    const len = Math.min(st.size, MAX_MESSAGE_BYTES);
    const buf = Buffer.alloc(len);
    const { bytesRead } = await fh.read(buf, 0, len, st.size - len);
    return buf.subarray(0, bytesRead).toString('utf8');
  } finally {
    await fh.close();
  }
}

/** FallbackToLogsOnError: the last 80 lines of the container's log, at most its last 2 KiB. */
export async function readLogTail(logPath: string): Promise<string> {
  let text = '';
  await writeLog(logPath, { tailLines: MAX_LOG_LINES }, (t) => { text += t; });
  const bytes = Buffer.from(text);
  return bytes.length <= MAX_LOG_BYTES ? text : bytes.subarray(bytes.length - MAX_LOG_BYTES).toString('utf8');
}
