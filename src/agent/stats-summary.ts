// The summary API's document (upstream's statsapi v1alpha1 Summary, /stats/summary), built from
// what the runtime reports (CRI ListPodSandboxStats / ListContainerStats), the node figures the
// eviction signals read, and the pods the node's state knows. Pure: the reads happen in
// stats-provider.ts. Pods and containers the state does not know (orphans, old instances) are left
// out, as upstream reports only the pods it manages and their current containers.
import type { ContainerStats, FilesystemUsage, InterfaceUsage, PodSandboxStats } from '../adapters/cri/index.ts';
import type { FsUsage, NodeUsage } from '../adapters/fs/node-signals.ts';
import { Labels } from '../model/runtime-observations.ts';
import type { PodsState } from '../reducers/pods/state.ts';

export interface CpuStats { time: string; usageNanoCores?: number; usageCoreNanoSeconds?: number }
export interface MemoryStats { time: string; availableBytes?: number; usageBytes?: number; workingSetBytes?: number; rssBytes?: number; pageFaults?: number; majorPageFaults?: number }
export interface FsStats { time: string; availableBytes?: number; capacityBytes?: number; usedBytes?: number; inodesFree?: number; inodes?: number; inodesUsed?: number }
export interface InterfaceStats { name: string; rxBytes?: number; rxErrors?: number; txBytes?: number; txErrors?: number }
export interface NetworkStats extends Partial<InterfaceStats> { time: string; interfaces?: InterfaceStats[] }
export interface ContainerSummaryStats { name: string; startTime: string; cpu?: CpuStats; memory?: MemoryStats; rootfs?: FsStats; logs?: FsStats }
export interface VolumeStats extends FsStats { name: string }
export interface PodSummaryStats {
  podRef: { name: string; namespace: string; uid: string };
  startTime: string;
  containers: ContainerSummaryStats[];
  cpu?: CpuStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  volume?: VolumeStats[];
  'ephemeral-storage'?: FsStats;
  process_stats?: { process_count: number };
}
export interface NodeSummaryStats {
  nodeName: string;
  startTime: string;
  cpu?: CpuStats;
  memory?: MemoryStats;
  network?: NetworkStats;
  fs?: FsStats;
  runtime?: { imageFs?: FsStats };
  rlimit?: { time: string; maxpid: number; curproc: number };
}
export interface Summary { node: NodeSummaryStats; pods: PodSummaryStats[] }

/** Everything one summary is made of, read by the provider. */
export interface SummaryInputs {
  nodeName: string;
  node: NodeUsage;
  sandboxes: PodSandboxStats[];
  containers: ContainerStats[];
  pods: PodsState;
  /** CPU rate (nano-cores) per key ('node', sandbox id, container id), from the provider's previous samples. */
  nanoCores: (key: string, usageCoreNanoSeconds: number | undefined, atMs: number) => number | undefined;
  /** bytes/inodes under each container's log directory, by `<pod uid>/<container name>` (full summary only) */
  logs?: Map<string, { usedBytes: number; inodesUsed: number }>;
  /** per-volume usage by pod uid (full summary only) */
  volumes?: Map<string, VolumeStats[]>;
  onlyCpuAndMemory: boolean;
}

/**
 * RFC 3339 with milliseconds (upstream's metav1.Time prints whole seconds; sample times keep their
 * milliseconds here so /metrics/resource rates are not skewed by up to a second).
 */
export const apiTime = (ms: number) => new Date(ms).toISOString();
const criMs = (iso: string | undefined, fallback: number) => (iso ? Date.parse(iso) : fallback);

function cpuOf(key: string, cpu: ContainerStats['cpu'], fallbackMs: number, i: SummaryInputs): CpuStats | undefined {
  if (!cpu || cpu.usageCoreNanoSeconds === undefined) return undefined;
  const at = criMs(cpu.timestamp, fallbackMs);
  return drop({ time: apiTime(at), usageNanoCores: cpu.usageNanoCores ?? i.nanoCores(key, cpu.usageCoreNanoSeconds, at), usageCoreNanoSeconds: cpu.usageCoreNanoSeconds });
}

function memoryOf(m: ContainerStats['memory'], fallbackMs: number): MemoryStats | undefined {
  if (!m || m.workingSetBytes === undefined) return undefined;
  return drop({ time: apiTime(criMs(m.timestamp, fallbackMs)), availableBytes: m.availableBytes, usageBytes: m.usageBytes, workingSetBytes: m.workingSetBytes, rssBytes: m.rssBytes, pageFaults: m.pageFaults, majorPageFaults: m.majorPageFaults });
}

function fsOf(u: FsUsage | undefined, atMs: number): FsStats | undefined {
  if (!u) return undefined;
  return { time: apiTime(atMs), availableBytes: u.availableBytes, capacityBytes: u.capacityBytes, usedBytes: u.usedBytes, inodesFree: u.inodesFree, inodes: u.inodes, inodesUsed: u.inodes - u.inodesFree };
}

/** A container's filesystem figure on the node's filesystem (capacity and free space are the filesystem's, as upstream). */
function onNodeFs(node: FsUsage | undefined, atMs: number, used: { usedBytes?: number; inodesUsed?: number } | undefined): FsStats | undefined {
  if (!used || used.usedBytes === undefined) return undefined;
  return drop({ time: apiTime(atMs), availableBytes: node?.availableBytes, capacityBytes: node?.capacityBytes, usedBytes: used.usedBytes, inodesFree: node?.inodesFree, inodes: node?.inodes, inodesUsed: used.inodesUsed });
}

function interfaceOf(n: InterfaceUsage): InterfaceStats {
  return drop({ name: n.name, rxBytes: n.rxBytes, rxErrors: n.rxErrors, txBytes: n.txBytes, txErrors: n.txErrors });
}

function networkOf(net: { defaultInterface?: InterfaceUsage; interfaces: InterfaceUsage[] } | undefined, atMs: number): NetworkStats | undefined {
  if (!net) return undefined;
  const def = net.defaultInterface ?? net.interfaces[0];
  if (!def) return undefined;
  return { time: apiTime(atMs), ...interfaceOf(def), interfaces: net.interfaces.map(interfaceOf) };
}

const sum = (xs: (number | undefined)[]) => (xs.some((x) => x !== undefined) ? xs.reduce<number>((a, x) => a + (x ?? 0), 0) : undefined);

export function summarize(i: SummaryInputs): Summary {
  const n = i.node;
  const at = n.atMs;
  const node: NodeSummaryStats = drop({
    nodeName: i.nodeName,
    startTime: apiTime(n.bootTimeMs ?? 0),
    cpu: n.cpu ? drop({ time: apiTime(at), usageNanoCores: i.nanoCores('node', n.cpu.usageCoreNanoSeconds, at), usageCoreNanoSeconds: n.cpu.usageCoreNanoSeconds }) : undefined,
    memory: n.memory ? { time: apiTime(at), availableBytes: n.memory.availableBytes, usageBytes: n.memory.usageBytes, workingSetBytes: n.memory.workingSetBytes } : undefined,
  });
  if (!i.onlyCpuAndMemory) {
    Object.assign(node, drop({
      network: networkOf(n.network, at),
      fs: fsOf(n.fs, at),
      runtime: n.imageFs ? { imageFs: fsOf(n.imageFs, at) } : undefined,
      rlimit: n.pids ? { time: apiTime(at), maxpid: n.pids.max, curproc: n.pids.running } : undefined,
    }));
  }

  const sandboxById = new Map(i.sandboxes.map((s) => [s.id, s]));
  const containersByPod = new Map<string, ContainerStats[]>();
  for (const c of i.containers) {
    const uid = c.labels[Labels.podUid];
    if (uid) containersByPod.set(uid, [...(containersByPod.get(uid) ?? []), c]);
  }
  const pods: PodSummaryStats[] = [];
  for (const rec of Object.values(i.pods.pods)) {
    if (rec.sandbox.state !== 'ready' || !rec.sandbox.id) continue;
    const sandbox = sandboxById.get(rec.sandbox.id);
    const containers: ContainerSummaryStats[] = [];
    const current = new Map<string, { name: string; startedAt?: string }>();
    for (const c of Object.values(rec.containers)) if (c.current?.state === 'running') current.set(c.current.id, { name: c.name, startedAt: c.current.startedAt });
    const stats = containersByPod.get(rec.ref.uid) ?? [];
    const rootfsUsed: (number | undefined)[] = [];
    const logsUsed: (number | undefined)[] = [];
    for (const c of stats) {
      const known = current.get(c.id);
      if (!known) continue;
      const cs: ContainerSummaryStats = drop({
        name: known.name,
        startTime: apiTime(criMs(known.startedAt, at)),
        cpu: cpuOf(c.id, c.cpu, at, i),
        memory: memoryOf(c.memory, at),
      });
      if (!i.onlyCpuAndMemory) {
        const logs = i.logs?.get(`${rec.ref.uid}/${known.name}`);
        Object.assign(cs, drop({ rootfs: onNodeFs(n.imageFs, criMs(c.writableLayer?.timestamp, at), c.writableLayer), logs: onNodeFs(n.fs, at, logs) }));
        rootfsUsed.push(c.writableLayer?.usedBytes);
        logsUsed.push(logs?.usedBytes);
      }
      containers.push(cs);
    }
    containers.sort((a, b) => a.name.localeCompare(b.name));
    // The pod cgroup's own figures when the runtime gives them, else the sum of its containers.
    const cpu = cpuOf(rec.sandbox.id, sandbox?.cpu, at, i) ?? sumCpu(containers, at);
    const memory = memoryOf(sandbox?.memory, at) ?? sumMemory(containers, at);
    const pod: PodSummaryStats = drop({ podRef: { name: rec.ref.name, namespace: rec.ref.namespace, uid: rec.ref.uid }, startTime: apiTime(criMs(rec.startTime ?? rec.firstSeenAt, at)), containers, cpu, memory });
    if (!i.onlyCpuAndMemory) {
      const volumes = i.volumes?.get(rec.ref.uid);
      // Ephemeral storage as upstream counts it: writable layers, logs and the pod's local volumes.
      const ephemeral = sum([...rootfsUsed, ...logsUsed, ...(volumes ?? []).map((v) => v.usedBytes)]);
      Object.assign(pod, drop({
        network: networkOf(sandbox?.network, criMs(sandbox?.network?.timestamp, at)),
        volume: volumes?.length ? volumes : undefined,
        'ephemeral-storage': onNodeFs(n.fs, at, ephemeral === undefined ? undefined : { usedBytes: ephemeral }),
        process_stats: sandbox?.processCount !== undefined ? { process_count: sandbox.processCount } : undefined,
      }));
    }
    pods.push(pod);
  }
  pods.sort((a, b) => a.podRef.namespace.localeCompare(b.podRef.namespace) || a.podRef.name.localeCompare(b.podRef.name));
  return { node, pods };
}

function sumCpu(cs: ContainerSummaryStats[], at: number): CpuStats | undefined {
  const usage = sum(cs.map((c) => c.cpu?.usageCoreNanoSeconds));
  if (usage === undefined) return undefined;
  return drop({ time: apiTime(at), usageNanoCores: sum(cs.map((c) => c.cpu?.usageNanoCores)), usageCoreNanoSeconds: usage });
}

function sumMemory(cs: ContainerSummaryStats[], at: number): MemoryStats | undefined {
  const ws = sum(cs.map((c) => c.memory?.workingSetBytes));
  if (ws === undefined) return undefined;
  return drop({ time: apiTime(at), workingSetBytes: ws, usageBytes: sum(cs.map((c) => c.memory?.usageBytes)), rssBytes: sum(cs.map((c) => c.memory?.rssBytes)) });
}

/** Leave out absent figures (upstream omits nil pointers). */
function drop<T extends object>(o: T): T {
  for (const k of Object.keys(o) as (keyof T)[]) if (o[k] === undefined) delete o[k];
  return o;
}

export type { FilesystemUsage };
