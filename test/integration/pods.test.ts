// Pods end to end on the testbed: kubectl → API server → ledgerlet → containerd, and back.
import { expect } from 'chai';
import { mkdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';

const LABEL = 'ledgerlet-test=pods';
const repo = resolve(import.meta.dirname, '../..');

function podYaml(env: TestbedEnv, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'pods' } }, spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 2, ...spec } });
}

async function podStatus(env: TestbedEnv, name: string) {
  return (await getJson(env, ['get', 'pod', name])).status;
}

async function containersOf(cri: CriClient, podUid: string) {
  return cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': podUid } });
}

describe('pods on the testbed (ledgerlet run + kubectl)', function () {
  this.timeout(240_000);
  let env: TestbedEnv;
  let agent: RunningAgent;
  let cri: CriClient;

  before(async () => {
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    agent = await startAgent(env);
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    cri?.close();
  });

  it('a pod applied with kubectl reaches Running with an IP, its status matches containerd, and deleting it removes its containers', async () => {
    await kubectl(env, ['apply', '-f', '-'], podYaml(env, 'web', { containers: [{ name: 'web', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'exec httpd -f -p 8080'] }] }));
    const st = await waitFor('web Running', async () => {
      const s = await podStatus(env, 'web');
      return s?.phase === 'Running' && s.podIP ? s : undefined;
    });
    expect(st.podIP).to.match(/^10\.88\./);
    expect(st.hostIP).to.be.a('string');
    expect(st.qosClass).to.equal('BestEffort');
    expect(st.conditions.find((c: any) => c.type === 'Ready').status).to.equal('True');
    const cs = st.containerStatuses[0];
    expect(cs).to.include({ name: 'web', ready: true, restartCount: 0, started: true });
    const id = cs.containerID.replace('containerd://', '');
    const real = await cri.containerStatus(id);
    expect(real.state).to.equal('CONTAINER_RUNNING');
    expect(real.metadata.name).to.equal('web');
    expect(cs.imageID).to.equal(real.imageRef);
    const uid = (await getJson(env, ['get', 'pod', 'web'])).metadata.uid;
    await kubectl(env, ['delete', 'pod', 'web', '--wait=true', '--timeout=90s']);
    await waitFor('web containers removed', async () => ((await containersOf(cri, uid)).length === 0 ? true : undefined));
    // The sandbox goes after its containers (removed by the same clean-up, a moment later).
    await waitFor('web sandbox removed', async () => ((await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).length === 0 ? true : undefined));
  });

  it('a crash-looping pod restarts with growing backoff and reports CrashLoopBackOff', async () => {
    await kubectl(env, ['apply', '-f', '-'], podYaml(env, 'crasher', { containers: [{ name: 'crash', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'echo boom; exit 3'] }] }));
    const st = await waitFor('crasher restarted twice', async () => {
      const s = await podStatus(env, 'crasher');
      return s?.containerStatuses?.[0]?.restartCount >= 2 ? s : undefined;
    }, 120_000);
    const cs = st.containerStatuses[0];
    expect(cs.lastState.terminated.exitCode).to.equal(3);
    const uid = (await getJson(env, ['get', 'pod', 'crasher'])).metadata.uid;
    // Runtime timestamps: the gap before the third start is at least the 10 s backoff.
    const all = (await containersOf(cri, uid)).sort((a, b) => a.metadata.attempt - b.metadata.attempt);
    const statuses = await Promise.all(all.map((c) => cri.containerStatus(c.id)));
    const byAttempt = new Map(statuses.map((s) => [s.metadata.attempt, s]));
    const second = byAttempt.get(1);
    const third = byAttempt.get(2);
    expect(second?.finishedAt, 'attempt 1 finished').to.be.a('string');
    expect(third?.startedAt, 'attempt 2 started').to.be.a('string');
    expect(Date.parse(third!.startedAt!) - Date.parse(second!.finishedAt!)).to.be.at.least(9_500);
    const waiting = await waitFor('CrashLoopBackOff shown', async () => {
      const s = await podStatus(env, 'crasher');
      return s.containerStatuses[0].state.waiting?.reason === 'CrashLoopBackOff' ? s : undefined;
    }, 60_000, 200);
    expect(waiting.phase).to.equal('Running');
    await kubectl(env, ['delete', 'pod', 'crasher', '--wait=false']);
  });

  it('init containers run in order before the app container', async () => {
    await kubectl(env, ['apply', '-f', '-'], podYaml(env, 'inits', {
      initContainers: [
        { name: 'first', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'sleep 1'] },
        { name: 'second', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'sleep 1'] },
      ],
      containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }],
    }));
    const st = await waitFor('inits Running', async () => {
      const s = await podStatus(env, 'inits');
      return s?.phase === 'Running' ? s : undefined;
    });
    const [first, second] = st.initContainerStatuses;
    expect(first.state.terminated.exitCode).to.equal(0);
    expect(second.state.terminated.exitCode).to.equal(0);
    expect(Date.parse(second.state.terminated.startedAt)).to.be.at.least(Date.parse(first.state.terminated.finishedAt) - 1000);
    expect(Date.parse(st.containerStatuses[0].state.running.startedAt)).to.be.at.least(Date.parse(second.state.terminated.finishedAt) - 1000);
    expect(st.conditions.find((c: any) => c.type === 'Initialized').status).to.equal('True');
    await kubectl(env, ['delete', 'pod', 'inits', '--wait=false']);
  });

  it('env from configMap, secret and the downward API reaches the container; a preStop hook runs on deletion', async () => {
    await kubectl(env, ['delete', 'configmap,secret', 'envsrc', '--ignore-not-found']);
    await kubectl(env, ['create', 'configmap', 'envsrc', '--from-literal=greeting=hello']);
    await kubectl(env, ['create', 'secret', 'generic', 'envsrc', '--from-literal=password=pa55-ledgerlet-env']);
    await kubectl(env, ['apply', '-f', '-'], podYaml(env, 'envs', { containers: [{
      name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'echo "$(GREETING) $(POD_NAME)"; exec sleep 3600'],
      env: [
        { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'envsrc', key: 'greeting' } } },
        { name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'envsrc', key: 'password' } } },
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'COMBINED', value: '$(GREETING)-$(POD_NAME)' },
      ],
      lifecycle: { preStop: { exec: { command: ['sh', '-c', 'echo stopping'] } } },
    }] }));
    const st = await waitFor('envs Running', async () => {
      const s = await podStatus(env, 'envs');
      return s?.phase === 'Running' ? s : undefined;
    });
    const id = st.containerStatuses[0].containerID.replace('containerd://', '');
    const out = await cri.execSync(id, ['env'], 10);
    const vars = Object.fromEntries(out.stdout.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
    expect(vars).to.include({ GREETING: 'hello', PASSWORD: 'pa55-ledgerlet-env', POD_NAME: 'envs', POD_IP: st.podIP, COMBINED: 'hello-envs' });
    await kubectl(env, ['delete', 'pod', 'envs', '--wait=true', '--timeout=60s']);
    const history = await new Promise<string>((res, rej) => execFile(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'history', '--root-dir', agent.rootDir, '--type', 'ContainerStopped', '--json'], (e, so) => (e ? rej(e) : res(so))));
    const stopped = history.trim().split('\n').map((l) => JSON.parse(l)).filter((e) => e.pod?.name === 'envs');
    expect(stopped.at(-1).data.preStop).to.deep.equal({ ok: true, handler: 'exec' });
    // The secret's value is in the container, never in the log.
    const all = await new Promise<string>((res, rej) => execFile(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'history', '--root-dir', agent.rootDir, '--json'], { maxBuffer: 64 << 20 }, (e, so) => (e ? rej(e) : res(so))));
    expect(all).to.not.include('pa55-ledgerlet-env');
    expect(all).to.include('"kind":"secret"');
    await kubectl(env, ['delete', 'configmap,secret', 'envsrc', '--ignore-not-found']);
  });

  it('SIGKILL of the agent during pod churn, then a restart: no duplicate containers and every pod converges', async () => {
    const names = ['churn-a', 'churn-b', 'churn-c'];
    for (const n of names) {
      await kubectl(env, ['apply', '-f', '-'], podYaml(env, n, { containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }, { name: 'side', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }] }));
    }
    // Kill the agent while it is still starting them.
    await waitFor('first start decided', async () => (agent.output().includes('ContainerStartRequested') ? true : undefined), 60_000, 20);
    await agent.kill9();
    agent = await startAgent(env, { rootDir: agent.rootDir });
    for (const n of names) {
      await waitFor(`${n} Running and Ready`, async () => {
        const s = await podStatus(env, n);
        return s?.phase === 'Running' && s.containerStatuses?.every((c: any) => c.ready) ? true : undefined;
      });
      const uid = (await getJson(env, ['get', 'pod', n])).metadata.uid;
      const running = (await containersOf(cri, uid)).filter((c) => c.state === 'CONTAINER_RUNNING');
      expect(running.map((c) => c.metadata.name).sort(), `${n} runs each container once`).to.deep.equal(['main', 'side']);
      const sandboxes = (await cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).filter((s) => s.state === 'SANDBOX_READY');
      expect(sandboxes, `${n} has one ready sandbox`).to.have.length(1);
    }
    for (const n of names) await kubectl(env, ['delete', 'pod', n, '--wait=false']);
  });

  it('after a restart with another node IP, the status patch replaces hostIPs instead of merging them into an invalid list', async () => {
    await kubectl(env, ['apply', '-f', '-'], podYaml(env, 'hostip', { containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }] }));
    const before = await waitFor('hostip Running', async () => {
      const s = await podStatus(env, 'hostip');
      return s?.phase === 'Running' ? s : undefined;
    });
    const other = before.hostIP === '127.0.0.2' ? '127.0.0.3' : '127.0.0.2';
    await agent.stop();
    agent = await startAgent(env, { rootDir: agent.rootDir, extraArgs: ['--node-ip', other] });
    const after = await waitFor(`hostip reported on ${other}`, async () => {
      const s = await podStatus(env, 'hostip');
      return s?.hostIP === other ? s : undefined;
    }, 60_000);
    expect(after.hostIPs).to.deep.equal([{ ip: other }]);
    const refused = agent.output().split('\n').filter((l) => l.includes('PodStatusPatchFailed') && l.includes('default/hostip'));
    expect(refused, refused.join('\n')).to.deep.equal([]);
    await agent.stop();
    agent = await startAgent(env, { rootDir: agent.rootDir });
    await kubectl(env, ['delete', 'pod', 'hostip', '--wait=false']);
  });

  it('a static pod starts, restarts on a manifest change and stops when its manifest is removed', async () => {
    await agent.stop();
    const dir = join(tmpdir(), `ledgerlet-static-${process.pid}`);
    rmSync(dir, { recursive: true, force: true });
    mkdirSync(dir, { recursive: true });
    const manifest = (msg: string) => `apiVersion: v1\nkind: Pod\nmetadata:\n  name: static-web\n  namespace: default\nspec:\n  terminationGracePeriodSeconds: 2\n  containers:\n  - name: web\n    image: ${env.TESTBED_IMAGE_BUSYBOX}\n    command: ["sh", "-c", "echo ${msg}; exec sleep 3600"]\n`;
    writeFileSync(join(dir, 'static-web.yaml'), manifest('one'));
    agent = await startAgent(env, { rootDir: agent.rootDir, extraArgs: ['--pod-manifest-path', dir] });
    const running = async () => (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': `static-web-${env.TESTBED_NODE_NAME}` } })).filter((c) => c.state === 'CONTAINER_RUNNING');
    const first = await waitFor('static pod running', async () => ((await running()).length === 1 ? (await running())[0] : undefined));
    writeFileSync(join(dir, 'static-web.yaml'), manifest('two'));
    const second = await waitFor('static pod replaced', async () => {
      const r = await running();
      return r.length === 1 && r[0].id !== first.id ? r[0] : undefined;
    });
    expect(second.labels['io.kubernetes.pod.uid']).to.not.equal(first.labels['io.kubernetes.pod.uid']);
    rmSync(join(dir, 'static-web.yaml'));
    await waitFor('static pod stopped', async () => ((await running()).length === 0 ? true : undefined));
    rmSync(dir, { recursive: true, force: true });
  });
});
