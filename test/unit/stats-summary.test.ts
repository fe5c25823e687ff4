// The summary API and /metrics/resource, pure parts: which pods and containers are reported, how
// pod figures and ephemeral storage are made, upstream's series names, labels and timestamps,
// and the node readers' parsing of /proc.
import { expect } from 'chai';
import type { ContainerStats, PodSandboxStats } from '../../src/adapters/cri/index.ts';
import { cpuNanosFromProcStat, interfacesFromProcNetDev } from '../../src/adapters/fs/node-signals.ts';
import { summarize, type Summary, type SummaryInputs } from '../../src/agent/stats-summary.ts';
import { cadvisorMetrics, resourceMetrics } from '../../src/agent/resource-metrics.ts';
import type { PodRecord, PodsState } from '../../src/reducers/pods/state.ts';
import { family, parsePrometheus } from '../helpers/prometheus-text.ts';

const T = '2026-12-03T10:00:00.250Z';
const T_MS = Date.parse(T);

function pod(uid: string, name: string, containers: Record<string, { id: string; state: 'running' | 'exited'; startedAt: string }>, sandboxId = `sb-${uid}`): PodRecord {
  const cs = Object.fromEntries(Object.entries(containers).map(([n, c]) => [n, { name: n, kind: 'app', restartCount: 0, nextAttempt: 1, current: { id: c.id, attempt: 0, state: c.state, startedAt: c.startedAt } }]));
  return {
    ref: { uid, namespace: 'team-a', name }, origin: 'api', firstSeenAt: '2026-12-03T09:00:00.000Z', startTime: '2026-12-03T09:00:01.000Z',
    pod: { metadata: { name, namespace: 'team-a', uid }, spec: { containers: [] } },
    sandbox: { attempt: 0, id: sandboxId, state: 'ready', backoff: { nextDelayMs: 0 } }, containers: cs,
  } as unknown as PodRecord;
}

function cstats(id: string, uid: string, name: string, cpuNs: number, ws: number, layer?: number): ContainerStats {
  return {
    id, metadata: { name, attempt: 0 }, labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': name }, annotations: {},
    cpu: { timestamp: T, usageCoreNanoSeconds: cpuNs }, memory: { timestamp: T, workingSetBytes: ws, usageBytes: ws + 100 },
    ...(layer !== undefined ? { writableLayer: { timestamp: T, mountpoint: '/x', usedBytes: layer, inodesUsed: 3 } } : {}),
  };
}

function inputs(over: Partial<SummaryInputs> = {}): SummaryInputs {
  const web = pod('u1', 'web', { app: { id: 'c1', state: 'running', startedAt: '2026-12-03T09:00:02.000Z' }, side: { id: 'c2', state: 'running', startedAt: '2026-12-03T09:00:03.000Z' } });
  const done = pod('u2', 'done', { job: { id: 'c3', state: 'exited', startedAt: '2026-12-03T09:00:02.000Z' } });
  const sandbox: PodSandboxStats = {
    id: 'sb-u1', metadata: { name: 'web', namespace: 'team-a', uid: 'u1', attempt: 0 }, labels: {}, containers: [],
    cpu: { timestamp: T, usageCoreNanoSeconds: 9_000_000_000 }, memory: { timestamp: T, workingSetBytes: 5000 },
    network: { timestamp: T, defaultInterface: { name: 'eth0', rxBytes: 10, txBytes: 20 }, interfaces: [{ name: 'eth0', rxBytes: 10, txBytes: 20 }] }, processCount: 4,
  };
  return {
    nodeName: 'node-1',
    node: { atMs: T_MS, bootTimeMs: Date.parse('2026-12-01T00:00:00Z'), cpu: { usageCoreNanoSeconds: 123_000_000_000 }, memory: { capacityBytes: 8000, availableBytes: 3000, workingSetBytes: 5000, usageBytes: 7000 },
      fs: { capacityBytes: 1000, availableBytes: 400, usedBytes: 600, inodes: 100, inodesFree: 60 } },
    sandboxes: [sandbox],
    containers: [cstats('c1', 'u1', 'app', 2_500_000_000, 1000, 4096), cstats('c2', 'u1', 'side', 500_000_000, 300, 0), cstats('c3', 'u2', 'job', 1, 1), cstats('c-old', 'u1', 'app', 7, 7), cstats('c-orphan', 'zz', 'x', 7, 7)],
    pods: { pods: { u1: web, u2: done } } as unknown as PodsState,
    nanoCores: () => undefined,
    logs: new Map([['u1/app', { usedBytes: 8192, inodesUsed: 2 }]]),
    volumes: new Map([['u1', [{ name: 'scratch', time: T, usedBytes: 1024, inodesUsed: 1 }]]]),
    onlyCpuAndMemory: false,
    ...over,
  };
}

const webOf = (s: Summary) => s.pods.find((p) => p.podRef.name === 'web')!;

describe('summary API', () => {
  it('given runtime stats, when summarised, then only running current containers of known pods are reported, with the pod cgroup\'s figures', () => {
    const s = summarize(inputs());
    expect(s.node.nodeName).to.equal('node-1');
    expect(s.node.memory?.workingSetBytes).to.equal(5000);
    expect(s.node.fs?.inodesUsed).to.equal(40);
    // a ready sandbox whose container exited is still a pod of the node (with no container figures)
    expect(s.pods.map((p) => [p.podRef.name, p.containers.length])).to.deep.equal([['done', 0], ['web', 2]]);
    const web = webOf(s);
    expect(web.containers.map((c) => c.name)).to.deep.equal(['app', 'side']);
    expect(web.containers[0].cpu?.usageCoreNanoSeconds).to.equal(2_500_000_000);
    expect(web.containers[0].startTime).to.equal('2026-12-03T09:00:02.000Z');
    expect(web.cpu?.usageCoreNanoSeconds).to.equal(9_000_000_000);
    expect(web.network).to.include({ name: 'eth0', rxBytes: 10, txBytes: 20 });
    expect(web.process_stats).to.deep.equal({ process_count: 4 });
    expect(web.containers[0].rootfs?.usedBytes).to.equal(4096);
    expect(web.containers[0].logs?.usedBytes).to.equal(8192);
    // writable layers + logs + local volumes
    expect(web['ephemeral-storage']?.usedBytes).to.equal(4096 + 0 + 8192 + 1024);
    expect(web.volume?.map((v) => v.name)).to.deep.equal(['scratch']);
  });

  it('given no pod cgroup figures, when summarised, then the pod is the sum of its containers', () => {
    const i = inputs();
    const s = summarize({ ...i, sandboxes: [] });
    expect(webOf(s).cpu?.usageCoreNanoSeconds).to.equal(3_000_000_000);
    expect(webOf(s).memory?.workingSetBytes).to.equal(1300);
    expect(webOf(s).network).to.equal(undefined);
  });

  it('given only_cpu_and_memory, when summarised, then filesystems, network and volumes are left out', () => {
    const s = summarize(inputs({ onlyCpuAndMemory: true }));
    expect(Object.keys(s.node).sort()).to.deep.equal(['cpu', 'memory', 'nodeName', 'startTime']);
    expect(Object.keys(webOf(s)).sort()).to.deep.equal(['containers', 'cpu', 'memory', 'podRef', 'startTime']);
    expect(Object.keys(webOf(s).containers[0]).sort()).to.deep.equal(['cpu', 'memory', 'name', 'startTime']);
  });

  it('given a rate source, when summarised, then usageNanoCores comes from it unless the runtime gave one', () => {
    const s = summarize(inputs({ nanoCores: (key) => (key === 'node' ? 2_000_000_000 : 42) }));
    expect(s.node.cpu?.usageNanoCores).to.equal(2_000_000_000);
    expect(webOf(s).containers[0].cpu?.usageNanoCores).to.equal(42);
  });
});

describe('/metrics/resource', () => {
  it('given a summary, when rendered, then an independent parser finds upstream\'s series, labels and sample times', () => {
    const fams = parsePrometheus(resourceMetrics(summarize(inputs({ onlyCpuAndMemory: true }))));
    expect(fams.map((f) => f.name)).to.deep.equal([
      'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes', 'container_start_time_seconds',
      'node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'pod_cpu_usage_seconds_total', 'pod_memory_working_set_bytes',
      'resource_scrape_error', 'scrape_error',
    ]);
    const cpu = family(fams, 'container_cpu_usage_seconds_total');
    expect(cpu.type).to.equal('COUNTER');
    expect(cpu.metrics[0]).to.deep.equal({ labels: { container: 'app', namespace: 'team-a', pod: 'web' }, value: '2.5', timestamp_ms: String(T_MS) });
    expect(family(fams, 'node_cpu_usage_seconds_total').metrics[0]).to.deep.equal({ value: '123', timestamp_ms: String(T_MS) });
    expect(family(fams, 'container_start_time_seconds').metrics[0].value).to.equal(String(Date.parse('2026-12-03T09:00:02Z') / 1000));
    expect(family(fams, 'container_start_time_seconds').metrics[0].timestamp_ms).to.equal(undefined);
    expect(family(fams, 'pod_memory_working_set_bytes').metrics[0]).to.deep.equal({ labels: { namespace: 'team-a', pod: 'web' }, value: '5000', timestamp_ms: String(T_MS) });
    expect(family(fams, 'scrape_error').metrics[0].value).to.equal('0');
  });

  it('given a failed read, when rendered, then only scrape_error and resource_scrape_error say 1', () => {
    const fams = parsePrometheus(resourceMetrics(undefined));
    expect(fams.map((f) => [f.name, f.metrics[0].value])).to.deep.equal([['resource_scrape_error', '1'], ['scrape_error', '1']]);
  });

  it('given hostile label values, when rendered, then they are escaped and parse back unchanged', () => {
    const s = summarize(inputs({ onlyCpuAndMemory: true }));
    webOf(s).podRef.name = 'we"b\\x\ny';
    const fams = parsePrometheus(resourceMetrics(s));
    expect(family(fams, 'pod_cpu_usage_seconds_total').metrics.at(-1)?.labels?.pod).to.equal('we"b\\x\ny');
  });

  it('given a summary, when the cAdvisor subset is rendered, then containers carry the runtime id and image', () => {
    const fams = parsePrometheus(cadvisorMetrics(summarize(inputs({ onlyCpuAndMemory: true })), new Map([['u1/app', { id: 'c1', image: 'busybox' }]])));
    expect(family(fams, 'container_memory_working_set_bytes').metrics[0].labels).to.deep.equal({ container: 'app', image: 'busybox', name: 'c1', namespace: 'team-a', pod: 'web' });
  });
});

describe('node usage readers', () => {
  it('given /proc/stat, when read, then busy time is user+nice+system+irq+softirq+steal in ns', () => {
    expect(cpuNanosFromProcStat('cpu  100 2 30 9999 50 4 5 6 0 0\ncpu0 1 2 3\nbtime 1\n')).to.equal((100 + 2 + 30 + 4 + 5 + 6) * 1e7);
    expect(cpuNanosFromProcStat('nothing')).to.equal(undefined);
  });

  it('given /proc/net/dev, when read, then loopback and veth ends are left out', () => {
    const text = 'Inter-|   Receive\n face |bytes\n    lo: 1 2 3 4 5 6 7 8 9 10 11 12 13 14 15 16\n  eth0: 100 5 1 0 0 0 0 0 200 6 2 0 0 0 0 0\nveth12: 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1 1\n';
    expect(interfacesFromProcNetDev(text)).to.deep.equal([{ name: 'eth0', rxBytes: 100, rxErrors: 1, txBytes: 200, txErrors: 2 }]);
  });
});

describe('stats provider', () => {
  it('given two reads of a container\'s CPU counter, when summarised, then usageNanoCores is the rate between them, and a failing runtime call fails the summary', async () => {
    const { StatsProvider } = await import('../../src/agent/stats-provider.ts');
    const i = inputs();
    let cpu = 1_000_000_000;
    let at = Date.parse('2026-12-03T10:00:00.000Z');
    let fail = false;
    const cri = {
      imageFsInfo: async () => ({ imageFilesystems: [], containerFilesystems: [] }),
      listPodSandboxStats: async () => [],
      listContainerStats: async () => {
        if (fail) throw new Error('runtime down');
        const ts = new Date(at).toISOString();
        return [{ ...cstats('c1', 'u1', 'app', cpu, 10), cpu: { timestamp: ts, usageCoreNanoSeconds: cpu } }];
      },
    };
    const p = new StatsProvider({ cri, nodeName: 'n', rootDir: '/nonexistent-root', podLogsDir: '/nonexistent-logs', pods: () => i.pods, now: () => at });
    const first = await p.summary(true);
    expect(webOf(first).containers[0].cpu?.usageNanoCores).to.equal(undefined);
    cpu += 500_000_000; // half a core for 1 s
    at += 1000;
    const second = await p.summary(true);
    expect(webOf(second).containers[0].cpu?.usageNanoCores).to.equal(500_000_000);
    fail = true;
    let err: Error | undefined;
    await p.summary(true).catch((e: Error) => (err = e));
    expect(err?.message).to.equal('runtime down');
  });
});
