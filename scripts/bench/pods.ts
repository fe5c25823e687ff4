// bench:pods — pod startup latency (30 pods created at once: create sent → Running seen by a
// watch, p50/p99), the agent's CPU and RSS while idle with 110 pods, then the time to delete them
// all (the kills whose log batches are synced first), on the testbed. When an
// upstream kubelet binary is available ($TESTBED_BIN/kubelet), the same run measures it too.
import { readFileSync } from 'node:fs';
import { KubeConfig, CoreV1Api, Watch } from '@kubernetes/client-node';
import { execFileSync, spawn } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectl, lockNode, startAgent, testbedEnv, unlockNode, waitFor, type TestbedEnv } from '../../test/integration/helpers/agent.ts';

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

async function measure(env: TestbedEnv, who: string, pid: number) {
  const lat = await burst(env);
  const idleFig = await idle(env, pid);
  // Deleting every pod: the kills, sandbox stops and cleanups whose batches are synced to disk.
  const t0 = Date.now();
  await cleanup(env);
  const deleteSeconds = (Date.now() - t0) / 1000;
  const line = `${who.padEnd(28)} burst of ${BURST}: p50 ${String(pct(lat, 50)).padStart(6)} ms  p99 ${String(pct(lat, 99)).padStart(6)} ms | idle with ${IDLE_PODS} pods: CPU ${idleFig.cpuPercent.toFixed(1).padStart(5)}% of a core, RSS ${idleFig.rssMiB.toFixed(0).padStart(4)} MiB | delete all ${IDLE_PODS}: ${deleteSeconds.toFixed(1)} s (${(IDLE_PODS / deleteSeconds).toFixed(1)} pods/s)`;
  console.log(line);
  return line;
}

/** The upstream kubelet at the pinned version, as the same node, with settings this testbed needs. */
async function startUpstreamKubelet(env: TestbedEnv) {
  const bin = execFileSync('bash', [resolve(import.meta.dirname, 'build-upstream-kubelet.sh')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'inherit'] }).trim();
  const dir = mkdtempSync(join(tmpdir(), 'upstream-kubelet-'));
  writeFileSync(join(dir, 'config.yaml'), [
    'apiVersion: kubelet.config.k8s.io/v1beta1', 'kind: KubeletConfiguration',
    'address: 127.0.0.1', 'port: 10260', 'readOnlyPort: 0', 'healthzPort: 10268',
    'authentication: {anonymous: {enabled: false}, webhook: {enabled: false}}', 'authorization: {mode: AlwaysAllow}',
    'cgroupDriver: cgroupfs', 'failSwapOn: false', 'failCgroupV1: false',
    `containerRuntimeEndpoint: ${env.TESTBED_CRI_ENDPOINT}`,
    `tlsCertFile: ${env.TESTBED_NODE_SERVING_CERT}`, `tlsPrivateKeyFile: ${env.TESTBED_NODE_SERVING_KEY}`,
  ].join('\n'));
  const child = spawn(bin, ['--config', join(dir, 'config.yaml'), '--kubeconfig', env.TESTBED_NODE_KUBECONFIG, '--hostname-override', env.TESTBED_NODE_NAME, '--root-dir', join(dir, 'root'), '--v=0'], { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr!.on('data', (d) => (err = (err + d).slice(-4000)));
  await waitFor('the upstream kubelet to post Ready', async () => {
    if (child.exitCode !== null) throw new Error(`kubelet exited: ${err}`);
    const node = JSON.parse(await kubectl(env, ['get', 'node', env.TESTBED_NODE_NAME, '-o', 'json']));
    const ready = node.status.conditions.find((c: any) => c.type === 'Ready');
    return ready?.status === 'True' && ready.reason === 'KubeletReady' && /upstream|^v1\.\d+\.\d+$/.test(node.status.nodeInfo.kubeletVersion) ? true : undefined;
  }, 120_000, 1000);
  return { pid: child.pid!, stop: async () => { child.kill('SIGTERM'); await new Promise((r) => child.on('exit', r)); }, lastErr: () => err };
}

async function main() {
  const env = await testbedEnv();
  await cleanup(env);
  const results: string[] = [];
  const agent = await startAgent(env);
  try {
    results.push(await measure(env, 'ledgerlet', agent.child.pid!));
  } finally {
    await cleanup(env);
    await agent.stop();
  }
  if (process.env.BENCH_SKIP_UPSTREAM) return;
  await lockNode();
  try {
    const kubelet = await startUpstreamKubelet(env);
    try {
      results.push(await measure(env, 'upstream kubelet v1.36.3', kubelet.pid));
    } finally {
      await cleanup(env);
      await kubelet.stop();
    }
  } catch (e) {
    console.log(`upstream kubelet baseline: could not be measured here: ${(e as Error).message.slice(0, 600)}`);
  } finally {
    unlockNode();
  }
  console.log(results.join('\n'));
}

await main();
