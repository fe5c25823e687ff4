// Benchmark: what scraping the kubelet API costs the agent. A real agent on the testbed runs
// --pods busybox pods; its CPU time (utime + stime from /proc/<pid>/stat) is read around --rounds
// sequential GETs of /metrics/resource and of /stats/summary (admin client certificate), minus
// what it spent idle over as long. The figure per request gives the share of a core at
// metrics-server's cadence (/metrics/resource every 15 s) and a dashboard's (/stats/summary every 60 s).
//
//   npm run bench:stats [-- --pods 20 --rounds 40]
//
// Needs the testbed up (scripts/testbed up) and its environment.
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { kubectl, kubeletPort, startAgent, testbedEnv, waitFor, type TestbedEnv } from '../../test/integration/helpers/agent.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const PODS = arg('pods', 20);
const ROUNDS = arg('rounds', 40);
const LABEL = 'ledgerlet-bench=stats';

const cpuMs = (pid: number) => {
  const f = readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
  return ((Number(f[11]) + Number(f[12])) * 1000) / 100; // utime + stime, USER_HZ 100
};

function get(env: TestbedEnv, path: string): Promise<number> {
  const pki = dirname(env.TESTBED_CA_CERT);
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: kubeletPort(env), path, ca: readFileSync(env.TESTBED_CA_CERT), servername: env.TESTBED_NODE_NAME,
      cert: readFileSync(join(pki, 'admin.crt')), key: readFileSync(join(pki, 'admin.key')) }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d));
      res.on('end', () => (res.statusCode === 200 ? resolve(body.length) : reject(new Error(`${path}: ${res.statusCode} ${body}`))));
    });
    req.on('error', reject);
    req.end();
  });
}

const env = await testbedEnv();
await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
const agent = await startAgent(env, { extraArgs: ['--node-ip', '127.0.0.1', '--tls-cert-file', env.TESTBED_NODE_SERVING_CERT, '--tls-private-key-file', env.TESTBED_NODE_SERVING_KEY, '--client-ca-file', env.TESTBED_CA_CERT] });
const pid = agent.child.pid!;
try {
  const items = Array.from({ length: PODS }, (_, i) => ({
    apiVersion: 'v1', kind: 'Pod', metadata: { name: `stats-${i}`, namespace: 'default', labels: { 'ledgerlet-bench': 'stats' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '100000'] }] },
  }));
  await kubectl(env, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items }));
  await waitFor(`${PODS} pods running`, async () => {
    const out = await kubectl(env, ['get', 'pods', '-l', LABEL, '--no-headers']);
    return out.split('\n').filter((l) => /\sRunning\s/.test(l)).length === PODS ? true : undefined;
  }, 600_000, 2000);
  await new Promise((r) => setTimeout(r, 15_000));
  const measure = async (what: string, run: () => Promise<unknown>) => {
    const idle0 = cpuMs(pid);
    const t0 = Date.now();
    await new Promise((r) => setTimeout(r, 20_000));
    const idleRate = (cpuMs(pid) - idle0) / (Date.now() - t0);
    const c0 = cpuMs(pid);
    const w0 = Date.now();
    let bytes = 0;
    for (let i = 0; i < ROUNDS; i++) bytes = Number(await run());
    const wall = Date.now() - w0;
    const perRequest = Math.max(0, cpuMs(pid) - c0 - idleRate * wall) / ROUNDS;
    return { what, perRequestCpuMs: Math.round(perRequest * 10) / 10, wallMsPerRequest: Math.round(wall / ROUNDS), bytes, idleCpuPct: Math.round(idleRate * 1000) / 10 };
  };
  const resource = await measure('/metrics/resource', () => get(env, '/metrics/resource'));
  const summary = await measure('/stats/summary', () => get(env, '/stats/summary'));
  const share = resource.perRequestCpuMs / 15_000 + summary.perRequestCpuMs / 60_000;
  console.log(JSON.stringify({ pods: PODS, rounds: ROUNDS, resource, summary, coreSharePct: Math.round(share * 10000) / 100 }, null, 1));
} finally {
  await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=false', '--grace-period=1']).catch(() => undefined);
  await waitFor('bench pods gone', async () => ((await kubectl(env, ['get', 'pods', '-l', LABEL, '--no-headers'])).trim() === '' ? true : undefined), 300_000, 2000).catch(() => undefined);
  await agent.stop();
}
