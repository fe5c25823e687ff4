// The agent's root dir on a small filesystem of its own (tmpfs, 64 MiB), filled up with dd during
// pod churn, then freed: pods keep running, /healthz and the node condition say the log cannot be
// written, and after recovery every entry is in the log once and `ledgerlet verify` passes.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { canonicalJson } from '../../src/runtime/canonical.ts';
import { criClient, getJson, healthzPort, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import { readNodeLog, verifyNodeLog } from './helpers/node-log.ts';

const run = promisify(execFile);
const LABEL = 'ledgerlet-test=log-write-failure';

function podJson(env: TestbedEnv, name: string, command: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'log-write-failure' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', command] }] },
  });
}

async function healthz(env: TestbedEnv): Promise<{ status: number; body: string }> {
  const res = await fetch(`http://127.0.0.1:${healthzPort(env)}/healthz`);
  return { status: res.status, body: await res.text() };
}

async function containerIds(env: TestbedEnv, names: string[]): Promise<Record<string, string>> {
  const out: Record<string, string> = {};
  for (const n of names) out[n] = (await getJson(env, ['get', 'pod', n])).status.containerStatuses[0].containerID;
  return out;
}

const nodeCondition = async (env: TestbedEnv, type: string) =>
  ((await getJson(env, ['get', 'node', env.TESTBED_NODE_NAME])).status.conditions as Array<{ type: string; status: string; message: string }>).find((c) => c.type === type);

describe('node log on a full disk', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  const mountDir = mkdtempSync(join(tmpdir(), 'ledgerlet-fullfs-'));
  const rootDir = join(mountDir, 'root');

  before(async () => {
    env = await testbedEnv();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    await run('mount', ['-t', 'tmpfs', '-o', 'size=64m,mode=0700', 'tmpfs', mountDir]);
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    await run('umount', [mountDir]).catch(() => undefined);
    rmSync(mountDir, { recursive: true, force: true });
  });

  it('keeps pods running while the log cannot be written, reports it, and resumes without loss or duplication once space is freed', async () => {
    agent = await startAgent(env, { rootDir, extraArgs: ['--log-write-timeout', '10m'] });
    const steady = ['steady-a', 'steady-b'];
    for (const n of steady) await kubectl(env, ['apply', '-f', '-'], podJson(env, n, 'exec sleep 3600'));
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'crasher', 'sleep 1; exit 3'));
    await waitFor('steady pods Running', async () => {
      for (const n of steady) if ((await getJson(env, ['get', 'pod', n])).status?.phase !== 'Running') return undefined;
      return true;
    }, 120_000);
    const before = await containerIds(env, steady);
    expect((await healthz(env)).status).to.equal(200);

    // Churn: pods come and go while the disk fills up.
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'churn-1', 'exec sleep 3600'));
    await run('dd', ['if=/dev/zero', `of=${join(mountDir, 'filler')}`, 'bs=1M', 'count=100']).catch(() => undefined); // stops at ENOSPC
    const { stdout: df } = await run('df', ['--output=avail', mountDir]);
    expect(Number(df.split('\n')[1].trim())).to.be.below(64);
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'churn-2', 'exec sleep 3600'));
    await kubectl(env, ['delete', 'pod', 'churn-1', '--wait=false']);

    const unhealthy = await waitFor('/healthz to report the log', async () => {
      const h = await healthz(env);
      return h.status === 500 && /node log not writable/.test(h.body) ? h : undefined;
    }, 120_000);
    expect(unhealthy.body).to.match(/No space left on device/);
    const cond = await waitFor('the NodeLogUnwritable condition', async () => {
      const c = await nodeCondition(env, 'NodeLogUnwritable');
      return c?.status === 'True' ? c : undefined;
    }, 60_000);
    expect(cond.message).to.match(/cannot write its node log/);
    // Full for a while: the steady pods keep running, untouched.
    await new Promise((r) => setTimeout(r, 20_000));
    expect((await healthz(env)).status).to.equal(500);
    const cri = criClient(env);
    try {
      for (const id of Object.values(before)) expect((await cri.containerStatus(id.replace('containerd://', ''))).state).to.equal('CONTAINER_RUNNING');
    } finally {
      cri.close();
    }
    expect(agent.child.exitCode, 'the agent is still up').to.equal(null);

    rmSync(join(mountDir, 'filler'));
    await waitFor('/healthz ok again', async () => ((await healthz(env)).status === 200 ? true : undefined), 120_000);
    await waitFor('churn-2 Running (decided after recovery)', async () => ((await getJson(env, ['get', 'pod', 'churn-2'])).status?.phase === 'Running' ? true : undefined), 120_000);
    await waitFor('churn-1 gone', async () => ((await kubectl(env, ['get', 'pods', '-l', LABEL, '-o', 'name'])).includes('churn-1') ? undefined : true), 120_000);
    await waitFor('the condition removed', async () => ((await nodeCondition(env, 'NodeLogUnwritable')) ? undefined : true), 60_000);
    expect(await containerIds(env, steady)).to.deep.equal(before);

    expect(await agent.stop()).to.equal(0);
    agent = undefined;
    const entries = await readNodeLog(rootDir);
    entries.forEach((e, i) => expect(e.seq).to.equal(entries[0].seq + i));
    const recovered = entries.filter((e) => e.type === 'LogWriteRecovered');
    expect(recovered.length).to.be.at.least(1);
    expect((recovered[0].data as { error: string }).error).to.match(/No space left on device/);
    // Every decision once: no two decisions with the same cause, type and content.
    const decisions = entries.filter((e) => e.kind === 'decision').map((e) => canonicalJson({ cause: e.cause, type: e.type, reason: e.reason, pod: e.pod, data: e.data }));
    expect(new Set(decisions).size).to.equal(decisions.length);
    const after = entries.filter((e) => e.seq > recovered[0].seq);
    expect(after.some((e) => e.kind === 'decision' && e.pod?.name === 'churn-2'), 'churn-2 decided after recovery').to.equal(true);
    expect(entries.filter((e) => e.type === 'SourceRestarted' && (e.data as { reason: string }).reason === 'LogWritableAgain').length).to.be.at.least(3);
    const verified = await verifyNodeLog(rootDir);
    expect(verified.code, verified.output).to.equal(0);
  });
});
