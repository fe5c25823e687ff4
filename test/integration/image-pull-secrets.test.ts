// imagePullSecrets end to end: the testbed's second registry requires HTTP basic authentication
// (htpasswd, scripts/testbed up). A pod without a pull secret gets the registry's 401; a pod whose
// secrets include a wrong credential, a missing secret and the right credential runs (each
// matching credential is tried in turn, as upstream). Then no credential may be found anywhere the
// agent writes: the raw LevelDB files, the HTML export, the agent's stdout and stderr.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Level } from 'level';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const LABEL = 'ledgerlet-test=pull-secrets';
const b64 = (s: string) => Buffer.from(s).toString('base64');

function filesUnder(dir: string): string[] {
  return readdirSync(dir).flatMap((n) => {
    const p = join(dir, n);
    const s = statSync(p);
    return s.isDirectory() ? filesUnder(p) : s.isFile() ? [p] : [];
  });
}

describe('imagePullSecrets against a registry that requires authentication', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let user: string;
  let password: string;
  let image: string;
  const wrongPassword = `wrong-${Date.now().toString(36)}-pw`;

  const secret = (name: string, registry: string, auth: string) => JSON.stringify({
    apiVersion: 'v1', kind: 'Secret', type: 'kubernetes.io/dockerconfigjson',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'pull-secrets' } },
    data: { '.dockerconfigjson': b64(JSON.stringify({ auths: { [registry]: { auth } } })) },
  });
  const pod = (name: string, pullSecrets: string[]) => JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'pull-secrets' } },
    spec: {
      nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1,
      ...(pullSecrets.length ? { imagePullSecrets: pullSecrets.map((n) => ({ name: n })) } : {}),
      containers: [{ name: 'main', image, imagePullPolicy: 'Always', command: ['sleep', '3600'] }],
    },
  });
  const waiting = async (name: string) => (await getJson(env, ['get', 'pod', name])).status?.containerStatuses?.[0]?.state?.waiting;

  before(async () => {
    env = await testbedEnv();
    for (const k of ['TESTBED_AUTH_REGISTRY', 'TESTBED_AUTH_REGISTRY_USER', 'TESTBED_AUTH_REGISTRY_PASSWORD', 'TESTBED_AUTH_IMAGE_BUSYBOX']) {
      if (!env[k]) throw new Error(`${k} is not set: the testbed's authenticating registry is not up (scripts/testbed up)`);
    }
    user = env.TESTBED_AUTH_REGISTRY_USER;
    password = env.TESTBED_AUTH_REGISTRY_PASSWORD;
    image = env.TESTBED_AUTH_IMAGE_BUSYBOX;
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods,secrets', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    // the image must really be pulled: none may be left in containerd from an earlier run
    await cri.removeImage({ image }).catch(() => undefined);
    expect(await cri.imageStatus({ image })).to.equal(undefined);
    await kubectl(env, ['apply', '-f', '-'], secret('regcred', `https://${env.TESTBED_AUTH_REGISTRY}`, b64(`${user}:${password}`)));
    await kubectl(env, ['apply', '-f', '-'], secret('wrongcred', env.TESTBED_AUTH_REGISTRY, b64(`${user}:${wrongPassword}`)));
    agent = await startAgent(env);
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods,secrets', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    cri?.close();
  });

  it('a pod without a pull secret gets ErrImagePull with the registry\'s 401', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod('anonymous', []));
    const w = await waitFor('anonymous to fail its pull', async () => {
      const s = await waiting('anonymous');
      return s && /ErrImagePull|ImagePullBackOff/.test(s.reason) ? s : undefined;
    });
    expect(w.message).to.include('401 Unauthorized');
    expect(w.message).to.include(env.TESTBED_AUTH_REGISTRY);
    expect(await cri.imageStatus({ image })).to.equal(undefined);
  });

  it('a pod with a missing, a wrong and the right pull secret runs: each matching credential is tried', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod('authorized', ['absent', 'wrongcred', 'regcred']));
    const st = await waitFor('authorized Running', async () => {
      const s = (await getJson(env, ['get', 'pod', 'authorized'])).status;
      return s?.phase === 'Running' ? s : undefined;
    }, 120_000);
    expect(st.containerStatuses[0].state.running).to.not.equal(undefined);
    expect((await cri.imageStatus({ image }))?.id).to.be.a('string');
    // a pod with only the wrong credential still fails, with the 401 of that credential
    await kubectl(env, ['apply', '-f', '-'], pod('wrongonly', ['wrongcred']));
    const w = await waitFor('wrongonly to fail its pull', async () => {
      const s = await waiting('wrongonly');
      return s && /ErrImagePull|ImagePullBackOff/.test(s.reason) ? s : undefined;
    });
    expect(w.message).to.include('401 Unauthorized');
  });

  it('no credential reaches the LevelDB files, the HTML export or the agent\'s output', async () => {
    const output = () => agent!.output();
    // the log names the secrets (what an operator needs), before we stop the agent
    expect(output().length).to.be.greaterThan(0);
    await agent!.stop();
    const rootDir = agent!.rootDir;
    const htmlFile = join(mkdtempSync(join(tmpdir(), 'ledgerlet-export-')), 'timeline.html');
    await run(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'export', '--root-dir', rootDir, '--html', htmlFile], { maxBuffer: 64 << 20 });
    const html = readFileSync(htmlFile, 'utf8');
    expect(html).to.include('authorized');
    const logFiles = filesUnder(join(rootDir, 'log'));
    expect(logFiles.length).to.be.greaterThan(0);
    const raw = Buffer.concat(logFiles.map((f) => readFileSync(f)));
    // LevelDB compresses its table files: read every key and value back too, uncompressed
    const db = new Level<string, string>(join(rootDir, 'log'), { valueEncoding: 'utf8' });
    let decoded = '';
    try {
      for await (const [k, v] of db.iterator()) decoded += `${k}\n${v}\n`;
    } finally {
      await db.close();
    }
    // the log does hold the secret names and the 401, so the search below is searching real data
    expect(decoded, `log of ${rootDir}`).to.include('regcred');
    expect(decoded).to.include('401 Unauthorized');
    const forbidden = {
      password,
      wrongPassword,
      auth: b64(`${user}:${password}`),
      wrongAuth: b64(`${user}:${wrongPassword}`),
    };
    for (const [what, value] of Object.entries(forbidden)) {
      expect(raw.includes(value), `${what} in the LevelDB files`).to.equal(false);
      expect(decoded.includes(value), `${what} in the LevelDB entries`).to.equal(false);
      expect(html.includes(value), `${what} in the HTML export`).to.equal(false);
      expect(output().includes(value), `${what} on the agent's stdout/stderr`).to.equal(false);
    }
    rmSync(htmlFile, { force: true });
  });
});
