// CSI volumes end to end with the testbed's CSI driver (scripts/csi-driver): discovery through the
// plugin registration directory, the node's CSINode and nodeid annotation, a PVC bound to a CSI
// PersistentVolume staged + published and written to, an inline ephemeral volume, and after
// deletion: unpublished and unstaged in the driver's own state and in the mount table.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, mkdtempSync, readFileSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { isMountPoint, mountsUnder } from '../../src/adapters/mount/index.ts';
import { csiMountDir, csiStagingDir } from '../../src/effects/volumes/layout.ts';
import { ephemeralHandle } from '../../src/effects/volumes/csi.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const LABEL = 'ledgerlet-test=volumes-csi';
const suffix = randomBytes(4).toString('hex');
const PV = `vt-pv-${suffix}`;
const PVC = 'vt-claim';
const HANDLE = `vt-vol-${suffix}`;

/**
 * Other suites' pods bound to the node while this agent ran have volumes under this root dir too:
 * once the agent is stopped, detach whatever is still mounted there (lazily: a running container
 * keeps its own reference) and remove the directory.
 */
async function releaseRootDir(dir: string | undefined): Promise<void> {
  if (!dir) return;
  for (const m of await mountsUnder(dir)) await run('umount', ['-l', m.target]).catch(() => undefined);
  if ((await mountsUnder(dir)).length === 0) rmSync(dir, { recursive: true, force: true });
}

interface DriverState {
  volumes: Record<string, { path: string; ephemeral: boolean; staged: string[]; published: string[]; volumeContext?: Record<string, string> }>;
  registration?: { registered: boolean; error?: string };
}

describe('CSI volumes on the testbed (ledgerlet-hostpath-csi)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let csi: Record<string, string>;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let rootDir: string;
  let podUid = '';
  const state = (): DriverState => JSON.parse(readFileSync(join(csi.TESTBED_CSI_STATE_DIR, 'state.json'), 'utf8')) as DriverState;

  before(async function () {
    // waiting for the testbed node (one agent at a time across test processes) may take a while
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    // The driver is part of the testbed; `up` is a no-op when it already runs.
    await run('bash', [join(repo, 'scripts/csi-driver'), 'up'], { maxBuffer: 16 << 20 });
    const { stdout } = await run('bash', [join(repo, 'scripts/csi-driver'), 'env']);
    csi = Object.fromEntries([...stdout.matchAll(/^export (TESTBED_CSI_[A-Z_]+)='([^']*)'$/gm)].map((m) => [m[1], m[2]]));
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    await kubectl(env, ['delete', 'pvc', PVC, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    rootDir = mkdtempSync(join(tmpdir(), 'ledgerlet-vcsi-'));
    // The agent's plugin registration directory is the one the testbed driver registers in.
    symlinkSync(csi.TESTBED_CSI_REGISTRY_DIR, join(rootDir, 'plugins_registry'));
    agent = await startAgent(env, { rootDir });
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    await kubectl(env, ['delete', 'pvc', PVC, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    await kubectl(env, ['delete', 'pv', PV, '--ignore-not-found', '--wait=false']).catch(() => undefined);
    cri?.close();
    await releaseRootDir(rootDir);
  });

  it('discovers the driver through plugins_registry and reports it in CSINode and the nodeid annotation', async () => {
    const node = env.TESTBED_NODE_NAME;
    const csiNode = await waitFor('CSINode lists the driver', async () => {
      const o = await getJson(env, ['get', 'csinode', node]).catch(() => undefined);
      return o?.spec?.drivers?.find((d: { name: string }) => d.name === csi.TESTBED_CSI_DRIVER) ? o : undefined;
    }, 60_000);
    const d = csiNode.spec.drivers.find((x: { name: string }) => x.name === csi.TESTBED_CSI_DRIVER);
    expect(d.nodeID).to.equal(node);
    expect(d.topologyKeys).to.deep.equal(['topology.hostpath.csi/node']);
    const n = await getJson(env, ['get', 'node', node]);
    expect(JSON.parse(n.metadata.annotations['csi.volume.kubernetes.io/nodeid'])[csi.TESTBED_CSI_DRIVER]).to.equal(node);
    // the driver heard back from the agent (NotifyRegistrationStatus)
    await waitFor('registration status at the driver', async () => (state().registration?.registered ? true : undefined), 30_000);
  });

  it('a PVC bound to a CSI PV is staged and published, and an inline volume published; the pod writes to both', async () => {
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'List', items: [
        { apiVersion: 'v1', kind: 'PersistentVolume', metadata: { name: PV },
          spec: { capacity: { storage: '1Gi' }, accessModes: ['ReadWriteOnce'], persistentVolumeReclaimPolicy: 'Retain', storageClassName: '', claimRef: { namespace: 'default', name: PVC },
            csi: { driver: csi.TESTBED_CSI_DRIVER, volumeHandle: HANDLE, volumeAttributes: { purpose: 'test' } } } },
        { apiVersion: 'v1', kind: 'PersistentVolumeClaim', metadata: { name: PVC, namespace: 'default' },
          spec: { accessModes: ['ReadWriteOnce'], storageClassName: '', volumeName: PV, resources: { requests: { storage: '1Gi' } } } },
      ],
    }));
    await waitFor('PVC bound', async () => ((await getJson(env, ['get', 'pvc', PVC])).status?.phase === 'Bound' ? true : undefined), 90_000);
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'vt-csi', namespace: 'default', labels: { 'ledgerlet-test': 'volumes-csi' } },
      spec: {
        nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'data', persistentVolumeClaim: { claimName: PVC } }, { name: 'scratch', csi: { driver: csi.TESTBED_CSI_DRIVER, volumeAttributes: { size: 'small' } } }],
        containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'data', mountPath: '/data' }, { name: 'scratch', mountPath: '/scratch' }] }],
      },
    }));
    const pod = await waitFor('vt-csi Running', async () => {
      const p = await getJson(env, ['get', 'pod', 'vt-csi']);
      return p.status?.phase === 'Running' ? p : undefined;
    }, 120_000).catch((e: Error) => {
      // say why: the agent's warnings about this pod
      const why = agent!.output().split('\n').filter((l) => l.includes('vt-csi')).slice(-8).join('\n');
      writeFileSync('/tmp/ledgerlet-volumes-csi-agent.log', agent!.output());
      throw new Error(`${e.message}\n${why}`);
    });
    podUid = pod.metadata.uid;
    const id = await waitFor('container', async () => (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': podUid } })).find((c) => c.state === 'CONTAINER_RUNNING')?.id);
    const ex = async (script: string) => {
      const r = await cri.execSync(id, ['sh', '-c', script], 20);
      expect(r.exitCode, script).to.equal(0);
      return Buffer.from(r.stdout).toString('utf8').trim();
    };
    await ex('echo persistent > /data/hello && echo ephemeral > /scratch/hello');
    const staging = csiStagingDir(rootDir, csi.TESTBED_CSI_DRIVER, HANDLE);
    const target = csiMountDir(rootDir, podUid, 'data');
    const inlineTarget = csiMountDir(rootDir, podUid, 'scratch');
    // the driver's view
    const s = state();
    const vol = s.volumes[HANDLE];
    expect(vol.staged).to.deep.equal([staging]);
    expect(vol.published).to.deep.equal([target]);
    const eph = s.volumes[ephemeralHandle(podUid, 'scratch')];
    expect(eph.ephemeral).to.equal(true);
    expect(eph.published).to.deep.equal([inlineTarget]);
    expect(eph.volumeContext).to.include({ size: 'small', 'csi.storage.k8s.io/ephemeral': 'true', 'csi.storage.k8s.io/pod.name': 'vt-csi', 'csi.storage.k8s.io/pod.uid': podUid });
    // the mount table and the data on the driver's backing directory
    expect(await isMountPoint(staging)).to.equal(true);
    expect(await isMountPoint(target)).to.equal(true);
    expect(await isMountPoint(inlineTarget)).to.equal(true);
    expect(readFileSync(join(vol.path, 'hello'), 'utf8')).to.equal('persistent\n');
    expect(readFileSync(join(eph.path, 'hello'), 'utf8')).to.equal('ephemeral\n');
  });

  it('after deletion the volumes are unpublished and unstaged before the pod is gone, and nothing is left mounted', async () => {
    expect(podUid, 'the pod of the previous test').to.not.equal('');
    await kubectl(env, ['delete', 'pod', 'vt-csi', '--wait=true', '--timeout=90s']);
    // the API object is gone only after teardown, so this is already true now
    // (other test suites' pods may be on this node too: only this pod's and this volume's paths count)
    expect(await mountsUnder(join(rootDir, 'pods', podUid))).to.deep.equal([]);
    expect(await mountsUnder(join(rootDir, 'plugins'))).to.deep.equal([]);
    const s = state();
    expect(s.volumes[HANDLE].staged).to.deep.equal([]);
    expect(s.volumes[HANDLE].published).to.deep.equal([]);
    expect(s.volumes[ephemeralHandle(podUid, 'scratch')]).to.equal(undefined);
    expect(existsSync(csiStagingDir(rootDir, csi.TESTBED_CSI_DRIVER, HANDLE))).to.equal(false);
    expect(existsSync(join(rootDir, 'pods', podUid, 'volumes', 'kubernetes.io~csi'))).to.equal(false);
    // the persistent data stays with the volume
    expect(readFileSync(join(s.volumes[HANDLE].path, 'hello'), 'utf8')).to.equal('persistent\n');
  });
});
