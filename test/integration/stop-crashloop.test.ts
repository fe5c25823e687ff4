// Stopping the agent (SIGTERM) while pods are in CrashLoopBackOff: the pending back-off timers are
// aborted without answering them with new decisions, so the stop writes a bounded handful of
// entries; the next start lists the timers as unfinished and the pods go on crash-looping.
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import { readNodeLog, verifyNodeLog } from './helpers/node-log.ts';

const LABEL = 'ledgerlet-test=stop-crashloop';
const PODS = ['loop-a', 'loop-b', 'loop-c'];
// The container lives 3 s before failing: an instant exit can race its own start outcome (a known
// convergence bug handled elsewhere, issue 12 part 7) and leave the pod stuck, not crash-looping.

function crasher(env: TestbedEnv, name: string): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'stop-crashloop' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'sleep 3; exit 1'] }] },
  });
}

const restarts = async (env: TestbedEnv, name: string): Promise<{ count: number; waiting?: string }> => {
  const cs = (await getJson(env, ['get', 'pod', name])).status?.containerStatuses?.[0];
  return { count: cs?.restartCount ?? 0, waiting: cs?.state?.waiting?.reason };
};

describe('stopping the agent while pods crash-loop', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  const rootDir = mkdtempSync(join(tmpdir(), 'ledgerlet-stop-'));

  before(async () => {
    env = await testbedEnv();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  });

  after(async () => {
    if (!agent) agent = await startAgent(env, { rootDir }).catch(() => undefined);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
  });

  it('writes a bounded number of entries during the stop, decides nothing after AgentStopping, and resumes the back-offs at the next start', async () => {
    agent = await startAgent(env, { rootDir });
    for (const n of PODS) await kubectl(env, ['apply', '-f', '-'], crasher(env, n));
    await waitFor('every pod in CrashLoopBackOff after 2 restarts', async () => {
      for (const n of PODS) {
        const r = await restarts(env, n);
        if (r.count < 2 || r.waiting !== 'CrashLoopBackOff') throw new Error(`${n}: ${JSON.stringify(r)}`);
      }
      return true;
    }, 180_000, 1000);
    const before = Object.fromEntries(await Promise.all(PODS.map(async (n) => [n, (await restarts(env, n)).count] as const)));

    expect(await agent.stop()).to.equal(0);
    agent = undefined;
    const first = await readNodeLog(rootDir);
    const stopAt = first.findIndex((e) => e.type === 'AgentStopping');
    expect(stopAt, 'AgentStopping written').to.be.at.least(0);
    const duringStop = first.slice(stopAt);
    // A handful: AgentStopping, outcomes and runtime observations that raced the stop. Never a loop.
    expect(duringStop.length, duringStop.map((e) => `${e.seq} ${e.kind} ${e.type}`).join('\n')).to.be.at.most(20);
    expect(duringStop.filter((e) => e.kind === 'decision')).to.deep.equal([]);
    expect(first.filter((e) => e.type === 'EffectFailed' && /agent stopping/.test(JSON.stringify(e.data)))).to.deep.equal([]);
    const timers = first.filter((e) => e.type === 'RestartBackedOff' && !first.some((o) => o.kind === 'outcome' && o.cause === e.seq));
    expect(timers.length, 'the pending back-off timers are left unfinished').to.be.at.least(PODS.length);

    agent = await startAgent(env, { rootDir });
    await waitFor('every pod restarted again after the agent came back', async () => {
      for (const n of PODS) if ((await restarts(env, n)).count <= before[n]) return undefined;
      return true;
    }, 240_000, 1000);
    expect(await agent.stop()).to.equal(0);
    agent = undefined;
    const all = await readNodeLog(rootDir);
    const started = all.filter((e) => e.type === 'AgentStarted');
    expect(started).to.have.length(2);
    const listed = (started[1].data as { unfinished: Array<{ seq: number; type: string }> }).unfinished;
    for (const t of timers) expect(listed.map((u) => u.seq), `timer ${t.seq} listed as unfinished`).to.include(t.seq);
    const secondStop = all.slice(all.map((e) => e.type).lastIndexOf('AgentStopping'));
    expect(secondStop.length).to.be.at.most(20);
    const verified = await verifyNodeLog(rootDir);
    expect(verified.code, verified.output).to.equal(0);
  });
});
