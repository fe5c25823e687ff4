// The pod's hosts file on disk: `<root>/pods/<uid>/etc-hosts`, as upstream (getEtcHostsPath). The
// file is bind-mounted read-write into the pod's containers, so it is written through a descriptor
// of the pod directory with O_NOFOLLOW: whatever stands at that name, a symlink is never followed.
import { closeSync, constants, fchmodSync, ftruncateSync, openSync, writeSync } from 'node:fs';
import { readFile, unlink } from 'node:fs/promises';
import { ensurePodDirs } from './private-dirs.ts';

export const ETC_HOSTS = 'etc-hosts';
/** Upstream's mode for the file (ensureHostsFile): containers running as any user read it. */
const HOSTS_FILE_MODE = 0o644;

/** Writes the hosts file into the pod directory `dir` (made if missing) and returns its path (the bind mount's source). */
export async function writePodHostsFile(dir: string, content: string): Promise<string> {
  await ensurePodDirs(dir);
  const dirFd = openSync(dir, constants.O_RDONLY | constants.O_DIRECTORY | constants.O_NOFOLLOW);
  try {
    // No O_TRUNC at open: a FIFO or device put here would be opened before anything is checked.
    const fd = openSync(`/proc/self/fd/${dirFd}/${ETC_HOSTS}`, constants.O_WRONLY | constants.O_CREAT | constants.O_NOFOLLOW | constants.O_NONBLOCK, HOSTS_FILE_MODE);
    try {
      ftruncateSync(fd, 0);
      writeSync(fd, content, 0, 'utf8');
      fchmodSync(fd, HOSTS_FILE_MODE);
    } finally {
      closeSync(fd);
    }
  } finally {
    closeSync(dirFd);
  }
  return `${dir}/${ETC_HOSTS}`;
}

/** Removes the pod's hosts file (pod clean-up); a missing one is fine. */
export async function removePodHostsFile(dir: string): Promise<void> {
  await unlink(`${dir}/${ETC_HOSTS}`).catch((e: { code?: string }) => {
    if (e.code !== 'ENOENT') throw e;
  });
}

/** The node's own /etc/hosts, copied for hostNetwork pods. */
export const readNodeHostsFile = (path = '/etc/hosts') => readFile(path, 'utf8');
