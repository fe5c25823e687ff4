// The machine's eviction signals: memory from /proc/meminfo (MemAvailable; upstream derives it
// from the root cgroup's working set), nodefs from statfs of the root dir, imagefs from statfs of
// the runtime's image filesystem, pids from pid_max and the kernel's task count. The same figures
// feed the summary API and /metrics/resource (readNodeUsage), so both agree with eviction.
import { readFile, statfs } from 'node:fs/promises';
import type { ObservedSignals, SignalValue } from '../../model/eviction.ts';

async function fsSignals(path: string): Promise<{ bytes: SignalValue; inodes: SignalValue } | undefined> {
  const s = await statfs(path).catch(() => undefined);
  if (!s) return undefined;
  return { bytes: { available: s.bavail * s.bsize, capacity: s.blocks * s.bsize }, inodes: { available: s.ffree, capacity: s.files } };
}

export async function readNodeSignals(o: { rootDir: string; imageFsPath?: string }): Promise<ObservedSignals> {
  const out: ObservedSignals = {};
  const mem = await readMemory();
  if (mem) out['memory.available'] = { available: mem.availableBytes, capacity: mem.capacityBytes };
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
  const pids = await readPids();
  if (pids) out['pid.available'] = { available: pids.max - pids.running, capacity: pids.max };
  return out;
}

/** /proc/meminfo: MemTotal and MemAvailable (the working set is what is not available). */
async function readMemory(): Promise<{ capacityBytes: number; availableBytes: number; freeBytes: number } | undefined> {
  const meminfo = await readFile('/proc/meminfo', 'utf8').catch(() => '');
  const kb = (k: string) => Number(new RegExp(`^${k}:\\s+(\\d+) kB`, 'm').exec(meminfo)?.[1]) * 1024;
  const [capacityBytes, availableBytes, freeBytes] = [kb('MemTotal'), kb('MemAvailable'), kb('MemFree')];
  return Number.isFinite(capacityBytes) && Number.isFinite(availableBytes) ? { capacityBytes, availableBytes, freeBytes } : undefined;
}

async function readPids(): Promise<{ max: number; running: number } | undefined> {
  const max = Number((await readFile('/proc/sys/kernel/pid_max', 'utf8').catch(() => '')).trim());
  const running = Number((await readFile('/proc/loadavg', 'utf8').catch(() => '')).split(' ')[3]?.split('/')[1]);
  return max > 0 && Number.isFinite(running) ? { max, running } : undefined;
}

/** CPU time the node spent busy since boot (/proc/stat: user, nice, system, irq, softirq, steal), in ns. */
export function cpuNanosFromProcStat(stat: string, userHz = 100): number | undefined {
  const f = /^cpu\s+(.*)$/m.exec(stat)?.[1].trim().split(/\s+/).map(Number);
  if (!f || f.length < 8 || f.some((n) => !Number.isFinite(n))) return undefined;
  const [user, nice, system, , , irq, softirq, steal] = f;
  return ((user + nice + system + irq + softirq + steal) * 1e9) / userHz;
}

export interface NodeUsage {
  /** when these figures were read (ms since the epoch) */
  atMs: number;
  cpu?: { usageCoreNanoSeconds: number };
  memory?: { capacityBytes: number; availableBytes: number; workingSetBytes: number; usageBytes: number };
  fs?: FsUsage;
  imageFs?: FsUsage;
  pids?: { max: number; running: number };
  /** boot time (/proc/stat btime), the node's start time in the summary */
  bootTimeMs?: number;
  /** host interfaces (full reads only) */
  network?: { interfaces: HostInterface[] };
}

export interface HostInterface { name: string; rxBytes: number; rxErrors: number; txBytes: number; txErrors: number }

/** The host's interfaces from /proc/net/dev (loopback and the pods' veth ends left out). */
export function interfacesFromProcNetDev(text: string): HostInterface[] {
  const out: HostInterface[] = [];
  for (const line of text.split('\n').slice(2)) {
    const m = /^\s*([^:]+):\s*(.*)$/.exec(line);
    if (!m) continue;
    const name = m[1].trim();
    if (name === 'lo' || name.startsWith('veth')) continue;
    const f = m[2].trim().split(/\s+/).map(Number);
    if (f.length < 11 || f.some((n) => !Number.isFinite(n))) continue;
    out.push({ name, rxBytes: f[0], rxErrors: f[2], txBytes: f[8], txErrors: f[10] });
  }
  return out;
}

export interface FsUsage {
  capacityBytes: number;
  availableBytes: number;
  usedBytes: number;
  inodes: number;
  inodesFree: number;
}

async function fsUsage(path: string): Promise<FsUsage | undefined> {
  const s = await statfs(path).catch(() => undefined);
  if (!s) return undefined;
  return { capacityBytes: s.blocks * s.bsize, availableBytes: s.bavail * s.bsize, usedBytes: (s.blocks - s.bfree) * s.bsize, inodes: s.files, inodesFree: s.ffree };
}

/** The node's usage for the summary API and /metrics/resource, from the same sources as its eviction signals. */
export async function readNodeUsage(o: { rootDir: string; imageFsPath?: string; now: () => number; network?: boolean }): Promise<NodeUsage> {
  const [stat, mem, fs, imageFs, pids, netDev] = await Promise.all([
    readFile('/proc/stat', 'utf8').catch(() => ''),
    readMemory(),
    fsUsage(o.rootDir),
    o.imageFsPath ? fsUsage(o.imageFsPath) : Promise.resolve(undefined),
    readPids(),
    o.network ? readFile('/proc/net/dev', 'utf8').catch(() => '') : Promise.resolve(''),
  ]);
  const cpu = cpuNanosFromProcStat(stat);
  const out: NodeUsage = { atMs: o.now() };
  if (cpu !== undefined) out.cpu = { usageCoreNanoSeconds: Math.round(cpu) };
  if (mem) out.memory = { capacityBytes: mem.capacityBytes, availableBytes: mem.availableBytes, workingSetBytes: mem.capacityBytes - mem.availableBytes, usageBytes: mem.capacityBytes - mem.freeBytes };
  if (fs) out.fs = fs;
  if (imageFs ?? fs) out.imageFs = imageFs ?? fs;
  if (pids) out.pids = pids;
  const btime = Number(/^btime\s+(\d+)$/m.exec(stat)?.[1]);
  if (btime > 0) out.bootTimeMs = btime * 1000;
  const interfaces = interfacesFromProcNetDev(netDev);
  if (interfaces.length) out.network = { interfaces };
  return out;
}
