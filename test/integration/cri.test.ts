// The CRI adapter against the testbed's real containerd: version and status, a busybox image
// pulled from the local registry through CRI, a pod sandbox on the bridge network, a container
// that runs, answers ExecSync and reports stats, then stop/remove of everything.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../../src/adapters/cri/client.ts';
import { isNotFound } from '../../src/adapters/cri/errors.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/adapters/cri/types.ts';
import { expectCriError } from './helpers/cri-errors.ts';

/** The TESTBED_* variables of `eval "$(scripts/testbed env)"`; a readable failure when absent. */
function testbedEnv() {
  const need = (k: string): string => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set: run scripts/testbed up, then eval "$(scripts/testbed env)"`);
    return v;
  };
  return {
    criEndpoint: need('TESTBED_CRI_ENDPOINT'),
    registry: need('TESTBED_REGISTRY'),
    imageBusybox: need('TESTBED_IMAGE_BUSYBOX'),
    cniSubnet: need('TESTBED_CNI_SUBNET'),
  };
}


function ipv4ToInt(ip: string): number {
  const parts = ip.split('.').map(Number);
  if (parts.length !== 4 || parts.some((p) => !Number.isInteger(p) || p < 0 || p > 255)) throw new Error(`not an IPv4 address: ${ip}`);
  return parts.reduce((acc, p) => acc * 256 + p, 0);
}

function inCidr(ip: string, cidr: string): boolean {
  const [net, bits] = cidr.split('/');
  const mask = Number(bits);
  const size = 2 ** (32 - mask);
  const start = Math.floor(ipv4ToInt(net ?? '') / size) * size;
  const n = ipv4ToInt(ip);
  return n >= start && n < start + size;
}

/** Manifest digest the registry serves for an image reference host/repo:tag. */
async function registryDigest(image: string): Promise<string> {
  const m = /^([^/]+)\/(.+):([^:/]+)$/.exec(image);
  if (!m) throw new Error(`cannot parse image reference ${image}`);
  const [, host, repo, tag] = m;
  const res = await fetch(`http://${host}/v2/${repo}/manifests/${tag}`, {
    method: 'HEAD',
    headers: {
      accept: [
        'application/vnd.oci.image.index.v1+json',
        'application/vnd.oci.image.manifest.v1+json',
        'application/vnd.docker.distribution.manifest.list.v2+json',
        'application/vnd.docker.distribution.manifest.v2+json',
      ].join(', '),
    },
  });
  expect(res.status, `registry HEAD ${image}`).to.equal(200);
  const digest = res.headers.get('docker-content-digest');
  expect(digest, 'registry digest header').to.match(/^sha256:[0-9a-f]{64}$/);
  return digest as string;
}

describe('CRI adapter against the testbed containerd', function () {
  this.timeout(120_000);
  let env: ReturnType<typeof testbedEnv>;
  let cri: CriClient;
  let logDir: string;
  const uid = randomUUID();
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: `cri-it-${uid.slice(0, 8)}`, uid, namespace: 'ledgerlet-cri-test', attempt: 0 },
    hostname: `cri-it-${uid.slice(0, 8)}`,
    logDirectory: '',
    labels: { 'io.kubernetes.pod.uid': uid, 'ledgerlet.test': 'cri' },
    annotations: { 'ledgerlet.test/purpose': 'adapter integration test' },
    linux: {
      securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } },
    },
  };
  let sandboxId = '';
  let containerId = '';
  let imageRef = '';

  before(() => {
    env = testbedEnv();
    logDir = mkdtempSync(join(tmpdir(), 'ledgerlet-cri-logs-'));
    sandboxConfig.logDirectory = logDir;
    cri = new CriClient(env.criEndpoint);
  });

  after(async () => {
    // best effort, in case a test failed half way; the assertions live in the tests
    if (containerId) await cri.removeContainer(containerId).catch(() => undefined);
    if (sandboxId) {
      await cri.stopPodSandbox(sandboxId).catch(() => undefined);
      await cri.removePodSandbox(sandboxId).catch(() => undefined);
    }
    cri?.close();
    if (logDir) rmSync(logDir, { recursive: true, force: true });
  });

  it('reports CRI v1 from containerd', async () => {
    const v = await cri.version();
    expect(v.runtimeApiVersion).to.equal('v1');
    expect(v.runtimeName).to.equal('containerd');
    expect(v.runtimeVersion).to.not.equal('');
  });

  it('reports the runtime and the network ready', async () => {
    const s = await cri.status();
    expect(s.runtimeReady, JSON.stringify(s.conditions)).to.equal(true);
    expect(s.networkReady, JSON.stringify(s.conditions)).to.equal(true);
    expect(s.conditions.map((c) => c.type)).to.include.members(['RuntimeReady', 'NetworkReady']);
  });

  it('pulls the busybox image from the local registry through CRI', async () => {
    const digest = await registryDigest(env.imageBusybox);
    imageRef = await cri.pullImage({ image: env.imageBusybox });
    expect(imageRef).to.match(/^sha256:[0-9a-f]{64}$/);
    const img = await cri.imageStatus({ image: env.imageBusybox });
    expect(img, 'image status after pull').to.not.equal(undefined);
    expect(img?.id).to.equal(imageRef);
    expect(img?.repoTags).to.include(env.imageBusybox);
    // the repo digest is the registry's manifest digest: the image came through the registry
    const repo = env.imageBusybox.replace(/:[^:/]+$/, '');
    expect(img?.repoDigests).to.include(`${repo}@${digest}`);
    expect(img?.size).to.be.greaterThan(0);
    const listed = await cri.listImages();
    expect(listed.map((i) => i.id)).to.include(imageRef);
    const fs = await cri.imageFsInfo();
    expect(fs.imageFilesystems.length).to.be.greaterThan(0);
    expect(fs.imageFilesystems[0]?.mountpoint).to.match(/^\//);
  });

  it('answers ImageStatus of an image it does not have with no image', async () => {
    const img = await cri.imageStatus({ image: `${env.registry}/ledgerlet/does-not-exist:${uid.slice(0, 8)}` });
    expect(img).to.equal(undefined);
  });

  it('runs a pod sandbox with an IP from the bridge subnet', async () => {
    sandboxId = await cri.runPodSandbox(sandboxConfig);
    expect(sandboxId).to.match(/^[0-9a-f]{64}$/);
    const s = await cri.podSandboxStatus(sandboxId);
    expect(s.id).to.equal(sandboxId);
    expect(s.state).to.equal('SANDBOX_READY');
    expect(s.metadata).to.deep.equal({ name: sandboxConfig.metadata.name, uid, namespace: 'ledgerlet-cri-test', attempt: 0 });
    expect(s.labels).to.include({ 'io.kubernetes.pod.uid': uid, 'ledgerlet.test': 'cri' });
    expect(s.ips.length, 'sandbox IPs').to.be.greaterThan(0);
    expect(inCidr(s.ips[0] ?? '', env.cniSubnet), `${s.ips[0]} in ${env.cniSubnet}`).to.equal(true);
    expect(Date.parse(s.createdAt)).to.be.greaterThan(Date.parse('2020-01-01T00:00:00Z'));
    const listed = await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
    expect(listed.map((p) => [p.id, p.state])).to.deep.equal([[sandboxId, 'SANDBOX_READY']]);
  });

  it('creates and starts a busybox container that runs', async () => {
    const config: ContainerConfig = {
      metadata: { name: 'app', attempt: 0 },
      image: { image: env.imageBusybox },
      command: ['sleep', '3600'],
      envs: [{ key: 'GREETING', value: 'hello wörld' }],
      labels: { 'io.kubernetes.pod.uid': uid, 'io.kubernetes.container.name': 'app' },
      logPath: 'app/0.log',
      // as the kubelet does: the container gets its own PID namespace (CRI's zero value is POD)
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    containerId = await cri.createContainer(sandboxId, config, sandboxConfig);
    expect(containerId).to.match(/^[0-9a-f]{64}$/);
    const created = await cri.containerStatus(containerId);
    expect(created.state).to.equal('CONTAINER_CREATED');
    expect(created.startedAt).to.equal(undefined);

    await cri.startContainer(containerId);
    const s = await cri.containerStatus(containerId);
    expect(s.state).to.equal('CONTAINER_RUNNING');
    expect(s.metadata).to.deep.equal({ name: 'app', attempt: 0 });
    expect(s.image).to.equal(env.imageBusybox);
    expect(s.imageRef).to.satisfy((r: string) => r === imageRef || r.includes('@sha256:'), `imageRef ${s.imageRef}`);
    expect(s.startedAt, 'startedAt').to.be.a('string');
    expect(s.finishedAt).to.equal(undefined);
    expect((s.startedAt ?? '') >= s.createdAt, `${s.startedAt} >= ${s.createdAt}`).to.equal(true);
    expect(s.logPath).to.equal(join(logDir, 'app/0.log'));

    const running = await cri.listContainers({ podSandboxId: sandboxId, state: 'CONTAINER_RUNNING' });
    expect(running.map((c) => [c.id, c.metadata.name, c.podSandboxId])).to.deep.equal([[containerId, 'app', sandboxId]]);
  });

  it('runs ExecSync and returns stdout, stderr and the exit code', async () => {
    const r = await cri.execSync(containerId, ['sh', '-c', 'echo "$GREETING"; echo oops >&2; exit 3'], 10);
    expect(r).to.deep.equal({ stdout: 'hello wörld\n', stderr: 'oops\n', exitCode: 3 });
    const ok = await cri.execSync(containerId, ['cat', '/proc/1/cmdline'], 10);
    expect(ok.exitCode).to.equal(0);
    expect(ok.stdout.split('\0').filter(Boolean)).to.deep.equal(['sleep', '3600']);
  });

  it('turns an ExecSync past its own timeout into DEADLINE_EXCEEDED from the runtime', async () => {
    const e = await expectCriError(cri.execSync(containerId, ['sleep', '30'], 1));
    expect(e.codeName).to.equal('DEADLINE_EXCEEDED');
    expect(e.details).to.contain('timeout 1s exceeded');
  });

  it('names the existing container when the deterministic name is taken again', async () => {
    const again: ContainerConfig = { metadata: { name: 'app', attempt: 0 }, image: { image: env.imageBusybox }, command: ['true'] };
    const e = await expectCriError(cri.createContainer(sandboxId, again, sandboxConfig));
    expect(e.reservedFor(), e.message).to.equal(containerId);
    const s = await expectCriError(cri.runPodSandbox(sandboxConfig));
    expect(s.reservedFor(), s.message).to.equal(sandboxId);
  });

  it('reports container stats with a working set', async () => {
    const st = await cri.containerStats(containerId);
    expect(st.id).to.equal(containerId);
    expect(st.metadata.name).to.equal('app');
    expect(st.memory?.workingSetBytes, JSON.stringify(st.memory)).to.be.a('number').and.greaterThan(0);
  });

  it('stops and removes the container, which is then gone', async () => {
    await cri.stopContainer(containerId, 0);
    const s = await cri.containerStatus(containerId);
    expect(s.state).to.equal('CONTAINER_EXITED');
    expect(s.exitCode).to.equal(137); // SIGKILL: timeout 0 skips the grace period
    expect(s.finishedAt, 'finishedAt').to.be.a('string');

    await cri.removeContainer(containerId);
    expect(await cri.listContainers({ id: containerId })).to.deep.equal([]);
    expect(await cri.listContainers({ podSandboxId: sandboxId })).to.deep.equal([]);
    const e = await expectCriError(cri.containerStatus(containerId));
    expect(e.isNotFound(), e.message).to.equal(true);
    expect(isNotFound(e)).to.equal(true);
    expect(e.message).to.contain('RuntimeService/ContainerStatus');
    containerId = '';
  });

  it('stops and removes the sandbox, which is then gone', async () => {
    await cri.stopPodSandbox(sandboxId);
    const stopped = await cri.podSandboxStatus(sandboxId);
    expect(stopped.state).to.equal('SANDBOX_NOTREADY');

    await cri.removePodSandbox(sandboxId);
    expect(await cri.listPodSandbox({ id: sandboxId })).to.deep.equal([]);
    expect(await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).to.deep.equal([]);
    const e = await expectCriError(cri.podSandboxStatus(sandboxId));
    expect(e.isNotFound(), e.message).to.equal(true);
    sandboxId = '';
  });

  it('answers NOT_FOUND for objects and images that do not exist', async () => {
    const stop = await expectCriError(cri.stopContainer('0'.repeat(64), 0));
    expect(stop.isNotFound(), stop.message).to.equal(true);
    const sb = await expectCriError(cri.stopPodSandbox('0'.repeat(64)));
    expect(sb.isNotFound(), sb.message).to.equal(true);
    const pull = await expectCriError(cri.pullImage({ image: `${env.registry}/ledgerlet/does-not-exist:${uid.slice(0, 8)}` }));
    expect(pull.isNotFound(), pull.message).to.equal(true);
  });

  it('accepts UpdateRuntimeConfig with the pod CIDR and stays network-ready', async () => {
    await cri.updateRuntimeConfig(env.cniSubnet);
    const s = await cri.status();
    expect(s.networkReady, JSON.stringify(s.conditions)).to.equal(true);
  });

  it('treats RemoveImage of an image it does not have as done', async () => {
    const absent = `${env.registry}/ledgerlet/does-not-exist:${uid.slice(0, 8)}`;
    await cri.removeImage({ image: absent });
    expect(await cri.imageStatus({ image: absent })).to.equal(undefined);
  });

  it('fails within its deadline with a clear CriError where nothing listens', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'ledgerlet-cri-absent-'));
    const absent = new CriClient(`unix://${join(dir, 'containerd.sock')}`, { timeouts: { defaultMs: 5_000 } });
    try {
      const e = await expectCriError(absent.status());
      expect(e.isTransient(), e.message).to.equal(true);
      expect(e.codeName).to.be.oneOf(['UNAVAILABLE', 'DEADLINE_EXCEEDED']);
      expect(e.message).to.contain(join(dir, 'containerd.sock'));
    } finally {
      absent.close();
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
