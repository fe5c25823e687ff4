// The PLEG against the testbed's REAL containerd through criRuntimeView: a pod sandbox and a
// busybox container that exits with code 3 after a second, seen by relists as they happen.
// Needs `scripts/testbed up` and `eval "$(scripts/testbed env)"`.
import { expect } from 'chai';
import { randomUUID } from 'node:crypto';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { CriClient } from '../../src/adapters/cri/client.ts';
import type { ContainerConfig, PodSandboxConfig } from '../../src/adapters/cri/types.ts';
import type { ObservationDraft } from '../../src/model/entry.ts';
import { Labels, type RuntimeContainer, type RuntimeSandbox } from '../../src/model/runtime-observations.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { createPlegStats, pleg$ } from '../../src/streams/pleg.ts';
import { criRuntimeView } from '../../src/streams/pleg-cri.ts';

function testbedEnv() {
  const need = (k: string): string => {
    const v = process.env[k];
    if (!v) throw new Error(`${k} is not set: run scripts/testbed up, then eval "$(scripts/testbed env)"`);
    return v;
  };
  return { criEndpoint: need('TESTBED_CRI_ENDPOINT'), imageBusybox: need('TESTBED_IMAGE_BUSYBOX') };
}

/** Wait for a condition on what the PLEG emitted; the bound only turns a hang into a readable failure. */
async function waitFor<T>(what: string, probe: () => T | undefined, boundMs = 60_000): Promise<T> {
  const deadline = Date.now() + boundMs;
  for (;;) {
    const v = probe();
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`PLEG never reported: ${what}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

describe('PLEG against the testbed containerd (criRuntimeView)', function () {
  this.timeout(120_000);
  // read in before(): a missing testbed fails this suite readably, not the loading of every suite
  let env: ReturnType<typeof testbedEnv>;
  const uid = randomUUID();
  const podName = `pleg-it-${uid.slice(0, 8)}`;
  const sandboxConfig: PodSandboxConfig = {
    metadata: { name: podName, uid, namespace: 'ledgerlet-pleg-test', attempt: 0 },
    hostname: podName,
    logDirectory: '',
    labels: { [Labels.podUid]: uid, [Labels.podName]: podName, [Labels.podNamespace]: 'ledgerlet-pleg-test' },
    linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  // a sandbox that is not a pod's (no io.kubernetes.pod.uid label): the PLEG must not report it
  const foreignUid = randomUUID();
  const foreignConfig: PodSandboxConfig = {
    metadata: { name: `pleg-foreign-${foreignUid.slice(0, 8)}`, uid: foreignUid, namespace: 'ledgerlet-pleg-test', attempt: 0 },
    logDirectory: '',
    labels: { 'ledgerlet.test': 'pleg-foreign' },
    linux: { securityContext: { namespaceOptions: { network: 'NODE', pid: 'CONTAINER', ipc: 'POD' } } },
  };
  let cri: CriClient;
  let opened = false;
  let logDir: string;
  let sandboxId = '';
  let foreignId = '';
  let containerId = '';
  let sub: Subscription | undefined;
  const seen: ObservationDraft[] = [];
  const stats = createPlegStats();
  const ours = () => seen.filter((d) => d.pod?.uid === uid);

  before(async () => {
    env = testbedEnv();
    logDir = mkdtempSync(join(tmpdir(), 'ledgerlet-pleg-logs-'));
    sandboxConfig.logDirectory = logDir;
    foreignConfig.logDirectory = logDir;
    cri = new CriClient(env.criEndpoint);
    opened = true;
    await cri.pullImage({ image: env.imageBusybox });
  });

  after(async () => {
    sub?.unsubscribe();
    if (!opened) return;
    if (containerId) await cri.removeContainer(containerId).catch(() => undefined);
    for (const id of [sandboxId, foreignId].filter(Boolean)) {
      await cri.stopPodSandbox(id).catch(() => undefined);
      await cri.removePodSandbox(id).catch(() => undefined);
    }
    cri.close();
    rmSync(logDir, { recursive: true, force: true });
  });

  it('lists only pod-labelled objects, with labels mapped', async () => {
    foreignId = await cri.runPodSandbox(foreignConfig);
    sandboxId = await cri.runPodSandbox(sandboxConfig);
    const view = criRuntimeView(cri);
    const sandboxes = await view.listSandboxes();
    expect(sandboxes.map((s) => s.id)).to.include(sandboxId).and.not.include(foreignId);
    const mine = sandboxes.find((s) => s.id === sandboxId) as RuntimeSandbox;
    expect(mine).to.deep.include({ podUid: uid, name: podName, namespace: 'ledgerlet-pleg-test', attempt: 0, state: 'ready' });
    const detailed = await view.sandboxStatus!(sandboxId);
    expect(detailed?.ip, 'sandbox IP from PodSandboxStatus').to.match(/^\d+\.\d+\.\d+\.\d+$/);
    expect(await view.containerStatus!('0'.repeat(64)), 'a container that does not exist').to.equal(null);
    // the foreign sandbox is done with
    await cri.stopPodSandbox(foreignId);
    await cri.removePodSandbox(foreignId);
    foreignId = '';
  });

  it('reports the container running, then exited with exit code 3', async () => {
    sub = pleg$({ runtime: criRuntimeView(cri), clock: systemClock, periodMs: 200, stats }).subscribe((d) => seen.push(d));
    const relisted = await waitFor('the first relist', () => seen.find((d) => d.type === 'RuntimeRelisted'));
    const full = relisted.data as { sandboxes: RuntimeSandbox[]; containers: RuntimeContainer[] };
    const mine = full.sandboxes.find((s) => s.id === sandboxId);
    expect(mine, 'our sandbox in the first relist').to.deep.include({ podUid: uid, state: 'ready' });
    expect(mine?.ip, 'the first relist inspects new sandboxes').to.be.a('string');
    expect(full.sandboxes.every((s) => s.podUid !== foreignUid)).to.equal(true);

    const config: ContainerConfig = {
      metadata: { name: 'app', attempt: 0 },
      image: { image: env.imageBusybox },
      command: ['sh', '-c', 'sleep 1; exit 3'],
      labels: { [Labels.podUid]: uid, [Labels.containerName]: 'app', [Labels.specHash]: 'h1' },
      logPath: 'app/0.log',
      linux: { securityContext: { namespaceOptions: { network: 'POD', pid: 'CONTAINER', ipc: 'POD' } } },
    };
    containerId = await cri.createContainer(sandboxId, config, sandboxConfig);
    await cri.startContainer(containerId);

    const changes = () =>
      ours()
        .filter((d) => d.type === 'ContainerStateChanged')
        .map((d) => d.data as { container: RuntimeContainer; previous?: string })
        .filter((d) => d.container.id === containerId);
    const running = await waitFor('the container running', () => changes().find((c) => c.container.state === 'running'));
    expect(running.container).to.deep.include({ podUid: uid, sandboxId, name: 'app', attempt: 0, specHash: 'h1', image: env.imageBusybox });
    expect(running.container.startedAt, 'startedAt from ContainerStatus').to.be.a('string');
    expect(running.container.exitCode).to.equal(undefined);

    const exited = await waitFor('the container exited', () => changes().find((c) => c.container.state === 'exited'));
    expect(exited.previous).to.equal('running');
    expect(exited.container.exitCode).to.equal(3);
    expect(exited.container.reason).to.equal('Error');
    expect(exited.container.finishedAt, 'finishedAt').to.be.a('string');
    expect(exited.container.finishedAt! > exited.container.startedAt!).to.equal(true);
    const all = ours().filter((d) => d.type === 'ContainerStateChanged');
    expect(all.at(-1)?.data, 'exited is the last state change').to.deep.equal(exited);
    const events = ours().find((d) => d.type === 'ContainerStateChanged');
    expect(events?.pod).to.deep.equal({ uid, namespace: 'ledgerlet-pleg-test', name: podName });
    expect(stats.relists).to.be.greaterThan(1);
    expect(stats.lastRelistDurationMs).to.be.a('number');
  });

  it('reports removal of the container and the sandbox', async () => {
    await cri.removeContainer(containerId);
    const removedId = containerId;
    containerId = '';
    await waitFor('the container removed', () => ours().find((d) => d.type === 'ContainerRemovedFromRuntime' && (d.data as { id: string }).id === removedId));
    await cri.stopPodSandbox(sandboxId);
    const notReady = await waitFor('the sandbox not ready', () =>
      ours().find((d) => d.type === 'PodSandboxStateChanged' && (d.data as { sandbox: RuntimeSandbox }).sandbox.state === 'notready'),
    );
    expect((notReady.data as { previous?: string }).previous).to.equal('ready');
    await cri.removePodSandbox(sandboxId);
    const removedSandbox = sandboxId;
    sandboxId = '';
    const gone = await waitFor('the sandbox removed', () => ours().find((d) => d.type === 'PodSandboxRemovedFromRuntime'));
    expect(gone.data).to.deep.equal({ id: removedSandbox, podUid: uid });
    expect(seen.filter((d) => d.type === 'RuntimeUnreachable')).to.deep.equal([]);
    expect(seen.filter((d) => d.type === 'RuntimeRelisted')).to.have.length(1);
  });
});
