// The kubelet API on the testbed: `kubectl logs` goes kubectl → API server → ledgerlet's
// /containerLogs over TLS (the API server checks the node's serving certificate against the
// testbed CA and presents its kubelet client certificate), with --previous, --tail, --timestamps
// and -f; direct callers are authenticated by client certificate and authorized by the API server.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { connect as tlsConnect } from 'node:tls';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { getJson, kubectl, kubeletApiArgs, kubeletPort, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const LABEL = 'ledgerlet-test=kubelet-api';


function podJson(env: TestbedEnv, name: string, script: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'kubelet-api' } },
    spec: {
      nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1,
      containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', script], volumeMounts: [{ name: 'state', mountPath: '/state' }] }],
      volumes: [{ name: 'state', emptyDir: {} }],
    },
  });
}

/** GET https://127.0.0.1:<kubelet port><path> with the testbed certificate `cert` (or none). */
function kubeletGet(env: TestbedEnv, path: string, cert?: string): Promise<{ status: number; body: string }> {
  const pki = dirname(env.TESTBED_CA_CERT);
  const client = cert ? { cert: readFileSync(join(pki, `${cert}.crt`)), key: readFileSync(join(pki, `${cert}.key`)) } : {};
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: kubeletPort(env), path, ca: readFileSync(env.TESTBED_CA_CERT), servername: env.TESTBED_NODE_NAME, ...client }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubelet API (kubectl logs through the API server)', function () {
  this.timeout(240_000);
  let env: TestbedEnv;
  let agent: RunningAgent;

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    // The node's address (TESTBED_NODE_IP) is in the testbed serving certificate, and is where the API server dials the node.
    agent = await startAgent(env, { extraArgs: kubeletApiArgs(env) });
    // The first run prints three lines (the last on stderr, after a pause so the streams cannot
    // race) and fails; the second keeps printing ticks.
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'logs', 'n=$(cat /state/n 2>/dev/null || echo 0); n=$((n+1)); echo $n > /state/n; echo "run $n line 1"; echo "run $n line 2"; sleep 0.3; echo "run $n line 3" >&2; sleep 0.3; [ $n -ge 2 ] || exit 1; while true; do echo tick; sleep 0.2; done'));
    await waitFor('the second run of logs', async () => {
      const s = (await getJson(env, ['get', 'pod', 'logs'])).status;
      return s?.containerStatuses?.[0]?.restartCount === 1 && s.containerStatuses[0].state?.running ? true : undefined;
    }, 120_000);
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
  });

  it('kubectl logs shows the running container; --previous the one before it, stdout and stderr in order', async () => {
    const now = await waitFor('ticks in kubectl logs', async () => {
      const text = await kubectl(env, ['logs', 'logs']);
      return text.includes('tick\n') ? text : undefined;
    }, 30_000, 200);
    expect(now.split('\n').slice(0, 3)).to.deep.equal(['run 2 line 1', 'run 2 line 2', 'run 2 line 3']);
    expect(now).to.include('tick\n');
    expect(await kubectl(env, ['logs', 'logs', '--previous'])).to.equal('run 1 line 1\nrun 1 line 2\nrun 1 line 3\n');
  });

  it('--tail, --timestamps and --limit-bytes shape the output as upstream', async () => {
    expect(await kubectl(env, ['logs', 'logs', '--previous', '--tail=2'])).to.equal('run 1 line 2\nrun 1 line 3\n');
    const stamped = (await kubectl(env, ['logs', 'logs', '--previous', '--timestamps'])).trim().split('\n');
    expect(stamped).to.have.length(3);
    for (const l of stamped) expect(l).to.match(/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d+Z run 1 line \d$/);
    expect(await kubectl(env, ['logs', 'logs', '--previous', '--limit-bytes=5'])).to.equal('run 1');
  });

  it('kubectl logs -f streams lines as the container writes them', async () => {
    const child = spawn(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', env.TESTBED_ADMIN_KUBECONFIG, 'logs', '-f', '--tail=1', 'logs']);
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    try {
      // --tail=1 gives one tick; more can only come from following the file.
      await waitFor('ten followed ticks', async () => ((out.match(/tick\n/g) ?? []).length >= 10 ? true : undefined), 30_000, 100);
    } finally {
      child.kill();
    }
    expect(out.split('\n').filter(Boolean).every((l) => l === 'tick')).to.equal(true);
  });

  it('a container or pod that does not exist gets the upstream error message', async () => {
    const err = await kubectl(env, ['logs', 'logs', '-c', 'nope']).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/container nope is not valid for pod logs/);
  });

  it('direct callers: no certificate is 401, the node\'s own certificate is denied by the API server (403), an admin is allowed', async () => {
    const path = '/containerLogs/default/logs/app?previous=true';
    expect((await kubeletGet(env, path)).status).to.equal(401);
    const node = await kubeletGet(env, path, `node-${env.TESTBED_NODE_NAME}`);
    expect(node.status).to.equal(403);
    expect(node.body).to.match(/subresource=proxy/);
    const admin = await kubeletGet(env, path, 'admin');
    expect(admin).to.deep.equal({ status: 200, body: 'run 1 line 1\nrun 1 line 2\nrun 1 line 3\n' });
    const pods = JSON.parse((await kubeletGet(env, '/pods', 'admin')).body);
    expect(pods.kind).to.equal('PodList');
    expect(pods.items.map((p: any) => p.metadata.name)).to.include('logs');
    expect(await kubeletGet(env, '/exec/default/logs/app?command=ls', 'admin')).to.deep.equal({ status: 400, body: 'Upgrade request required\n' });
  });

  it('kubectl exec runs a command in the container (stdout, stderr, exit code, stdin)', async () => {
    expect(await kubectl(env, ['exec', 'logs', '--', 'sh', '-c', 'echo out; cat /state/n'])).to.equal('out\n2\n');
    const failed = await kubectl(env, ['exec', 'logs', '--', 'sh', '-c', 'echo oops >&2; exit 7']).then(() => '', (e: Error) => e.message);
    expect(failed).to.match(/oops/);
    expect(failed).to.match(/exit code 7|exit 7/);
    expect(await kubectl(env, ['exec', '-i', 'logs', '--', 'tr', 'a-z', 'A-Z'], 'shout\n')).to.equal('SHOUT\n');
    const missing = await kubectl(env, ['exec', 'logs', '-c', 'nope', '--', 'true']).then(() => '', (e: Error) => e.message);
    expect(missing).to.match(/container nope is not valid for pod logs/);
  });

  it('kubectl port-forward reaches a port inside the pod', async () => {
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web', namespace: 'default', labels: { 'ledgerlet-test': 'kubelet-api' } },
      spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'mkdir -p /www && echo forwarded > /www/index.html && exec httpd -f -p 8080 -h /www'] }] },
    }));
    await waitFor('web Running', async () => ((await getJson(env, ['get', 'pod', 'web'])).status?.phase === 'Running' ? true : undefined), 120_000);
    const pf = spawn(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', env.TESTBED_ADMIN_KUBECONFIG, 'port-forward', 'pod/web', ':8080']);
    let out = '';
    pf.stdout.on('data', (d) => (out += d));
    pf.stderr.on('data', (d) => (out += d));
    try {
      const local = await waitFor('port-forward listening', async () => /127\.0\.0\.1:(\d+) -> 8080/.exec(out)?.[1], 30_000, 100);
      const body = await waitFor('a page through the tunnel', async () => {
        const r = await fetch(`http://127.0.0.1:${local}/`).catch(() => undefined);
        return r?.ok ? r.text() : undefined;
      }, 30_000, 200);
      expect(body).to.equal('forwarded\n');
    } finally {
      pf.kill();
    }
  });

  it('without --tls-cert-file it serves a self-signed certificate kept in <root-dir>/pki and reused after a restart', async () => {
    await agent.stop();
    agent = await startAgent(env, { rootDir: agent.rootDir });
    const peer = () => new Promise<{ fingerprint: string; cn: string }>((resolve, reject) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: kubeletPort(env), rejectUnauthorized: false }, () => {
        const c = sock.getPeerCertificate();
        sock.end();
        resolve({ fingerprint: c.fingerprint256, cn: String(c.subject.CN) });
      });
      sock.on('error', reject);
    });
    const first = await waitFor('the kubelet API', () => peer().catch(() => undefined), 30_000, 200);
    expect(first.cn.startsWith(`${env.TESTBED_NODE_NAME}@`)).to.equal(true);
    expect(existsSync(join(agent.rootDir, 'pki', 'kubelet.crt'))).to.equal(true);
    await agent.stop();
    agent = await startAgent(env, { rootDir: agent.rootDir });
    const second = await waitFor('the kubelet API again', () => peer().catch(() => undefined), 30_000, 200);
    expect(second.fingerprint).to.equal(first.fingerprint);
  });

  it('a port that is taken: the agent logs why and keeps running its pods', async () => {
    await agent.stop();
    const blocker = createServer();
    await new Promise<void>((r) => blocker.listen(0, '127.0.0.1', () => r()));
    const port = (blocker.address() as { port: number }).port;
    try {
      agent = await startAgent(env, { rootDir: agent.rootDir, extraArgs: ['--address', '127.0.0.1', '--port', String(port)] });
      await waitFor('the error logged', async () => (agent.output().includes('kubelet API not served') ? true : undefined), 30_000, 200);
      expect(agent.output()).to.match(/EADDRINUSE/);
      expect(agent.child.exitCode).to.equal(null);
      const s = (await getJson(env, ['get', 'pod', 'logs'])).status;
      expect(s.phase).to.equal('Running');
    } finally {
      blocker.close();
    }
  });
});
