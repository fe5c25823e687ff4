// The kubelet API on the testbed where a user sees upstream's behaviour: requests through the API
// server's nodes/<name>/proxy reach the agent at the node's address (TESTBED_NODE_IP) and need
// nodes/proxy; a bad bearer token is 401 even with anonymous auth on; tlsMinVersion VersionTLS13
// refuses TLS 1.2 (the API server still gets through); the read-only port serves /pods without
// authentication and nothing that could change or reveal a container; settings without effect
// are named at start-up.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readFileSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { request } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, kubectl, kubeletApiArgs, kubeletPort, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const LABEL = 'ledgerlet-test=kubelet-api-upstream';
const LIMITED_USER = 'ledgerlet-test-node-reader';

function kubeletGet(env: TestbedEnv, path: string, headers: Record<string, string> = {}, tls: object = {}): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = request({ host: '127.0.0.1', port: kubeletPort(env), path, headers, ca: readFileSync(env.TESTBED_CA_CERT), servername: env.TESTBED_NODE_NAME, ...tls }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

function plainGet(port: number, path: string, method = 'GET'): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest({ host: '127.0.0.1', port, path, method }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

describe('kubelet API as upstream (proxy through the API server, authentication, TLS, read-only port)', function () {
  this.timeout(240_000);
  let env: TestbedEnv;
  let agent: RunningAgent;
  let readOnlyPort: number;

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    expect(env.TESTBED_NODE_IP, 'scripts/testbed env exports TESTBED_NODE_IP').to.match(/^\d+\.\d+\.\d+\.\d+$/);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    readOnlyPort = kubeletPort(env) + 5; // 10255 beside 10250, as upstream's convention
    const dir = mkdtempSync(join(tmpdir(), 'ledgerlet-kapi-'));
    const config = join(dir, 'kubelet.yaml');
    writeFileSync(config, [
      'apiVersion: kubelet.config.k8s.io/v1beta1',
      'kind: KubeletConfiguration',
      'authentication: {anonymous: {enabled: true}}',
      'tlsMinVersion: VersionTLS13',
      `readOnlyPort: ${readOnlyPort}`,
      'streamingConnectionIdleTimeout: 4s',
      'serializeImagePulls: false',
      'someFutureField: 1',
    ].join('\n'));
    agent = await startAgent(env, { extraArgs: ['--config', config, ...kubeletApiArgs(env)] });
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'proxied', namespace: 'default', labels: { 'ledgerlet-test': 'kubelet-api-upstream' } },
      spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }] },
    }));
    await waitFor('proxied Running', async () => ((await getJson(env, ['get', 'pod', 'proxied'])).status?.phase === 'Running' ? true : undefined), 120_000);
    // A user who may read nodes but not nodes/proxy.
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: LIMITED_USER }, rules: [{ apiGroups: [''], resources: ['nodes'], verbs: ['get', 'list'] }] },
        { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: LIMITED_USER }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: LIMITED_USER }, subjects: [{ apiGroup: 'rbac.authorization.k8s.io', kind: 'User', name: LIMITED_USER }] },
      ],
    }));
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await kubectl(env, ['delete', 'clusterrole,clusterrolebinding', LIMITED_USER, '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
  });

  it('the node advertises TESTBED_NODE_IP, and nodes/<node>/proxy/pods through the API server returns its pods', async () => {
    const node = await getJson(env, ['get', 'node', env.TESTBED_NODE_NAME]);
    expect(node.status.addresses).to.deep.include({ type: 'InternalIP', address: env.TESTBED_NODE_IP });
    const list = JSON.parse(await kubectl(env, ['get', '--raw', `/api/v1/nodes/${env.TESTBED_NODE_NAME}/proxy/pods`]));
    expect(list.kind).to.equal('PodList');
    expect(list.items.map((p: any) => `${p.metadata.namespace}/${p.metadata.name}`)).to.include('default/proxied');
    expect(await kubectl(env, ['get', '--raw', `/api/v1/nodes/${env.TESTBED_NODE_NAME}/proxy/healthz`])).to.equal('ok\n');
  });

  it('a user without nodes/proxy gets 403 from the API server (and may still read the node)', async () => {
    await kubectl(env, ['get', 'node', env.TESTBED_NODE_NAME, '--as', LIMITED_USER]);
    const err = await kubectl(env, ['get', '--raw', `/api/v1/nodes/${env.TESTBED_NODE_NAME}/proxy/pods`, '--as', LIMITED_USER]).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/Forbidden|forbidden/);
    expect(err).to.match(/nodes\/proxy|"proxy"|subresource/);
  });

  it('with anonymous auth on, a bad bearer token is 401; no credential is anonymous (then denied by the API server, 403)', async () => {
    const bad = await kubeletGet(env, '/pods', { Authorization: 'Bearer not-a-real-token' }, { minVersion: 'TLSv1.3' });
    expect(bad).to.deep.equal({ status: 401, body: 'Unauthorized\n' });
    const anon = await kubeletGet(env, '/pods', {}, { minVersion: 'TLSv1.3' });
    expect(anon.status).to.equal(403);
    expect(anon.body).to.match(/user=system:anonymous/);
  });

  it('tlsMinVersion VersionTLS13: a TLS 1.2 client is refused, TLS 1.3 is served', async () => {
    const handshake = (maxVersion: 'TLSv1.2' | 'TLSv1.3') => new Promise<string>((resolve) => {
      const sock = tlsConnect({ host: '127.0.0.1', port: kubeletPort(env), ca: readFileSync(env.TESTBED_CA_CERT), servername: env.TESTBED_NODE_NAME, maxVersion }, () => {
        const v = sock.getProtocol() ?? '';
        sock.end();
        resolve(v);
      });
      sock.on('error', (e) => resolve(`refused: ${e.message}`));
    });
    expect(await handshake('TLSv1.2')).to.match(/^refused: .*(version|alert)/i);
    expect(await handshake('TLSv1.3')).to.equal('TLSv1.3');
  });

  it('the read-only port serves /pods and /healthz without authentication, refuses debugging paths (405) and other methods', async () => {
    const pods = await waitFor('the read-only port', () => plainGet(readOnlyPort, '/pods').catch(() => undefined), 30_000, 200);
    expect(pods.status).to.equal(200);
    expect(JSON.parse(pods.body).items.map((p: any) => p.metadata.name)).to.include('proxied');
    expect(await plainGet(readOnlyPort, '/healthz')).to.deep.equal({ status: 200, body: 'ok\n' });
    expect(await plainGet(readOnlyPort, '/containerLogs/default/proxied/app')).to.deep.equal({ status: 405, body: 'Debug endpoints are disabled.\n' });
    expect((await plainGet(readOnlyPort, '/exec/default/proxied/app?command=id')).status).to.equal(405);
    expect((await plainGet(readOnlyPort, '/configz')).status).to.equal(404);
    expect((await plainGet(readOnlyPort, '/pods', 'DELETE')).status).to.equal(405);
  });

  it('streamingConnectionIdleTimeout: an exec stream idle that long is closed; one that keeps talking is not', async () => {
    const t0 = Date.now();
    // stdin stays open and nothing moves: only the idle timeout can end this `cat`
    const idle = spawn(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', env.TESTBED_ADMIN_KUBECONFIG, 'exec', '-i', 'proxied', '--', 'cat'], { stdio: ['pipe', 'pipe', 'pipe'] });
    const ended = await Promise.race([
      new Promise<boolean>((r) => idle.on('exit', () => r(true))),
      new Promise<boolean>((r) => setTimeout(() => r(false), 90_000)),
    ]);
    idle.kill();
    expect(ended, 'the idle exec stream was closed').to.equal(true);
    expect(Date.now() - t0).to.be.at.least(4000);
    const talking = await kubectl(env, ['exec', 'proxied', '--', 'sh', '-c', 'for i in 1 2 3 4 5 6 7; do echo $i; sleep 1; done']);
    expect(talking).to.equal('1\n2\n3\n4\n5\n6\n7\n');
  });

  it('settings the agent does not act on are named at start-up', () => {
    expect(agent.output()).to.match(/KubeletConfiguration setting serializeImagePulls has no effect/);
    expect(agent.output()).to.match(/KubeletConfiguration setting someFutureField has no effect/);
    expect(agent.output()).not.to.match(/setting readOnlyPort has no effect/);
  });
});
