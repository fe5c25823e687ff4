// Reads what the summary API and /metrics/* report: CRI sandbox and container stats, the node's
// usage (the eviction signals' reader), log directories and the pods' local volumes. These are
// reads for operators, never inputs to the engine's decisions, and nothing here is logged as an
// entry. CPU rates (usageNanoCores) come from the runtime when it gives them, else from this
// provider's previous sample of the same counter, as upstream's CRI stats provider computes them.
import { readdir, lstat } from 'node:fs/promises';
import { join } from 'node:path';
import type { CriClient } from '../adapters/cri/index.ts';
import { diskUsage } from '../adapters/fs/disk-usage.ts';
import { readNodeUsage } from '../adapters/fs/node-signals.ts';
import { podVolumesDir, PLUGIN_DIR } from '../effects/volumes/layout.ts';
import { podLogDirectory } from '../reducers/pods/plans.ts';
import type { PodsState } from '../reducers/pods/state.ts';
import { summarize, type Summary, type VolumeStats, apiTime } from './stats-summary.ts';

export interface StatsProviderOptions {
  cri: Pick<CriClient, 'listContainerStats' | 'listPodSandboxStats' | 'imageFsInfo'>;
  nodeName: string;
  rootDir: string;
  podLogsDir: string;
  pods: () => PodsState;
  now: () => number;
  /** stats calls get this deadline (ms), shorter than the runtime's default: a scrape must answer */
  timeoutMs?: number;
}

/** Local volumes whose contents count as the pod's ephemeral storage (upstream measures them with du). */
const LOCAL_VOLUME_DIRS = [PLUGIN_DIR.emptyDir, PLUGIN_DIR.configMap, PLUGIN_DIR.secret, PLUGIN_DIR.downwardAPI, PLUGIN_DIR.projected];

export class StatsProvider {
  private readonly samples = new Map<string, { usage: number; atMs: number; rate?: number }>();
  private imageFsPath: string | undefined;

  constructor(private readonly o: StatsProviderOptions) {}

  async summary(onlyCpuAndMemory: boolean): Promise<Summary> {
    const timeoutMs = this.o.timeoutMs ?? 10_000;
    this.imageFsPath ??= (await this.o.cri.imageFsInfo({ timeoutMs }).catch(() => undefined))?.imageFilesystems[0]?.mountpoint || undefined;
    const [node, sandboxes, containers] = await Promise.all([
      readNodeUsage({ rootDir: this.o.rootDir, imageFsPath: this.imageFsPath, now: this.o.now, network: !onlyCpuAndMemory }),
      this.o.cri.listPodSandboxStats({ timeoutMs }),
      this.o.cri.listContainerStats({ timeoutMs }),
    ]);
    const pods = this.o.pods();
    const [logs, volumes] = onlyCpuAndMemory ? [undefined, undefined] : await Promise.all([this.logUsage(pods), this.volumeUsage(pods, node.atMs)]);
    const summary = summarize({
      nodeName: this.o.nodeName,
      node,
      sandboxes,
      containers,
      pods,
      logs,
      volumes,
      onlyCpuAndMemory,
      nanoCores: (key, usage, atMs) => this.rate(key, usage, atMs),
    });
    this.forgetOlderThan(node.atMs - 10 * 60_000);
    return summary;
  }

  /** Nano-cores between the previous sample of this counter and this one (kept until a newer sample arrives). */
  private rate(key: string, usage: number | undefined, atMs: number): number | undefined {
    if (usage === undefined) return undefined;
    const prev = this.samples.get(key);
    if (prev && atMs <= prev.atMs) return prev.rate;
    const rate = prev && usage >= prev.usage ? Math.round(((usage - prev.usage) * 1000) / (atMs - prev.atMs)) : undefined;
    this.samples.set(key, { usage, atMs, rate });
    return rate;
  }

  private forgetOlderThan(ms: number): void {
    for (const [k, v] of this.samples) if (v.atMs < ms) this.samples.delete(k);
  }

  /** Bytes and files under each running container's log directory (rotated files included). */
  private async logUsage(pods: PodsState): Promise<Map<string, { usedBytes: number; inodesUsed: number }>> {
    const out = new Map<string, { usedBytes: number; inodesUsed: number }>();
    for (const rec of Object.values(pods.pods)) {
      if (rec.sandbox.state !== 'ready') continue;
      const dir = podLogDirectory(rec.pod, this.o.podLogsDir);
      for (const name of Object.keys(rec.containers)) {
        const cdir = join(dir, name);
        let usedBytes = 0;
        let inodesUsed = 0;
        for (const f of await readdir(cdir).catch(() => [] as string[])) {
          const s = await lstat(join(cdir, f)).catch(() => undefined);
          if (!s?.isFile()) continue;
          usedBytes += s.blocks * 512;
          inodesUsed++;
        }
        out.set(`${rec.ref.uid}/${name}`, { usedBytes, inodesUsed });
      }
    }
    return out;
  }

  /** Usage of each pod's local volumes (emptyDir, configMap, secret, downwardAPI, projected). */
  private async volumeUsage(pods: PodsState, atMs: number): Promise<Map<string, VolumeStats[]>> {
    const out = new Map<string, VolumeStats[]>();
    for (const rec of Object.values(pods.pods)) {
      if (rec.sandbox.state !== 'ready') continue;
      const list: VolumeStats[] = [];
      for (const plugin of LOCAL_VOLUME_DIRS) {
        const base = join(podVolumesDir(this.o.rootDir, rec.ref.uid), plugin);
        for (const name of await readdir(base).catch(() => [] as string[])) {
          const du = await diskUsage(join(base, name));
          if (du) list.push({ name, time: apiTime(atMs), usedBytes: du.usedBytes, inodesUsed: du.inodesUsed });
        }
      }
      if (list.length) out.set(rec.ref.uid, list.sort((a, b) => a.name.localeCompare(b.name)));
    }
    return out;
  }
}
