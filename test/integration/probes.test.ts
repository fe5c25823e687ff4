// Probes end to end on the testbed: the real agent (`ledgerlet run`) probing agnhost and busybox
// pods through containerd, the API server showing the outcome (restartCount, Ready, started,
// Unhealthy events), and the agent's log holding the causal chain from failed probes to kills.
// Every wait is for a condition, with a generous bound that only stops a hung test.
import { expect } from 'chai';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const LABEL = 'ledgerlet-test=probes';

function pod(env: TestbedEnv, name: string, containers: Record<string, unknown>[], extra: Record<string, unknown> = {}): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'probes' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 2, ...extra, containers },
  });
}

const status = async (env: TestbedEnv, name: string) => (await getJson(env, ['get', 'pod', name])).status;
const condition = (st: any, type: string) => st?.conditions?.find((c: any) => c.type === type)?.status;

async function unhealthyEvents(env: TestbedEnv, name: string): Promise<string[]> {
  const list = await getJson(env, ['get', 'events', '--field-selector', `involvedObject.name=${name},reason=Unhealthy`]);
  return list.items.map((e: any) => e.message as string);
}

async function restarted(env: TestbedEnv, name: string, atLeast = 1) {
  return waitFor(`${name} restarted ${atLeast}x`, async () => {
    const st = await status(env, name);
    return (st?.containerStatuses?.[0]?.restartCount ?? 0) >= atLeast ? st : undefined;
  }, 150_000);
}

/** Another test's agent running as the same node would fight over its pods: wait for it to end. */
async function waitForNodeFree(env: TestbedEnv): Promise<void> {
  const others = () => {
    const out: number[] = [];
    for (const d of readdirSync('/proc')) {
      if (!/^\d+$/.test(d) || Number(d) === process.pid) continue;
      try {
        const args = readFileSync(`/proc/${d}/cmdline`, 'utf8').split('\0');
        const i = args.indexOf('--hostname-override');
        if (args.some((a) => a.endsWith('bin/ledgerlet.js')) && args.includes('run') && i >= 0 && args[i + 1] === env.TESTBED_NODE_NAME) out.push(Number(d));
      } catch {
        // gone
      }
    }
    return out;
  };
  await waitFor('no other agent running as the testbed node', async () => (others().length === 0 ? true : undefined), 600_000, 1000);
}

describe('probes on the testbed (ledgerlet run + agnhost/busybox)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  const uids: Record<string, string> = {};

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    await waitForNodeFree(env);
    agent = await startAgent(env);
  });

  afterEach(function () {
    if (this.currentTest?.state === 'failed' && agent) console.error(`agent output (tail):\n${agent.output().slice(-6000)}`);
  });

  after(async () => {
    if (agent) {
      await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s', '--ignore-not-found']).catch(() => undefined);
      await agent.stop();
    }
    cri?.close();
  });

  const apply = async (name: string, containers: Record<string, unknown>[], extra?: Record<string, unknown>) => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, name, containers, extra));
    uids[name] = (await getJson(env, ['get', 'pod', name])).metadata.uid;
  };

  it('a failing exec liveness probe restarts the container (probe-level grace period) and raises restartCount', async () => {
    await apply('live-exec', [{
      name: 'app', image: env.TESTBED_IMAGE_BUSYBOX,
      command: ['sh', '-c', 'touch /tmp/healthy; sleep 4; rm /tmp/healthy; exec sleep 3600'],
      livenessProbe: { exec: { command: ['cat', '/tmp/healthy'] }, periodSeconds: 1, failureThreshold: 2, terminationGracePeriodSeconds: 1 },
    }]);
    const st = await restarted(env, 'live-exec');
    expect(st.containerStatuses[0].lastState.terminated).to.be.an('object');
    const msgs = await unhealthyEvents(env, 'live-exec');
    expect(msgs.some((m) => m.startsWith('Liveness probe failed: cat: can\'t open \'/tmp/healthy\''))).to.equal(true, msgs.join(' | '));
  });

  it('a failing httpGet liveness probe (port by name, headers) restarts the container', async () => {
    // agnhost liveness: /healthz answers 200 for 10 s, then 500
    await apply('live-http', [{
      name: 'app', image: env.TESTBED_IMAGE_AGNHOST, args: ['liveness'], ports: [{ name: 'web', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'web', httpHeaders: [{ name: 'X-Probe', value: 'ledgerlet' }] }, periodSeconds: 1, failureThreshold: 2 },
    }]);
    const running = await waitFor('live-http running', async () => ((await status(env, 'live-http'))?.containerStatuses?.[0]?.state?.running ? true : undefined));
    expect(running).to.equal(true);
    await restarted(env, 'live-http');
    const msgs = await unhealthyEvents(env, 'live-http');
    expect(msgs).to.include('Liveness probe failed: HTTP probe failed with statuscode: 500');
  });

  it('a tcpSocket readiness probe makes the pod Ready; a failing tcpSocket liveness probe restarts it', async () => {
    await apply('live-tcp', [{
      name: 'app', image: env.TESTBED_IMAGE_AGNHOST, args: ['netexec', '--http-port=8080', '--udp-port=-1'],
      readinessProbe: { tcpSocket: { port: 8080 }, periodSeconds: 1 },
      livenessProbe: { tcpSocket: { port: 8081 }, initialDelaySeconds: 6, periodSeconds: 1, failureThreshold: 2 },
    }]);
    await waitFor('live-tcp Ready', async () => (condition(await status(env, 'live-tcp'), 'Ready') === 'True' ? true : undefined));
    await restarted(env, 'live-tcp');
    const msgs = await unhealthyEvents(env, 'live-tcp');
    expect(msgs.some((m) => /^Liveness probe failed: dial tcp [\d.]+:8081: connect ECONNREFUSED/.test(m))).to.equal(true, msgs.join(' | '));
  });

  it('a grpc readiness probe makes the pod Ready; a grpc liveness probe that turns NOT_SERVING restarts it', async () => {
    await apply('live-grpc', [{
      name: 'app', image: env.TESTBED_IMAGE_AGNHOST, args: ['grpc-health-checking', '--port=5000', '--http-port=8080', '--delay-unhealthy-sec=8'],
      readinessProbe: { grpc: { port: 5000 }, periodSeconds: 1 },
      livenessProbe: { grpc: { port: 5000 }, periodSeconds: 1, failureThreshold: 2 },
    }]);
    await waitFor('live-grpc Ready', async () => (condition(await status(env, 'live-grpc'), 'Ready') === 'True' ? true : undefined));
    await restarted(env, 'live-grpc');
    const msgs = await unhealthyEvents(env, 'live-grpc');
    expect(msgs).to.include('Liveness probe failed: service unhealthy (responded with "NOT_SERVING")');
  });

  it('an exec probe that exceeds its timeoutSeconds counts as a failure', async () => {
    await apply('exec-timeout', [{
      name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'],
      livenessProbe: { exec: { command: ['sleep', '10'] }, timeoutSeconds: 1, periodSeconds: 2, failureThreshold: 2 },
    }]);
    await restarted(env, 'exec-timeout');
    const msgs = await unhealthyEvents(env, 'exec-timeout');
    expect(msgs).to.include('Liveness probe failed: command "sleep 10" timed out');
  });

  it('a readiness probe that starts failing flips Ready and ContainersReady to False and back, without a restart', async () => {
    await apply('ready-flip', [{
      name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'touch /tmp/ready; exec sleep 3600'],
      readinessProbe: { exec: { command: ['test', '-f', '/tmp/ready'] }, periodSeconds: 1, failureThreshold: 1 },
    }]);
    const st = await waitFor('ready-flip Ready', async () => {
      const s = await status(env, 'ready-flip');
      return condition(s, 'Ready') === 'True' ? s : undefined;
    });
    expect(st.containerStatuses[0].ready).to.equal(true);
    const id = st.containerStatuses[0].containerID.replace('containerd://', '');
    expect((await cri.execSync(id, ['rm', '/tmp/ready'], 5)).exitCode).to.equal(0);
    const down = await waitFor('ready-flip not Ready', async () => {
      const s = await status(env, 'ready-flip');
      return condition(s, 'Ready') === 'False' ? s : undefined;
    });
    expect(condition(down, 'ContainersReady')).to.equal('False');
    expect(down.containerStatuses[0].ready).to.equal(false);
    expect(down.containerStatuses[0].state.running).to.be.an('object');
    expect((await cri.execSync(id, ['touch', '/tmp/ready'], 5)).exitCode).to.equal(0);
    const up = await waitFor('ready-flip Ready again', async () => {
      const s = await status(env, 'ready-flip');
      return condition(s, 'Ready') === 'True' ? s : undefined;
    });
    expect(up.containerStatuses[0]).to.include({ ready: true, restartCount: 0 });
    expect(up.containerStatuses[0].containerID).to.equal(st.containerStatuses[0].containerID);
  });

  it('a startup probe delays liveness: started stays false until it succeeds, and liveness never fires before', async () => {
    await apply('startup', [{
      name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'sleep 8; touch /tmp/started; exec sleep 3600'],
      startupProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 60 },
      // without the startup gate this would kill the container on its first check
      livenessProbe: { exec: { command: ['test', '-f', '/tmp/started'] }, periodSeconds: 1, failureThreshold: 1 },
    }]);
    const early = await waitFor('startup running', async () => {
      const s = await status(env, 'startup');
      return s?.containerStatuses?.[0]?.state?.running ? s : undefined;
    });
    // the container runs but has not started (it needs ~8 s); the startup probe is failing meanwhile
    const stillEarly = early.containerStatuses[0].started === false;
    const st = await waitFor('startup started', async () => {
      const s = await status(env, 'startup');
      return s?.containerStatuses?.[0]?.started === true ? s : undefined;
    });
    expect(st.containerStatuses[0].restartCount).to.equal(0);
    expect(condition(st, 'Ready')).to.equal('True');
    const msgs = await unhealthyEvents(env, 'startup');
    expect(msgs.some((m) => m.startsWith('Startup probe failed'))).to.equal(true, msgs.join(' | '));
    expect(msgs.some((m) => m.startsWith('Liveness probe failed'))).to.equal(false, msgs.join(' | '));
    expect(stillEarly, 'started was already true right after the container ran').to.equal(true);
  });

  it('the log holds each kill with its cause: ContainerKilled ← ProbeResultChanged(failure) and the counted ProbeFailed entries', async () => {
    // stop the agent (LevelDB allows one process) after deleting the pods, then read its log
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=120s', '--ignore-not-found']);
    const rootDir = agent!.rootDir;
    await agent!.stop();
    agent = undefined;
    expect(existsSync(logDir(rootDir))).to.equal(true);
    const store = await LogStore.open(logDir(rootDir));
    const entries: Entry[] = [];
    try {
      for await (const r of store.readRange()) if (r.ok) entries.push(r.entry);
    } finally {
      await store.close();
    }
    const bySeq = new Map(entries.map((e) => [e.seq, e]));
    for (const name of ['live-exec', 'live-http', 'live-tcp', 'live-grpc', 'exec-timeout']) {
      const kill = entries.find((e) => e.type === 'ContainerKilled' && e.reason === 'LivenessProbeFailed' && e.pod?.uid === uids[name]);
      expect(kill, `${name}: a ContainerKilled LivenessProbeFailed`).to.not.equal(undefined);
      const flip = bySeq.get(kill!.cause!)!;
      expect(flip.type).to.equal('ProbeResultChanged');
      expect(flip.data).to.deep.include({ probe: 'liveness', result: 'failure', previous: 'success' });
      const failures = (kill!.data as { failures: number[] }).failures;
      expect(failures.length, `${name}: failures`).to.be.greaterThan(0);
      for (const s of failures) {
        const f = bySeq.get(s)!;
        expect(f.type).to.equal('ProbeFailed');
        expect(f.source).to.equal('prober');
        expect((f.data as { containerId: string }).containerId).to.equal((flip.data as { containerId: string }).containerId);
      }
    }
    // only changes: the healthy, always-ready startup pod added a handful of prober entries, not one per second
    const startupProber = entries.filter((e) => e.source === 'prober' && e.pod?.uid === uids.startup);
    const changes = startupProber.filter((e) => e.type === 'ProbeResultChanged').map((e) => `${(e.data as any).probe}:${(e.data as any).result}`);
    expect(changes).to.deep.equal(['startup:success']);
    expect(changes).to.not.include('liveness:failure');
    expect(startupProber.filter((e) => e.type === 'ProbeFailed').every((e) => (e.data as any).probe === 'startup')).to.equal(true);
  });
});
