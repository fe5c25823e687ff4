// Image garbage collection on the testbed with the real disk: imageGCHighThresholdPercent 1 puts
// any real image filesystem above the high threshold, and low 0 cannot be reached, so every image
// the collector may remove goes. An unused image pulled earlier (agnhost) is removed through CRI
// RemoveImage; the image a running pod uses (busybox) and the sandbox image (pause) stay, and the
// log holds the observation, each decision with the disk figures, and the outcome.
import { expect } from 'chai';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import { readNodeLog, verifyNodeLog } from './helpers/node-log.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { ImageRemoveRequested, ImagesObserved } from '../../src/model/image-gc.ts';

const LABEL = 'ledgerlet-test=image-gc';

describe('image garbage collection (real disk, real containerd)', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let rootDir: string;
  const ids: Record<'busybox' | 'agnhost' | 'pause', string> = { busybox: '', agnhost: '', pause: '' };

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    await cri.pullImage({ image: env.TESTBED_IMAGE_AGNHOST });
    agent = await startAgent(env);
    rootDir = agent.rootDir;
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: 'gc-user', namespace: 'default', labels: { 'ledgerlet-test': 'image-gc' } },
      spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }] },
    }));
    await waitFor('gc-user Running', async () => ((await getJson(env, ['get', 'pod', 'gc-user'])).status?.phase === 'Running' ? true : undefined), 120_000);
    await agent.stop();
    agent = undefined;
    for (const k of ['busybox', 'agnhost', 'pause'] as const) {
      const image = { busybox: env.TESTBED_IMAGE_BUSYBOX, agnhost: env.TESTBED_IMAGE_AGNHOST, pause: env.TESTBED_IMAGE_PAUSE }[k];
      ids[k] = (await cri.imageStatus({ image }))?.id ?? '';
      expect(ids[k], `${k} present before collection`).to.match(/^sha256:/);
    }
  });

  after(async () => {
    await agent?.stop();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    // Other suites use agnhost: put it back.
    await cri?.pullImage({ image: env.TESTBED_IMAGE_AGNHOST }).catch(() => undefined);
    cri?.close();
  });

  it('given the image filesystem above imageGCHighThresholdPercent, then the unused image is removed and the used and sandbox images are kept, each removal a decision with its disk figures', async () => {
    const config = join(rootDir, 'kubelet-gc.yaml');
    writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nimageGCHighThresholdPercent: 1\nimageGCLowThresholdPercent: 0\nimageMinimumGCAge: 0s\n');
    agent = await startAgent(env, { rootDir, extraArgs: ['--config', config] });
    await waitFor('agnhost removed by the collector', async () => ((await cri.imageStatus({ image: ids.agnhost })) === undefined ? true : undefined), 120_000);
    expect(await cri.imageStatus({ image: ids.busybox }), 'busybox (in use) kept').to.not.equal(undefined);
    expect(await cri.imageStatus({ image: ids.pause }), 'pause (sandbox image) kept').to.not.equal(undefined);
    await agent.stop();
    agent = undefined;

    const log = await readNodeLog(rootDir);
    const observed = log.filter((e) => e.type === 'ImagesObserved' && e.seq > 0);
    const last = observed.at(-1);
    expect(last, 'ImagesObserved logged').to.not.equal(undefined);
    if (!last || !ImagesObserved.is(last.data)) throw new Error('ImagesObserved does not decode');
    expect(last.data.sandboxImage).to.equal(ids.pause);
    expect(last.data.inUse).to.include(ids.busybox);
    expect(last.data.policy).to.deep.equal({ highThresholdPercent: 1, lowThresholdPercent: 0, minimumAgeMs: 0, maximumAgeMs: 0 });
    const removals = log.filter((e) => e.kind === 'decision' && e.type === 'ImageRemoveRequested');
    const agnhost = removals.find((e) => ImageRemoveRequested.is(e.data) && e.data.image.id === ids.agnhost);
    expect(agnhost, 'a decision to remove agnhost').to.not.equal(undefined);
    if (!agnhost || !ImageRemoveRequested.is(agnhost.data)) throw new Error('unreachable');
    expect(agnhost.reason).to.equal('ImageFsAboveHighThreshold');
    expect(agnhost.data.image.repoTags).to.include(env.TESTBED_IMAGE_AGNHOST);
    expect(agnhost.data.usagePercent).to.be.at.least(1);
    expect(agnhost.data.imageFs.capacityBytes).to.be.greaterThan(agnhost.data.imageFs.availableBytes);
    expect(agnhost.data.bytesToFree).to.equal(agnhost.data.imageFs.capacityBytes - agnhost.data.imageFs.availableBytes);
    expect(agnhost.cause, 'caused by an ImagesObserved').to.be.oneOf(observed.map((e) => e.seq));
    const outcome = log.find((e) => e.kind === 'outcome' && e.cause === agnhost.seq);
    expect(outcome?.type).to.equal('ImageRemoved');
    for (const kept of [ids.busybox, ids.pause]) {
      expect(removals.filter((e) => ImageRemoveRequested.is(e.data) && e.data.image.id === kept), `no removal of ${kept}`).to.deep.equal([]);
    }
    const verify = await verifyNodeLog(rootDir);
    expect(verify.code, verify.output).to.equal(0);
  });
});
