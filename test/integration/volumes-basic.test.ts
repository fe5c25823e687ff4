// Volumes end to end on the testbed with the real agent: every non-CSI volume type seen from
// inside a container (files, modes, contents), a configMap update reaching a mounted volume, the
// projected token authenticating to the API server, a missing configMap holding the pod in
// ContainerCreating until it is created, nothing left mounted after deletion, and no secret or
// token value anywhere in the node log.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { execFile } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync, existsSync } from 'node:fs';
import { request } from 'node:https';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { mountsUnder } from '../../src/adapters/mount/index.ts';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';

const LABEL = 'ledgerlet-test=volumes-basic';
const SECRET_VALUE = `s3cr3t-${randomBytes(12).toString('hex')}`;
const HOST_DIR = `/tmp/ledgerlet-vt-host-${process.pid}`;

/** Detach what other suites' pods left mounted under this agent's root dir (lazily), then remove it. */
async function releaseRootDir(dir: string | undefined): Promise<void> {
  if (!dir) return;
  for (const m of await mountsUnder(dir)) await promisify(execFile)('umount', ['-l', m.target]).catch(() => undefined);
  if ((await mountsUnder(dir)).length === 0) rmSync(dir, { recursive: true, force: true });
}

function podJson(env: TestbedEnv, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'volumes-basic', app: name } }, spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, ...spec } });
}

async function containerOf(cri: CriClient, podUid: string, name = 'app'): Promise<string> {
  return waitFor(`container ${name} of ${podUid}`, async () => (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': podUid } })).find((c) => c.metadata.name === name && c.state === 'CONTAINER_RUNNING')?.id);
}

async function sh(cri: CriClient, id: string, script: string): Promise<{ code: number; out: string }> {
  const r = await cri.execSync(id, ['sh', '-c', script], 20);
  return { code: r.exitCode, out: Buffer.from(r.stdout).toString('utf8').trim() };
}

async function out(cri: CriClient, id: string, script: string): Promise<string> {
  const r = await sh(cri, id, script);
  if (r.code !== 0) throw new Error(`${script}: exit ${r.code}`);
  return r.out;
}

async function running(env: TestbedEnv, name: string): Promise<any> {
  return waitFor(`${name} Running`, async () => {
    const p = await getJson(env, ['get', 'pod', name]);
    return p.status?.phase === 'Running' ? p : undefined;
  }, 120_000);
}

/** POST a SelfSubjectReview with `token`: who the API server says the token belongs to. */
function whoAmI(env: TestbedEnv, token: string): Promise<{ status: number; body: any }> {
  const url = new URL('/apis/authentication.k8s.io/v1/selfsubjectreviews', env.TESTBED_APISERVER);
  const body = JSON.stringify({ apiVersion: 'authentication.k8s.io/v1', kind: 'SelfSubjectReview' });
  return new Promise((resolve, reject) => {
    const req = request(url, { method: 'POST', ca: readFileSync(env.TESTBED_CA_CERT), headers: { Authorization: `Bearer ${token}`, 'Content-Type': 'application/json' } }, (res) => {
      let text = '';
      res.on('data', (d) => (text += d));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : undefined }));
    });
    req.on('error', reject);
    req.end(body);
  });
}

describe('volumes on the testbed (configMap, secret, downwardAPI, projected, emptyDir, hostPath)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let rootDir: string;
  let cfg: string;
  let token = '';
  const uids: string[] = [];

  before(async function () {
    // waiting for the testbed node (one agent at a time across test processes) may take a while
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    await kubectl(env, ['delete', 'configmap', 'vt-cfg', 'vt-late', '--ignore-not-found']);
    await kubectl(env, ['delete', 'secret', 'vt-secret', '--ignore-not-found']);
    await kubectl(env, ['create', 'configmap', 'vt-cfg', '--from-literal=a=alpha', '--from-literal=b=beta']);
    await kubectl(env, ['create', 'secret', 'generic', 'vt-secret', `--from-literal=password=${SECRET_VALUE}`]);
    // the default service account (the token controller of kube-controller-manager makes it)
    await waitFor('serviceaccount default', async () => ((await kubectl(env, ['get', 'serviceaccount', 'default', '-o', 'name']).catch(() => '')) ? true : undefined));
    rootDir = mkdtempSync(join(tmpdir(), 'ledgerlet-vt-'));
    cfg = join(rootDir, 'kubelet-config.json');
    writeFileSync(cfg, JSON.stringify({ apiVersion: 'kubelet.config.k8s.io/v1beta1', kind: 'KubeletConfiguration', syncFrequency: '2s' }));
    agent = await startAgent(env, { rootDir, extraArgs: ['--config', cfg] });
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    await kubectl(env, ['delete', 'configmap', 'vt-cfg', 'vt-late', '--ignore-not-found']).catch(() => undefined);
    await kubectl(env, ['delete', 'secret', 'vt-secret', '--ignore-not-found']).catch(() => undefined);
    cri?.close();
    rmSync(HOST_DIR, { recursive: true, force: true });
    await releaseRootDir(rootDir);
  });

  it('a pod with each volume type sees the expected files, modes and contents', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'vt-all', {
      securityContext: { fsGroup: 2000 },
      volumes: [
        { name: 'cfg', configMap: { name: 'vt-cfg', defaultMode: 0o640 } },
        { name: 'cfg-items', configMap: { name: 'vt-cfg', items: [{ key: 'b', path: 'sub/bee', mode: 0o600 }] } },
        { name: 'sec', secret: { secretName: 'vt-secret', defaultMode: 0o400 } },
        { name: 'opt', configMap: { name: 'vt-does-not-exist', optional: true } },
        { name: 'dapi', downwardAPI: { items: [
          { path: 'name', fieldRef: { fieldPath: 'metadata.name' } },
          { path: 'labels', fieldRef: { fieldPath: 'metadata.labels' } },
          { path: 'cpu', resourceFieldRef: { containerName: 'app', resource: 'requests.cpu', divisor: '1m' } },
        ] } },
        { name: 'scratch', emptyDir: {} },
        { name: 'mem', emptyDir: { medium: 'Memory', sizeLimit: '16Mi' } },
        { name: 'host', hostPath: { path: HOST_DIR, type: 'DirectoryOrCreate' } },
        { name: 'token', projected: { defaultMode: 0o644, sources: [
          { serviceAccountToken: { expirationSeconds: 3607, path: 'token' } },
          { configMap: { name: 'kube-root-ca.crt', items: [{ key: 'ca.crt', path: 'ca.crt' }] } },
          { downwardAPI: { items: [{ path: 'namespace', fieldRef: { apiVersion: 'v1', fieldPath: 'metadata.namespace' } }] } },
        ] } },
      ],
      containers: [{
        name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'],
        resources: { requests: { cpu: '250m' } },
        volumeMounts: [
          { name: 'cfg', mountPath: '/cfg' },
          { name: 'cfg', mountPath: '/one-key', subPath: 'a' },
          { name: 'cfg-items', mountPath: '/cfg-items' },
          { name: 'sec', mountPath: '/sec' },
          { name: 'opt', mountPath: '/opt-cfg' },
          { name: 'dapi', mountPath: '/dapi' },
          { name: 'scratch', mountPath: '/scratch' },
          { name: 'mem', mountPath: '/mem' },
          { name: 'host', mountPath: '/host' },
          { name: 'token', mountPath: '/var/run/secrets/kubernetes.io/serviceaccount', readOnly: true },
        ],
      }],
    }));
    const pod = await running(env, 'vt-all');
    uids.push(pod.metadata.uid);
    const id = await containerOf(cri, pod.metadata.uid);
    // configMap: every key, defaultMode (plus g+r for the fsGroup), group = fsGroup, ..data layout
    expect(await out(cri, id, 'cat /cfg/a; echo; cat /cfg/b')).to.equal('alpha\nbeta');
    expect(await out(cri, id, 'stat -L -c "%a %g" /cfg/a')).to.equal('640 2000');
    expect(await out(cri, id, 'readlink /cfg/a')).to.equal('..data/a');
    expect(await out(cri, id, 'readlink /cfg/..data')).to.match(/^\.\.\d{4}_\d{2}_\d{2}_\d{2}_\d{2}_\d{2}\./);
    expect(await out(cri, id, 'cat /one-key')).to.equal('alpha');
    // items: only the listed key, at its path, with its mode (plus g+r)
    expect(await out(cri, id, 'ls /cfg-items; cat /cfg-items/sub/bee')).to.equal('sub\nbeta');
    expect(await out(cri, id, 'stat -L -c %a /cfg-items/sub/bee')).to.equal('640');
    // secret on tmpfs, read-only mount
    expect(await out(cri, id, 'cat /sec/password')).to.equal(SECRET_VALUE);
    expect(await out(cri, id, 'stat -L -c %a /sec/password')).to.equal('440');
    expect(await out(cri, id, "awk '$2==\"/sec\" {print $3}' /proc/mounts")).to.equal('tmpfs');
    expect((await sh(cri, id, 'touch /sec/new')).code).to.not.equal(0);
    expect((await sh(cri, id, 'touch /cfg/new')).code).to.not.equal(0);
    // optional configMap that does not exist: an empty volume
    expect(await out(cri, id, 'ls /opt-cfg | wc -l')).to.equal('0');
    // downward API
    expect(await out(cri, id, 'cat /dapi/name')).to.equal('vt-all');
    expect(await out(cri, id, 'cat /dapi/labels')).to.equal('app="vt-all"\nledgerlet-test="volumes-basic"');
    expect(await out(cri, id, 'cat /dapi/cpu')).to.equal('250');
    // emptyDir on disk: writable, setgid group dir; Memory: tmpfs of the size limit
    expect(await out(cri, id, 'echo hi > /scratch/x && cat /scratch/x && stat -c "%g" /scratch')).to.equal('hi\n2000');
    expect(await out(cri, id, "awk '$2==\"/mem\" {print $3, $4}' /proc/mounts")).to.match(/^tmpfs .*size=16384k/);
    // hostPath: created by DirectoryOrCreate, shared with the host
    await out(cri, id, 'echo from-pod > /host/f');
    expect(readFileSync(join(HOST_DIR, 'f'), 'utf8')).to.equal('from-pod\n');
    // the kube-api-access shape: token, CA and namespace
    expect(await out(cri, id, 'cat /var/run/secrets/kubernetes.io/serviceaccount/namespace')).to.equal('default');
    expect(await out(cri, id, 'cat /var/run/secrets/kubernetes.io/serviceaccount/ca.crt')).to.equal(readFileSync(env.TESTBED_CA_CERT, 'utf8').trim());
    token = await out(cri, id, 'cat /var/run/secrets/kubernetes.io/serviceaccount/token');
    expect(token.split('.')).to.have.length(3);
    // on the host: the upstream layout
    const base = join(rootDir, 'pods', pod.metadata.uid, 'volumes');
    for (const p of ['kubernetes.io~configmap/cfg/a', 'kubernetes.io~secret/sec/password', 'kubernetes.io~downward-api/dapi/name', 'kubernetes.io~projected/token/token', 'kubernetes.io~empty-dir/scratch/x']) expect(existsSync(join(base, p)), p).to.equal(true);
  });

  it('the projected token authenticates to the API server as the pod\'s service account, bound to the pod', async () => {
    const r = await whoAmI(env, token);
    expect(r.status).to.equal(201);
    expect(r.body.status.userInfo.username).to.equal('system:serviceaccount:default:default');
    expect(r.body.status.userInfo.extra['authentication.kubernetes.io/pod-name']).to.deep.equal(['vt-all']);
  });

  it('updating the configMap updates the mounted volume atomically (not the subPath mount)', async () => {
    const pod = await getJson(env, ['get', 'pod', 'vt-all']);
    const id = await containerOf(cri, pod.metadata.uid);
    const before = await out(cri, id, 'readlink /cfg/..data');
    await kubectl(env, ['patch', 'configmap', 'vt-cfg', '--type=merge', '-p', JSON.stringify({ data: { a: 'alpha-2', c: 'gamma' } })]);
    await waitFor('the new content in /cfg', async () => ((await out(cri, id, 'cat /cfg/a')) === 'alpha-2' ? true : undefined), 60_000);
    expect(await out(cri, id, 'cat /cfg/c')).to.equal('gamma');
    expect(await out(cri, id, 'readlink /cfg/..data')).to.not.equal(before);
    // the old timestamped directory is gone; a subPath mount keeps the file it was given, as upstream
    expect(await out(cri, id, 'ls -a /cfg | grep -c "^\\.\\.[0-9]"')).to.equal('1');
    expect(await out(cri, id, 'cat /one-key')).to.equal('alpha');
  });

  it('a missing configMap keeps the pod in ContainerCreating; it starts once the configMap exists', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'vt-late', {
      volumes: [{ name: 'late', configMap: { name: 'vt-late' } }],
      containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'late', mountPath: '/late' }] }],
    }));
    const waiting = await waitFor('vt-late waiting in ContainerCreating', async () => {
      const p = await getJson(env, ['get', 'pod', 'vt-late']);
      const w = p.status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'ContainerCreating' && p.status.phase === 'Pending' ? p : undefined;
    });
    uids.push(waiting.metadata.uid);
    expect(await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': waiting.metadata.uid } })).to.have.length(0);
    // the agent's own account of why (its stdout log carries the failed set-up)
    await waitFor('the failed mount logged', async () => (agent!.output().includes('configmap \\"vt-late\\" not found') ? true : undefined), 30_000);
    await kubectl(env, ['create', 'configmap', 'vt-late', '--from-literal=k=v']);
    const pod = await running(env, 'vt-late');
    const id = await containerOf(cri, pod.metadata.uid);
    expect(await out(cri, id, 'cat /late/k')).to.equal('v');
  });

  it('a pod force-deleted while the agent is stopped is torn down after the restart: containers gone, volumes unmounted, pod dir removed', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'vt-orphan', {
      containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'mem', mountPath: '/mem' }, { name: 'cfg', mountPath: '/cfg' }] }],
      volumes: [{ name: 'mem', emptyDir: { medium: 'Memory' } }, { name: 'cfg', configMap: { name: 'vt-cfg' } }],
    }));
    const pod = await running(env, 'vt-orphan');
    const uid: string = pod.metadata.uid;
    const podDir = join(rootDir, 'pods', uid);
    expect((await mountsUnder(podDir)).length, 'tmpfs and configMap mounts').to.be.at.least(2);
    // The agent stops (pods keep running, as with the upstream kubelet); the pod object is
    // force-deleted meanwhile, so the restarted agent never sees a deletion, only a list without it.
    await agent!.stop();
    agent = undefined;
    expect((await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).some((c) => c.state === 'CONTAINER_RUNNING'), 'still running while the agent is down').to.equal(true);
    await kubectl(env, ['delete', 'pod', 'vt-orphan', '--grace-period=0', '--force']);
    agent = await startAgent(env, { rootDir, extraArgs: ['--config', cfg] });
    let left = '';
    await waitFor('vt-orphan torn down', async () => {
      const containers = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
      const sandboxes = await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
      const mounts = await mountsUnder(podDir);
      left = `containers ${containers.map((c) => c.state)}, sandboxes ${sandboxes.map((x) => x.state)}, mounts ${mounts.map((m) => m.target)}, pod dir ${existsSync(podDir) ? 'present' : 'gone'}`;
      return containers.length === 0 && sandboxes.length === 0 && mounts.length === 0 && !existsSync(podDir) ? true : undefined;
    }, 120_000).catch((err) => {
      throw new Error(`${(err as Error).message}; left: ${left}`);
    });
  });

  it('deleting the pods unmounts and removes their volumes before the pods are gone', async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s']);
    for (const uid of uids) {
      expect(await mountsUnder(join(rootDir, 'pods', uid)), uid).to.deep.equal([]);
      expect(existsSync(join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~secret'))).to.equal(false);
      expect(existsSync(join(rootDir, 'pods', uid, 'volumes', 'kubernetes.io~configmap'))).to.equal(false);
      expect(existsSync(join(rootDir, 'pods', uid)), `pod dir of ${uid}`).to.equal(false);
    }
    expect(readFileSync(join(HOST_DIR, 'f'), 'utf8')).to.equal('from-pod\n'); // hostPath content is the host's
  });

  it('the node log names volumes, versions and hashes, and holds no secret or token value', async () => {
    const running = agent!;
    await running.stop();
    agent = undefined;
    // the agent's own stdout/stderr log neither
    expect(running.output().includes(SECRET_VALUE), 'secret in the agent output').to.equal(false);
    expect(running.output().includes(token), 'token in the agent output').to.equal(false);
    const store = await LogStore.open(logDir(rootDir));
    const types = new Set<string>();
    let all = '';
    try {
      for await (const r of store.readRange()) {
        if (!r.ok) continue;
        types.add(r.entry.type);
        all += JSON.stringify(r.entry) + '\n';
      }
    } finally {
      await store.close();
    }
    expect(types).to.include.members(['PodVolumesSetUpRequested', 'PodVolumesSetUp', 'PodVolumesSetUpFailed', 'PodVolumeContentUpdated', 'PodVolumesTearDownRequested', 'PodVolumesTornDown']);
    expect(all).to.match(/"contentHash":"sha256:[0-9a-f]{64}"/);
    expect(all).to.include('"secret/vt-secret"');
    expect(all.includes(SECRET_VALUE), 'secret value in the log').to.equal(false);
    expect(all.includes(Buffer.from(SECRET_VALUE).toString('base64')), 'base64 secret in the log').to.equal(false);
    expect(token.length).to.be.greaterThan(100);
    expect(all.includes(token), 'token in the log').to.equal(false);
    expect(all.includes(token.split('.')[2]), 'token signature in the log').to.equal(false);
    // and the raw database files, byte for byte
    const { stdout } = await promisify(execFile)('grep', ['-rlF', SECRET_VALUE, logDir(rootDir)]).catch((e: { code?: number; stdout?: string }) => ({ stdout: e.code === 1 ? '' : String(e.stdout) }));
    expect(stdout.trim()).to.equal('');
  });
});
