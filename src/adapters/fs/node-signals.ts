// The machine's eviction signals: memory from /proc/meminfo (MemAvailable; upstream derives it
// from the root cgroup's working set), nodefs from statfs of the root dir, imagefs from statfs of
// the runtime's image filesystem, pids from pid_max and the kernel's task count.
import { readFile, statfs } from 'node:fs/promises';
import type { ObservedSignals, SignalValue } from '../../model/eviction.ts';

async function fsSignals(path: string): Promise<{ bytes: SignalValue; inodes: SignalValue } | undefined> {
  const s = await statfs(path).catch(() => undefined);
  if (!s) return undefined;
  return { bytes: { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize }, inodes: { available: s.ffree, capacity: s.files } };
}

export async function readNodeSignals(o: { rootDir: string; imageFsPath?: string }): Promise<ObservedSignals> {
  const out: ObservedSignals = {};
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1]) * 1024;
  if (Number.isFinite(kb('MemAvailable')) && Number.isFinite(kb('MemTotal'))) out['memory.available'] = { available: kb('MemAvailable'), capacity: kb('MemTotal') };
  const node = await fsSignals(o.rootDir);
  if (node) {
    out['nodefs.available'] = node.bytes;
    out['nodefs.inodesFree'] = node.inodes;
  }
  const image = o.imageFsPath ? await fsSignals(o.imageFsPath) : node;
  if (image) {
    out['imagefs.available'] = image.bytes;
    out['imagefs.inodesFree'] = image.inodes;
  }
  const pidMax = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => '')).trim());
  const tasks = Number((await readFile('/proc/loadavg', 'utf8').catch(() => '')).split(' ')[3]?.split('/')[1]);
  if (pidMax > 0 && Number.isFinite(tasks)) out['pid.available'] = { available: pidMax - tasks, capacity: pidMax };
  return out;
}
