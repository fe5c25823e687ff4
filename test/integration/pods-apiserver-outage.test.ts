// The API server goes away for 30 s: running pods keep running, and status catches up after.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');

describe('API server outage', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent;

  before(async () => {
    env = await testbedEnv();
    await kubectl(env, ['delete', 'pod', 'outage', '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    agent = await startAgent(env);
  });

  after(async () => {
    await run('bash', [join(repo, 'scripts/testbed'), 'up']).catch(() => undefined);
    await kubectl(env, ['delete', 'pod', 'outage', '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
  });

  it('keeps running pods through a 30 s outage, logs it, and catches up on status afterwards', async () => {
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'outage', namespace: 'default' }, spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 2, restartPolicy: 'Never', containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'sleep 40; exit 0'] }] } };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify(pod));
    const running = await waitFor('pod Running', async () => {
      const p = await getJson(env, ['get', 'pod', 'outage']);
      return p.status?.phase === 'Running' ? p : undefined;
    });
    const containerId = running.status.containerStatuses[0].containerID.replace('containerd://', '');

    // Stop the API server (the testbed started it; `scripts/testbed up` starts it again).
    const pidFile = join(env.TESTBED_DIR, 'pids/kube-apiserver.pid');
    const pid = parseInt(readFileSync(pidFile, 'utf8'), 10);
    process.kill(pid, 'SIGKILL'); // gone at once, as a crashed or unplugged API server
    const stoppedAt = Date.now();
    const cri = criClient(env);
    try {
      // The container keeps running without the API server (the agent may take a moment to notice).
      expect((await cri.containerStatus(containerId)).state).to.equal('CONTAINER_RUNNING');
      await waitFor('the agent to notice the outage', async () => (agent.output().includes('ApiServerUnreachable') ? true : undefined), 120_000);
      const rest = 30_000 - (Date.now() - stoppedAt);
      if (rest > 0) await new Promise((r) => setTimeout(r, rest));
    } finally {
      cri.close();
      await run('bash', [join(repo, 'scripts/testbed'), 'up']);
    }
    // Once the API server is back, the agent reports what happened while it was away.
    const done = await waitFor('status caught up', async () => {
      const p = await getJson(env, ['get', 'pod', 'outage']);
      return p.status?.phase === 'Succeeded' ? p : undefined;
    }, 120_000);
    const term = done.status.containerStatuses[0].state.terminated;
    expect(term.exitCode).to.equal(0);
    // It ran its whole 40 s: nothing killed it while the API server was away.
    expect(Date.parse(term.finishedAt) - Date.parse(term.startedAt)).to.be.at.least(39_000);
    // The pod watch reconnects on its own backoff (at most 30 s between tries, as upstream's reflector).
    await waitFor('the pod watch to reconnect', async () => (agent.output().includes('ApiServerReachable') ? true : undefined), 120_000);
    expect(agent.child.exitCode).to.equal(null);
  });
});
