// A damaged log on a live node: bytes flipped in a LevelDB table of the agent's own root directory
// between two runs, with a pod running. The agent moves the log aside (kept for forensics, named in
// the new log's first entry), starts a new log and rebuilds its view from containerd and the API
// server: the pod's containers keep their ids, nothing is created twice.
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { runVerify } from '../../src/cli/commands/verify.ts';
import { nodeDecider } from '../../src/reducers/index.ts';
import { flipBytes, largestTable } from '../helpers/damage.ts';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const LABEL = 'ledgerlet-test=log-damage';

async function runtimeObjects(cri: CriClient, uid: string) {
  const containers = await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
  const sandboxes = await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } });
  return {
    containers: containers.map((c) => `${c.metadata?.name}/${c.metadata?.attempt}/${c.id}/${c.state}`).sort(),
    sandboxes: sandboxes.map((s) => `${s.id}/${s.state}`).sort(),
  };
}

/** Entries lost when reading the log read-only (the damage start-up will meet). */
async function lostRanges(dir: string): Promise<string[]> {
  const store = await LogStore.open(dir, { readOnly: true });
  const out: string[] = [];
  try {
    for await (const r of store.readRange()) if (!r.ok) out.push(r.error);
  } finally {
    await store.close();
  }
  return out;
}

describe('a damaged log on a live node (real corruption between two runs)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let cri: CriClient;
  let agent: RunningAgent | undefined;
  const root = mkdtempSync(join(tmpdir(), 'ledgerlet-damage-it-'));

  before(async () => {
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  });
  after(async () => {
    if (!agent || agent.child.exitCode !== null) agent = await startAgent(env, { rootDir: root }).catch(() => undefined);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    cri?.close();
    rmSync(root, { recursive: true, force: true });
  });

  it('moves the damaged log aside, starts a new one naming it, and adopts the running pod without duplicating anything', async () => {
    agent = await startAgent(env, { rootDir: root });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'steady', namespace: 'default', labels: { 'ledgerlet-test': 'log-damage' } }, spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 2, containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }] } };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify(pod));
    const uid = await waitFor('steady Running', async () => {
      const p = await getJson(env, ['get', 'pod', 'steady']);
      return p.status?.phase === 'Running' ? (p.metadata.uid as string) : undefined;
    }, 120_000);
    const before = await runtimeObjects(cri, uid);
    expect(before.containers).to.have.length(1);
    expect(before.containers[0]).to.match(/^app\/0\/.*\/CONTAINER_RUNNING$/);
    expect(await agent.stop()).to.equal(0);
    agent = undefined;

    // LevelDB keeps recent writes in its write-ahead file; one open/close turns them into a table.
    await (await LogStore.open(logDir(root))).close();
    const table = largestTable(logDir(root));
    for (const at of [0.3, 0.5, 0.7]) flipBytes(table, at);
    const lost = await lostRanges(logDir(root));
    expect(lost.length, 'the flipped bytes cost entries start-up must read').to.be.greaterThan(0);

    agent = await startAgent(env, { rootDir: root });
    expect(agent.output()).to.match(/the node log is damaged: moved aside/);
    const aside = readdirSync(root).filter((f) => f.startsWith('log.corrupt-'));
    expect(aside).to.have.length(1);
    expect((await lostRanges(join(root, aside[0]))).length, "the forensic copy still holds the damage").to.be.greaterThan(0);

    // The view is rebuilt: the pod is Running and Ready again in the API, from the adopted container.
    await waitFor('the new log knows the pod and its container', async () => {
      const p = await getJson(env, ['get', 'pod', 'steady']);
      const cs = p.status?.containerStatuses?.[0];
      return p.status?.phase === 'Running' && cs?.ready === true && cs.containerID === `containerd://${before.containers[0].split('/')[2]}` ? true : undefined;
    }, 120_000);
    // Give a duplicate every chance to appear: several relists and status rounds.
    await new Promise((r) => setTimeout(r, 15_000));
    expect(await runtimeObjects(cri, uid)).to.deep.equal(before);
    expect(await agent.stop()).to.equal(0);
    agent = undefined;

    const fresh = await LogStore.open(logDir(root), { readOnly: true });
    try {
      const first = await fresh.getEntry(1);
      expect(first?.ok && first.entry.type).to.equal('LogMovedAside');
      expect(first?.ok && (first.entry.data as { forensicCopy: string }).forensicCopy).to.equal(join(root, aside[0]));
      const decided: string[] = [];
      for await (const r of fresh.readRange()) if (r.ok && r.entry.kind === 'decision' && r.entry.pod?.uid === uid) decided.push(r.entry.type);
      expect(decided).to.not.include('PodSandboxRequested');
      expect(decided).to.not.include('ContainerStartRequested');
      expect(decided).to.not.include('OrphanPodKilled');
    } finally {
      await fresh.close();
    }
    const lines: string[] = [];
    expect(await runVerify(root, false, async () => nodeDecider as never, (l) => void lines.push(l)), lines.join('\n')).to.equal(0);
  });
});
