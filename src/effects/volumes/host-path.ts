// hostPath volumes: the type check upstream runs before the path is used (pkg/volume/hostpath).
import { chmod, lstat, mkdir, open, stat } from 'node:fs/promises';
import type { Stats } from 'node:fs';
import { dirname } from 'node:path';
import { VolumeError } from './errors.ts';

export type HostPathType = '' | 'DirectoryOrCreate' | 'Directory' | 'FileOrCreate' | 'File' | 'Socket' | 'CharDevice' | 'BlockDevice';
export const HOST_PATH_TYPES: HostPathType[] = ['', 'DirectoryOrCreate', 'Directory', 'FileOrCreate', 'File', 'Socket', 'CharDevice', 'BlockDevice'];

const fail = (msg: string) => new VolumeError('FailedMount', `hostPath type check failed: ${msg}`);

/** Checks (and for the *OrCreate types, creates) `path`; throws a VolumeError with upstream's wording. */
export async function checkHostPath(path: string, type: string | undefined): Promise<void> {
  const t = (type ?? '') as HostPathType;
  if (!HOST_PATH_TYPES.includes(t)) throw fail(`${path}: unknown hostPath type "${type}"`);
  if (t === '') return;
  let st: Stats | undefined = await stat(path).catch(() => undefined);
  if (!st && t === 'DirectoryOrCreate') {
    await mkdir(path, { recursive: true, mode: 0o755 });
    await chmod(path, 0o755);
    st = await stat(path);
  }
  if (!st && t === 'FileOrCreate') {
    // As upstream, the parent directory is not created.
    const parent = await lstat(dirname(path)).catch(() => undefined);
    if (!parent?.isDirectory()) throw fail(`${path}: parent directory ${dirname(path)} does not exist`);
    const fh = await open(path, 'a', 0o644);
    await fh.close();
    await chmod(path, 0o644);
    st = await stat(path);
  }
  switch (t) {
    case 'DirectoryOrCreate':
    case 'Directory':
      if (!st?.isDirectory()) throw fail(`${path} is not a directory`);
      return;
    case 'FileOrCreate':
    case 'File':
      if (!st?.isFile()) throw fail(`${path} is not a file`);
      return;
    case 'Socket':
      if (!st?.isSocket()) throw fail(`${path} is not a socket file`);
      return;
    case 'CharDevice':
      if (!st?.isCharacterDevice()) throw fail(`${path} is not a character device`);
      return;
    case 'BlockDevice':
      if (!st?.isBlockDevice()) throw fail(`${path} is not a block device`);
      return;
  }
}
