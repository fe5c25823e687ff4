// Eviction on the testbed with real signals: a memory.available threshold above what any machine
// has puts the node under memory pressure for real (the signal is read from /proc/meminfo, pod
// usage from containerd's stats). The BestEffort pod goes first, the Guaranteed one only after it
// has stopped; a new BestEffort pod is refused; the condition lifts after the transition period
// once the threshold is back to normal.
import { expect } from 'chai';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';

const LABEL = 'ledgerlet-test=eviction';

function podJson(env: TestbedEnv, name: string, resources?: object): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'eviction' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 30, containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], ...(resources ? { resources } : {}) }] },
  });
}

const status = async (env: TestbedEnv, name: string) => (await getJson(env, ['get', 'pod', name])).status;
const nodeCondition = async (env: TestbedEnv, type: string) => (await getJson(env, ['get', 'node', env.TESTBED_NODE_NAME])).status.conditions.find((c: any) => c.type === type);

describe('eviction under memory pressure (real signals)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let rootDir: string;

  const config = (memoryAvailable: string) => {
    const file = join(rootDir, `kubelet-${memoryAvailable}.yaml`);
    writeFileSync(file, `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nevictionPressureTransitionPeriod: 15s\nevictionHard:\n  memory.available: ${memoryAvailable}\n`);
    return file;
  };

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    agent = await startAgent(env);
    rootDir = agent.rootDir;
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'ev-besteffort'));
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'ev-guaranteed', { requests: { cpu: '10m', memory: '64Mi' }, limits: { cpu: '10m', memory: '64Mi' } }));
    for (const n of ['ev-besteffort', 'ev-guaranteed']) await waitFor(`${n} Running`, async () => ((await status(env, n))?.phase === 'Running' ? true : undefined), 120_000);
    await agent.stop();
    agent = await startAgent(env, { rootDir, extraArgs: ['--config', config('100Ti')] });
  });

  after(async () => {
    await agent?.stop();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    // Leave the node without pressure for the suites after this one.
    const fresh = await startAgent(env, { rootDir });
    await waitFor('MemoryPressure False', async () => ((await nodeCondition(env, 'MemoryPressure'))?.status === 'False' ? true : undefined), 90_000).catch(() => undefined);
    await fresh.stop();
    cri?.close();
  });

  it('reports MemoryPressure and evicts the BestEffort pod first: Failed, reason Evicted, containers stopped, an Evicted event', async () => {
    await waitFor('MemoryPressure True', async () => ((await nodeCondition(env, 'MemoryPressure'))?.status === 'True' ? true : undefined), 60_000);
    expect(await nodeCondition(env, 'MemoryPressure')).to.include({ reason: 'KubeletHasInsufficientMemory' });
    const st = await waitFor('ev-besteffort evicted', async () => {
      const s = await status(env, 'ev-besteffort');
      return s?.phase === 'Failed' ? s : undefined;
    }, 60_000);
    expect(st.reason).to.equal('Evicted');
    expect(st.message).to.match(/^The node was low on resource: memory\. Threshold quantity: 100Ti, available: \d+Ki\. $/);
    const uid = (await getJson(env, ['get', 'pod', 'ev-besteffort'])).metadata.uid;
    await waitFor('its containers stopped', async () => ((await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).every((c) => c.state !== 'CONTAINER_RUNNING') ? true : undefined), 60_000);
    const events = await getJson(env, ['get', 'events', '--field-selector', `involvedObject.uid=${uid},reason=Evicted`]);
    expect(events.items.length).to.be.at.least(1);
    expect(events.items[0].type).to.equal('Warning');
    expect(agent!.output()).to.include('"type":"PodEvicted"');
    // The postmortem answer, from the running agent's log.
    const why = spawnSync(process.execPath, [resolve(import.meta.dirname, '../../bin/ledgerlet.js'), 'why', 'default/ev-besteffort', '--root-dir', rootDir], { encoding: 'utf8' });
    expect(why.stdout, why.stderr).to.match(/evicted the pod \(memory\.available below 100Ti\): the node was under MemoryPressure: The node was low on resource: memory\./);
    expect(why.stdout).to.match(/killed container app \(grace 0s[^\n]*: the pod was evicted: The node was low on resource: memory\./);
  });

  it('the Guaranteed pod is evicted only after the BestEffort one has stopped', async () => {
    const st = await waitFor('ev-guaranteed evicted', async () => {
      const s = await status(env, 'ev-guaranteed');
      return s?.phase === 'Failed' ? s : undefined;
    }, 90_000);
    expect(st.reason).to.equal('Evicted');
  });

  it('a new BestEffort pod is refused while the pressure lasts', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'ev-late'));
    const st = await waitFor('ev-late refused', async () => {
      const s = await status(env, 'ev-late');
      return s?.phase === 'Failed' ? s : undefined;
    }, 60_000);
    expect(st).to.include({ reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
  });

  it('with the threshold back to normal the condition lifts after the transition period', async () => {
    await agent!.stop();
    agent = await startAgent(env, { rootDir, extraArgs: ['--config', config('100Mi')] });
    await waitFor('MemoryPressure False', async () => ((await nodeCondition(env, 'MemoryPressure'))?.status === 'False' ? true : undefined), 90_000);
    expect(await nodeCondition(env, 'MemoryPressure')).to.include({ reason: 'KubeletHasSufficientMemory' });
    // Evicted pods stay Failed; they are not restarted.
    expect((await status(env, 'ev-besteffort')).phase).to.equal('Failed');
  });
});
