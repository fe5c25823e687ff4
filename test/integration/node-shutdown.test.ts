// Graceful node shutdown on the testbed through the non-systemd trigger (`ledgerlet shutdown` on
// the agent's local socket): Ready turns False with upstream's message, the regular pod is killed
// first, the critical one (system-node-critical, kube-system) only after, both reported Failed with
// upstream's reason and message, and the log holds the announcement and every decision in order.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import { readNodeLog, verifyNodeLog } from './helpers/node-log.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const LABEL = 'ledgerlet-test=node-shutdown';
const MESSAGE = 'Pod was terminated in response to imminent node shutdown.';

function pod(env: TestbedEnv, name: string, namespace: string, critical: boolean): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { 'ledgerlet-test': 'node-shutdown' } },
    spec: {
      nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 30, ...(critical ? { priorityClassName: 'system-node-critical' } : {}),
      // Exits on SIGTERM at once, so the group ends when the pod has stopped.
      containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'trap "exit 0" TERM; while true; do sleep 1; done'] }],
    },
  });
}

describe('graceful node shutdown (ledgerlet shutdown, real node)', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let rootDir = '';
  const cleanup = async () => {
    for (const ns of ['default', 'kube-system']) await kubectl(env, ['delete', 'pods', '-n', ns, '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  };

  before(async () => {
    env = await testbedEnv();
    await cleanup();
  });

  after(async () => {
    await agent?.stop();
    await cleanup();
    // A fresh start ends the shutdown: leave the node Ready for the suites after this one.
    if (rootDir) {
      const fresh = await startAgent(env, { rootDir });
      await waitFor('Ready again', async () => ((await getJson(env, ['get', 'node', env.TESTBED_NODE_NAME])).status.conditions.find((c: any) => c.type === 'Ready')?.status === 'True' ? true : undefined), 90_000).catch(() => undefined);
      await fresh.stop();
    }
  });

  it('given a regular and a critical pod, when the shutdown is announced, then the regular one stops first, the critical after, both Failed/Terminated, Ready False', async () => {
    rootDir = mkdtempSync(join(tmpdir(), 'ledgerlet-it-'));
    const config = join(rootDir, 'kubelet-shutdown.yaml');
    writeFileSync(config, 'apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nshutdownGracePeriod: 40s\nshutdownGracePeriodCriticalPods: 20s\n');
    agent = await startAgent(env, { rootDir, extraArgs: ['--config', config] });
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'sd-regular', 'default', false));
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'sd-critical', 'kube-system', true));
    const phase = async (ns: string, name: string) => (await getJson(env, ['get', 'pod', '-n', ns, name])).status;
    for (const [ns, n] of [['default', 'sd-regular'], ['kube-system', 'sd-critical']]) await waitFor(`${n} Running`, async () => ((await phase(ns, n))?.phase === 'Running' ? true : undefined), 120_000);

    const { stdout } = await run(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'shutdown', '--root-dir', rootDir]);
    expect(stdout).to.match(/node shutdown announced \(log entry #\d+\)/);

    const ready = await waitFor('Ready False', async () => {
      const c = (await getJson(env, ['get', 'node', env.TESTBED_NODE_NAME])).status.conditions.find((x: any) => x.type === 'Ready');
      return c?.status === 'False' ? c : undefined;
    }, 60_000);
    expect(ready).to.include({ reason: 'KubeletNotReady', message: 'node is shutting down' });
    for (const [ns, n] of [['default', 'sd-regular'], ['kube-system', 'sd-critical']]) {
      const st = await waitFor(`${n} Failed`, async () => { const s = await phase(ns, n); return s?.phase === 'Failed' ? s : undefined; }, 90_000);
      expect(st).to.include({ reason: 'Terminated', message: MESSAGE });
    }
    // A second announcement is refused: the shutdown is in progress.
    const again = await run(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'shutdown', '--root-dir', rootDir]).then(() => 0, (e: { code?: number; stderr?: string }) => (expect(e.stderr).to.match(/already in progress/), e.code));
    expect(again).to.equal(1);
    await agent.stop();
    agent = undefined;

    const log = await readNodeLog(rootDir);
    const announced = log.find((e) => e.type === 'NodeShutdownRequested');
    expect(announced?.kind).to.equal('observation');
    expect(announced?.data).to.deep.include({ trigger: 'cli' });
    const kills = log.filter((e) => e.type === 'PodShutdownKilled');
    expect(kills.map((e) => e.pod?.name)).to.deep.equal(['sd-regular', 'sd-critical']);
    expect(kills.map((e) => (e.data as { gracePeriodSeconds: number }).gracePeriodSeconds)).to.deep.equal([20, 20]);
    // The critical pod was killed only after the regular pod's container had stopped: the kill's own
    // outcome (ContainerStopped) or the runtime's relist, whichever the log has first.
    const regularExited = log.find((e) => e.pod?.name === 'sd-regular' && (e.type === 'ContainerStopped' || (e.type === 'ContainerStateChanged' && (e.data as { container: { state: string } }).container.state === 'exited')));
    expect(regularExited, 'the regular container exited').to.not.equal(undefined);
    expect(kills[1].seq).to.be.greaterThan(regularExited!.seq);
    expect(kills[0].seq).to.be.greaterThan(announced!.seq);
    const groupsStarted = log.filter((e) => e.type === 'NodeShutdownGroupStarted').map((e) => (e.data as { index: number }).index);
    expect(groupsStarted).to.deep.equal([0, 1]);
    const notReady = log.find((e) => e.type === 'NodeStatusChanged' && e.seq > announced!.seq);
    expect(JSON.stringify(notReady?.data)).to.include('node is shutting down');
    const verify = await verifyNodeLog(rootDir);
    expect(verify.code, verify.output).to.equal(0);
  });
});
