// Stats and metrics on the kubelet API with their real consumers: metrics-server v0.8.0 (a testbed
// component) scrapes the node's /metrics/resource and `kubectl top` shows a pod burning a core at
// about 1000m; a direct scrape with the admin's client certificate parses with an independent
// Prometheus parser and has upstream's series and labels; /stats/summary has upstream's shape.
import { expect } from 'chai';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { getJson, healthzPort, kubectl, kubeletPort, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import { family, parsePrometheus } from '../helpers/prometheus-text.ts';

const LABEL = 'ledgerlet-test=metrics';

/** GET https://127.0.0.1:<kubelet port><path> with the testbed certificate `cert` (or none). */
function kubeletGet(env: TestbedEnv, path: string, cert?: string): Promise<{ status: number; body: string; type?: string }> {
  const pki = dirname(env.TESTBED_CA_CERT);
  const client = cert ? { cert: readFileSync(join(pki, `${cert}.crt`)), key: readFileSync(join(pki, `${cert}.key`)) } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: kubeletPort(env), path, ca: readFileSync(env.TESTBED_CA_CERT), servername: env.TESTBED_NODE_NAME, ...client }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body, type: res.headers['content-type'] }));
    });
    req.on('error', reject);
    req.end();
  });
}

function podJson(env: TestbedEnv, name: string, script: string, cpuRequest?: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'metrics' } },
    spec: {
      nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1,
      containers: [{
        name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', script], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }],
        ...(cpuRequest ? { resources: { requests: { cpu: cpuRequest } } } : {}),
      }],
      volumes: [{ name: 'scratch', emptyDir: {} }],
    },
  });
}

/** kubectl top's CPU column (millicores) and memory column (MiB) for `name`. */
function topFigures(out: string, name: string): { milli: number; mib: number } | undefined {
  const line = out.split('\n').find((l) => l.split(/\s+/)[0] === name);
  const m = line && /\s(\d+)m\s+(?:\d+%\s+)?(\d+)Mi/.exec(line);
  return m ? { milli: Number(m[1]), mib: Number(m[2]) } : undefined;
}

describe('stats and metrics on the kubelet API (metrics-server, kubectl top)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent;

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    agent = await startAgent(env, {
      extraArgs: ['--node-ip', '127.0.0.1', '--tls-cert-file', env.TESTBED_NODE_SERVING_CERT, '--tls-private-key-file', env.TESTBED_NODE_SERVING_KEY, '--client-ca-file', env.TESTBED_CA_CERT],
    });
    // A whole core requested, so its cgroup's CPU weight lets it run a core on the shared machine.
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'burn', 'while :; do :; done', '1'));
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'idle', 'head -c 3000000 /dev/zero > /scratch/fill; echo hello; sleep 100000'));
    for (const name of ['burn', 'idle']) {
      await waitFor(`${name} running`, async () => ((await getJson(env, ['get', 'pod', name])).status?.containerStatuses?.[0]?.state?.running ? true : undefined), 120_000);
    }
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
  });

  it('/metrics/resource, scraped with the admin certificate, has the series metrics-server reads with upstream\'s labels and sample times', async () => {
    const r = await kubeletGet(env, '/metrics/resource', 'admin');
    expect(r.status).to.equal(200);
    expect(r.type).to.match(/^text\/plain; version=0\.0\.4/);
    const fams = parsePrometheus(r.body);
    for (const name of ['node_cpu_usage_seconds_total', 'node_memory_working_set_bytes', 'container_cpu_usage_seconds_total', 'container_memory_working_set_bytes',
      'container_start_time_seconds', 'pod_cpu_usage_seconds_total', 'pod_memory_working_set_bytes', 'scrape_error', 'resource_scrape_error']) family(fams, name);
    expect(family(fams, 'scrape_error').metrics[0].value).to.equal('0');
    const node = family(fams, 'node_cpu_usage_seconds_total');
    expect(node.type).to.equal('COUNTER');
    expect(Number(node.metrics[0].value)).to.be.greaterThan(0);
    expect(Math.abs(Number(node.metrics[0].timestamp_ms) - Date.now())).to.be.lessThan(60_000);
    const burn = family(fams, 'container_cpu_usage_seconds_total').metrics.find((m) => m.labels?.pod === 'burn');
    expect(burn?.labels).to.deep.equal({ container: 'main', namespace: 'default', pod: 'burn' });
    expect(Number(burn?.value)).to.be.greaterThan(0);
    expect(Number(burn?.timestamp_ms)).to.be.greaterThan(0);
    const mem = family(fams, 'container_memory_working_set_bytes').metrics.find((m) => m.labels?.pod === 'idle');
    expect(Number(mem?.value)).to.be.greaterThan(0);
    const pod = family(fams, 'pod_cpu_usage_seconds_total').metrics.find((m) => m.labels?.pod === 'burn');
    expect(pod?.labels).to.deep.equal({ namespace: 'default', pod: 'burn' });
    const started = family(fams, 'container_start_time_seconds').metrics.find((m) => m.labels?.pod === 'burn');
    expect(Math.abs(Number(started?.value) * 1000 - Date.now())).to.be.lessThan(600_000);

    // Authentication and authorization as for every kubelet API path; the healthz port serves /healthz only.
    expect((await kubeletGet(env, '/metrics/resource')).status).to.equal(401);
    expect((await fetch(`http://127.0.0.1:${healthzPort(env)}/metrics`)).status).to.equal(404);
    expect(await (await fetch(`http://127.0.0.1:${healthzPort(env)}/healthz`)).text()).to.equal('ok');
    const own = await kubeletGet(env, '/metrics', 'admin');
    expect(own.body).to.match(/ledgerlet_log_entries_total\{kind="observation"\} [1-9]/);
    expect((await kubeletGet(env, '/metrics/probes', 'admin')).status).to.equal(200);
    const cadvisor = parsePrometheus((await kubeletGet(env, '/metrics/cadvisor', 'admin')).body);
    expect(family(cadvisor, 'container_cpu_usage_seconds_total').metrics.find((m) => m.labels?.pod === 'burn')?.labels?.image).to.include('busybox');
  });

  it('/stats/summary has upstream\'s shape, with filesystem, log and volume figures; only_cpu_and_memory leaves them out', async () => {
    const full = await kubeletGet(env, '/stats/summary', 'admin');
    expect(full.status).to.equal(200);
    const s = JSON.parse(full.body);
    expect(s.node.nodeName).to.equal(env.TESTBED_NODE_NAME);
    expect(s.node.fs.capacityBytes).to.be.greaterThan(0);
    expect(s.node.memory.workingSetBytes).to.be.greaterThan(0);
    const idle = s.pods.find((p: { podRef: { name: string } }) => p.podRef.name === 'idle');
    expect(idle.podRef.namespace).to.equal('default');
    expect(idle.containers[0].name).to.equal('main');
    expect(idle.containers[0].logs.usedBytes).to.be.greaterThan(0);
    expect(idle.containers[0].rootfs.usedBytes).to.be.a('number');
    const scratch = idle.volume.find((v: { name: string }) => v.name === 'scratch');
    expect(scratch.usedBytes).to.be.at.least(3_000_000);
    expect(idle['ephemeral-storage'].usedBytes).to.be.at.least(3_000_000);
    expect(idle.network?.name).to.be.a('string');
    const small = JSON.parse((await kubeletGet(env, '/stats/summary?only_cpu_and_memory=true', 'admin')).body);
    expect(Object.keys(small.node).sort()).to.deep.equal(['cpu', 'memory', 'nodeName', 'startTime']);
    expect(small.pods.find((p: { podRef: { name: string } }) => p.podRef.name === 'idle').volume).to.equal(undefined);
  });

  it('kubectl top node and kubectl top pod show the node and a pod burning a core at about 1000m', async () => {
    const node = await waitFor('kubectl top node', async () => {
      const out = await kubectl(env, ['top', 'node', env.TESTBED_NODE_NAME, '--no-headers']).catch(() => '');
      return topFigures(out, env.TESTBED_NODE_NAME);
    }, 180_000, 3000);
    expect(node.milli).to.be.greaterThan(400);
    expect(node.mib).to.be.greaterThan(50);
    const burn = await waitFor('kubectl top pod', async () => {
      const out = await kubectl(env, ['top', 'pod', '-l', LABEL, '--no-headers']).catch(() => '');
      return topFigures(out, 'burn') && topFigures(out, 'idle') ? out : undefined;
    }, 180_000, 3000);
    const b = topFigures(burn, 'burn')!;
    expect(b.milli).to.be.within(500, 1500);
    expect(topFigures(burn, 'idle')!.milli).to.be.below(200);
  });
});
