// Benchmark: the agent's cost of probing 110 pods (the node's maxPods), each with a liveness and
// a readiness httpGet probe at periodSeconds 1, at steady state, on the testbed.
//
//   npm run bench:probes [-- --pods 110 --seconds 60 --settle 15]
//
// Two phases in one run, same agent build, same node, same pods except for the probes:
//   baseline  110 busybox httpd pods without probes
//   probes    110 busybox httpd pods with liveness + readiness httpGet, periodSeconds 1
// For each: start `ledgerlet run` with a fresh root dir, apply the pods, wait until every pod is
// Running (and Ready), let it settle, then over a steady window measure the agent process's CPU
// (utime+stime from /proc/<pid>/stat), RSS (VmRSS, sampled every second), and the log's growth:
// entries appended in the window (read back from the log after the agent stopped) and the log
// directory's size. The upstream kubelet is not built on this testbed, so the baseline is the same
// agent without probes, measured in the same run.
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { kubectl, lockNode, testbedEnv, unlockNode, waitFor, WaitAborted } from '../../test/integration/helpers/agent.ts';

const repo = resolve(import.meta.dirname, '../..');

function arg(name: string, def: number): number {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
}
const PODS = arg('pods', 110);
const SECONDS = arg('seconds', 60);
const SETTLE = arg('settle', 15);
const LABEL = 'ledgerlet-bench=probes';

type Env = Record<string, string>;

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Another agent running as the same node would fight over the pods: wait until none runs. */
function otherAgents(node: string): number[] {
  const out: number[] = [];
  for (const d of readdirSync('/proc')) {
    if (!/^\d+$/.test(d)) continue;
    try {
      const a = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
      const i = a.indexOf('--hostname-override');
      if (a.some((x) => x.endsWith('bin/ledgerlet.js')) && a.includes('run') && i >= 0 && a[i + 1] === node) out.push(Number(d));
    } catch {
      // gone
    }
  }
  return out;
}

function podList(env: Env, withProbes: boolean): string {
  const probe = { httpGet: { path: '/', port: 8080 }, periodSeconds: 1, timeoutSeconds: 1, failureThreshold: 3 };
  const items = Array.from({ length: PODS }, (_, i) => ({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name: `bench-probes-${String(i).padStart(3, '0')}`, namespace: 'default', labels: { 'ledgerlet-bench': 'probes' } },
    spec: {
      nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'web', image: env.TESTBED_IMAGE_BUSYBOX,
        command: ['sh', '-c', 'echo ok > /tmp/index.html; exec httpd -f -p 8080 -h /tmp'],
        ...(withProbes ? { livenessProbe: probe, readinessProbe: probe } : {}),
      }],
    },
  }));
  return JSON.stringify({ apiVersion: 'v1', kind: 'List', items });
}

async function podsReady(env: Env): Promise<{ running: number; ready: number; restarts: number }> {
  const list = JSON.parse(await kubectl(env, ['get', 'pods', '-l', LABEL, '-o', 'json'])) as { items: any[] };
  let running = 0;
  let ready = 0;
  let restarts = 0;
  for (const p of list.items) {
    if (p.status?.phase === 'Running') running++;
    if (p.status?.conditions?.find((c: any) => c.type === 'Ready')?.status === 'True') ready++;
    restarts += p.status?.containerStatuses?.[0]?.restartCount ?? 0;
  }
  return { running, ready, restarts };
}

async function deletePods(env: Env): Promise<void> {
  await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=false', '--ignore-not-found']);
  await waitFor('bench pods gone', async () => ((await kubectl(env, ['get', 'pods', '-l', LABEL, '-o', 'name'])).trim() === '' ? true : undefined), 600_000, 1000);
}

const CLK_TCK = 100;
function cpuTicks(pid: number): number {
  const s = readFileSync(`/proc/${pid}/stat`, 'utf8');
  const f = s.slice(s.lastIndexOf(')') + 2).split(' ');
  return Number(f[11]) + Number(f[12]); // utime, stime (fields 14, 15)
}
function rssBytes(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return m ? Number(m[1]) * 1024 : 0;
}
function dirBytes(dir: string): number {
  let n = 0;
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    n += e.isDirectory() ? dirBytes(p) : statSync(p).size;
  }
  return n;
}

interface Agent {
  child: ChildProcess;
  rootDir: string;
  stop(): Promise<void>;
}

async function startAgent(env: Env): Promise<Agent> {
  const rootDir = mkdtempSync(join(tmpdir(), 'ledgerlet-bench-probes-'));
  const child = spawn(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'run', '--root-dir', rootDir, '--container-runtime-endpoint', env.TESTBED_CRI_ENDPOINT,
    '--kubeconfig', env.TESTBED_NODE_KUBECONFIG, '--hostname-override', env.TESTBED_NODE_NAME], { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  const keep = (d: Buffer) => {
    out = (out + d.toString()).slice(-20_000);
  };
  child.stdout!.on('data', keep);
  child.stderr!.on('data', keep);
  const exited = new Promise<void>((r) => child.on('exit', () => r()));
  await waitFor('agent started', async () => (out.includes('"msg":"ledgerlet started"') ? true : child.exitCode !== null ? Promise.reject(new Error(out.slice(-2000))) : undefined), 60_000, 1000);
  return {
    child,
    rootDir,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      await exited;
    },
  };
}

interface PhaseResult {
  phase: string;
  pods: number;
  ready: number;
  restarts: number;
  cpuPercent: number;
  rssMeanMiB: number;
  rssMaxMiB: number;
  entriesPerMin: number;
  entryBytesPerMin: number;
  logDirBytesPerMin: number;
  proberEntries: number;
  types: Record<string, number>;
}

async function phase(env: Env, name: string, withProbes: boolean): Promise<PhaseResult> {
  process.stderr.write(`[${name}] waiting for the testbed node lock, then starting agent\n`);
  // Tests and the other benches run agents as the same node: take the same lock they do.
  await lockNode();
  let agent: Agent;
  try {
    agent = await startAgent(env);
  } catch (err) {
    unlockNode();
    throw err;
  }
  const pid = agent.child.pid!;
  let result: PhaseResult | undefined;
  try {
    await kubectl(env, ['apply', '-f', '-'], podList(env, withProbes));
    process.stderr.write(`[${name}] ${PODS} pods applied; waiting for them to run${withProbes ? ' and be Ready' : ''}\n`);
    const t0 = Date.now();
    await waitFor('pods running', async () => {
      if (otherAgents(env.TESTBED_NODE_NAME).some((p) => p !== pid)) throw new WaitAborted('another agent started as the testbed node');
      const s = await podsReady(env);
      return s.running === PODS && (!withProbes || s.ready === PODS) ? s : undefined;
    }, 900_000, 1000);
    process.stderr.write(`[${name}] all running in ${((Date.now() - t0) / 1000).toFixed(0)} s; settling ${SETTLE} s\n`);
    await sleep(SETTLE * 1000);

    const ld = logDir(agent.rootDir);
    const from = new Date();
    const cpu0 = cpuTicks(pid);
    const dir0 = dirBytes(ld);
    const w0 = Date.now();
    const rss: number[] = [];
    while (Date.now() - w0 < SECONDS * 1000) {
      if (otherAgents(env.TESTBED_NODE_NAME).some((p) => p !== pid)) throw new WaitAborted('another agent started as the testbed node during the window: figures would be meaningless');
      rss.push(rssBytes(pid));
      await sleep(1000);
    }
    const elapsed = (Date.now() - w0) / 1000;
    const cpu1 = cpuTicks(pid);
    const dir1 = dirBytes(ld);
    const to = new Date();
    const after = await podsReady(env);
    process.stderr.write(`[${name}] window done; deleting pods, stopping the agent\n`);

    // the pods go first (the agent must see them deleted), then the agent, then its log is read
    await deletePods(env);
    await agent.stop();
    const store = await LogStore.open(ld);
    let entries = 0;
    let bytes = 0;
    let prober = 0;
    const types: Record<string, number> = {};
    try {
      for await (const r of store.readTime(from.toISOString(), to.toISOString())) {
        if (!r.ok) continue;
        entries++;
        bytes += JSON.stringify(r.entry).length;
        types[r.entry.type] = (types[r.entry.type] ?? 0) + 1;
        if (r.entry.source === 'prober') prober++;
      }
    } finally {
      await store.close();
    }
    const perMin = (x: number) => (x * 60) / elapsed;
    result = {
      phase: name,
      pods: after.running,
      ready: after.ready,
      restarts: after.restarts,
      cpuPercent: (((cpu1 - cpu0) / CLK_TCK) / elapsed) * 100,
      rssMeanMiB: rss.reduce((a, b) => a + b, 0) / rss.length / 2 ** 20,
      rssMaxMiB: Math.max(...rss) / 2 ** 20,
      entriesPerMin: perMin(entries),
      entryBytesPerMin: perMin(bytes),
      logDirBytesPerMin: perMin(dir1 - dir0),
      proberEntries: prober,
      types,
    };
  } finally {
    if (!result) await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=false', '--ignore-not-found']).catch(() => undefined);
    await agent.stop();
    unlockNode();
    if (result) rmSync(agent.rootDir, { recursive: true, force: true });
  }
  return result;
}

const env = await testbedEnv();
if (otherAgents(env.TESTBED_NODE_NAME).length) process.stderr.write('another agent runs as the testbed node; waiting for it to stop\n');
await waitFor('the node to be free', async () => (otherAgents(env.TESTBED_NODE_NAME).length === 0 ? true : undefined), 1_800_000, 1000);
await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);

const results: PhaseResult[] = [];
results.push(await phase(env, 'baseline (no probes)', false));
results.push(await phase(env, 'probes (liveness+readiness httpGet, 1 s)', true));

const f = (n: number, d = 1) => n.toFixed(d);
console.log(`\n${PODS} pods, steady window ${SECONDS} s after ${SETTLE} s settling; ${new Date().toISOString()}`);
console.log('| phase | pods running/ready | restarts | agent CPU (% of one core) | RSS mean / max (MiB) | log entries / min | entry bytes / min | log dir growth / min |');
console.log('|---|---|---|---|---|---|---|---|');
for (const r of results) {
  console.log(`| ${r.phase} | ${r.pods}/${r.ready} | ${r.restarts} | ${f(r.cpuPercent)} | ${f(r.rssMeanMiB)} / ${f(r.rssMaxMiB)} | ${f(r.entriesPerMin)} | ${f(r.entryBytesPerMin, 0)} | ${f(r.logDirBytesPerMin / 1024)} KiB |`);
}
const [b, p] = results;
console.log(`\nprobing ${PODS * 2} checks/s cost ${f(p.cpuPercent - b.cpuPercent)} points of CPU and ${f(p.rssMeanMiB - b.rssMeanMiB)} MiB RSS over the baseline; prober entries in the probe window: ${p.proberEntries}`);
for (const r of results) console.log(`entry types in the ${r.phase} window: ${JSON.stringify(r.types)}`);
