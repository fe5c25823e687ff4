// Convergence after repeated kill -9: the agent is killed at seeded random moments during pod
// churn (init containers, a sidecar, a crash loop, pods created and deleted while it is down).
// After the last restart every pod must reach its expected state within a bound, the runtime must
// hold no duplicated or leaked sandbox or container, every container is reported started once,
// and `ledgerlet verify` passes. Reproduce a failure with CHURN_SEED=<the seed printed>.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { criClient, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from '../integration/helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';

const LABEL = 'ledgerlet-test=churn';
const repo = resolve(import.meta.dirname, '../..');
const SEED = Number(process.env.CHURN_SEED ?? Math.floor(Math.random() * 2 ** 31));
/** After the last restart, every pod is where it should be within this (a slow, shared machine). */
const CONVERGE_MS = 240_000;

/** mulberry32: a small seeded generator, so a failing run can be replayed. */
function rng(seed: number) {
  let a = seed >>> 0;
  const next = () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
  return { next, int: (lo: number, hi: number) => lo + Math.floor(next() * (hi - lo + 1)) };
}

type Kind = 'init' | 'sidecar' | 'crash';

function podJson(env: TestbedEnv, name: string, kind: Kind): string {
  const img = env.TESTBED_IMAGE_BUSYBOX;
  const sleeper = (n: string) => ({ name: n, image: img, command: ['sleep', '3600'] });
  const init = { name: 'init', image: img, command: ['sh', '-c', 'exit 0'] };
  const spec = kind === 'init'
    ? { initContainers: [init], containers: [sleeper('main'), sleeper('side')] }
    : kind === 'sidecar'
      ? { initContainers: [init, { ...sleeper('sidecar'), restartPolicy: 'Always' }], containers: [sleeper('main')] }
      : { initContainers: [init], containers: [sleeper('main'), { name: 'crasher', image: img, command: ['sh', '-c', 'sleep 1; exit 1'] }] };
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'churn', 'churn-kind': kind } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, ...spec },
  });
}

/** Why a pod is not (yet) in its expected state, or undefined when it is. */
function notConverged(pod: any): string | undefined {
  const kind = pod.metadata.labels['churn-kind'] as Kind;
  const st = pod.status ?? {};
  if (st.phase !== 'Running') return `phase ${st.phase}`;
  const inits = new Map<string, any>((st.initContainerStatuses ?? []).map((c: any) => [c.name, c]));
  const apps = new Map<string, any>((st.containerStatuses ?? []).map((c: any) => [c.name, c]));
  if (inits.get('init')?.state?.terminated?.exitCode !== 0) return `init ${JSON.stringify(inits.get('init')?.state)}`;
  if (!apps.get('main')?.ready) return `main ${JSON.stringify(apps.get('main')?.state)}`;
  if (kind === 'init' && !apps.get('side')?.ready) return `side ${JSON.stringify(apps.get('side')?.state)}`;
  if (kind === 'sidecar' && !inits.get('sidecar')?.state?.running) return `sidecar ${JSON.stringify(inits.get('sidecar')?.state)}`;
  if (kind === 'crash') {
    const c = apps.get('crasher');
    if (!(c?.restartCount >= 1) || c.lastState?.terminated?.exitCode !== 1) return `crasher restarts ${c?.restartCount}, last ${JSON.stringify(c?.lastState)}`;
  }
  return undefined;
}

const running = (s: string) => s === 'CONTAINER_RUNNING' || s === 'CONTAINER_CREATED';

async function ledgerlet(args: string[]): Promise<{ code: number; out: string }> {
  return new Promise((res) => execFile(process.execPath, [join(repo, 'bin/ledgerlet.js'), ...args], { maxBuffer: 256 << 20 }, (e, so, se) => res({ code: e ? Number((e as { code?: number }).code ?? 1) : 0, out: `${so}${se}` })));
}

describe('convergence after repeated kill -9 during pod churn', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let cri: CriClient;
  let agent: RunningAgent | undefined;
  let rootDir: string | undefined;
  const earlier = new Set<string>();

  before(async () => {
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    // left by an earlier, interrupted run: not this run's leaks
    for (const o of [...await cri.listPodSandbox(), ...await cri.listContainers()]) earlier.add(o.id);
  });

  after(async () => {
    if (!agent) agent = await startAgent(env, { rootDir }).catch(() => undefined);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=120s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    cri?.close();
  });

  it(`every pod converges, nothing is duplicated or leaked, and the log verifies (seed ${SEED})`, async () => {
    const r = rng(SEED);
    const kills = r.int(8, 12);
    console.log(`      churn seed ${SEED}: ${kills} kills (CHURN_SEED=${SEED} to replay)`);
    const kinds: Kind[] = ['init', 'init', 'init', 'sidecar', 'crash', 'init', 'sidecar'];
    let created = 0;
    const create = async (kind: Kind) => kubectl(env, ['apply', '-f', '-'], podJson(env, `churn-${created++}-${kind}`, kind));
    for (const k of kinds) await create(k);
    const deleted: string[] = [];
    const t0 = Date.now();
    for (let i = 0; i < kills; i++) {
      agent = await startAgent(env, { rootDir });
      rootDir = agent.rootDir;
      const after = r.int(200, 6000);
      await new Promise((res) => setTimeout(res, after));
      await agent.kill9();
      agent = undefined;
      // While the agent is down: delete a pod (gracefully, or forced out of the API), or add one.
      const act = r.next();
      const live = JSON.parse(await kubectl(env, ['get', 'pods', '-l', LABEL, '-o', 'json'])).items.filter((p: any) => !p.metadata.deletionTimestamp).map((p: any) => p.metadata.name as string);
      let what = 'nothing';
      if (act < 0.3 && live.length > 4) {
        const victim = live[r.int(0, live.length - 1)];
        await kubectl(env, ['delete', 'pod', victim, '--wait=false']);
        deleted.push(victim);
        what = `deleted ${victim}`;
      } else if (act < 0.45 && live.length > 4) {
        const victim = live[r.int(0, live.length - 1)];
        await kubectl(env, ['delete', 'pod', victim, '--grace-period=0', '--force', '--wait=false']);
        deleted.push(victim);
        what = `force-deleted ${victim}`;
      } else if (act < 0.7) {
        const kind = kinds[r.int(0, kinds.length - 1)];
        await create(kind);
        what = `created churn-${created - 1}-${kind}`;
      }
      console.log(`      kill ${i + 1}/${kills} at ${after} ms after start (t+${((Date.now() - t0) / 1000).toFixed(0)} s); while down: ${what}`);
    }

    agent = await startAgent(env, { rootDir });
    const last = Date.now();
    const pods = await waitFor('every pod in its expected state and every deleted pod gone', async () => {
      const items: any[] = JSON.parse(await kubectl(env, ['get', 'pods', '-l', LABEL, '-o', 'json'])).items;
      const stuck = items.filter((p) => p.metadata.deletionTimestamp || notConverged(p));
      if (stuck.length) throw new Error(stuck.map((p) => `${p.metadata.name}: ${p.metadata.deletionTimestamp ? 'still terminating' : notConverged(p)}`).join('; '));
      return items;
    }, CONVERGE_MS, 1000);
    console.log(`      converged ${((Date.now() - last) / 1000).toFixed(0)} s after the last restart: ${pods.length} pods, ${deleted.length} deleted while down`);
    expect(pods.map((p) => p.metadata.name)).to.not.include.members(deleted);

    // The runtime: each live pod has one ready sandbox and each container runs once; nothing
    // belongs to a pod that is gone; no (container, attempt) was created twice.
    const live = new Map(pods.map((p) => [p.metadata.uid as string, p.metadata.name as string]));
    let leftover: { id: string; labels: Record<string, string> }[] = [];
    await waitFor('no runtime object of a deleted pod', async () => {
      const sbs = (await cri.listPodSandbox()).filter((s) => (s.labels['io.kubernetes.pod.name'] ?? '').startsWith('churn-'));
      const cs = (await cri.listContainers()).filter((c) => (c.labels['io.kubernetes.pod.name'] ?? '').startsWith('churn-'));
      leftover = [...sbs, ...cs].filter((o) => !live.has(o.labels['io.kubernetes.pod.uid']) && !earlier.has(o.id));
      if (leftover.length) throw new Error(`leaked: ${leftover.map((o) => `${o.labels['io.kubernetes.pod.name']}/${o.id.slice(0, 12)}`).join(', ')}`);
      return true;
    }, 60_000, 1000).catch(() => undefined);
    const sbs = await cri.listPodSandbox();
    const cs = await cri.listContainers();
    for (const [uid, name] of live) {
      const ready = sbs.filter((s) => s.labels['io.kubernetes.pod.uid'] === uid && s.state === 'SANDBOX_READY');
      expect(ready, `${name}: one ready sandbox`).to.have.length(1);
      const mine = cs.filter((c) => c.labels['io.kubernetes.pod.uid'] === uid);
      const alive = mine.filter((c) => running(c.state) && c.podSandboxId === ready[0].id).map((c) => c.metadata.name).sort();
      const kind = pods.find((p) => p.metadata.uid === uid).metadata.labels['churn-kind'] as Kind;
      const want = kind === 'init' ? ['main', 'side'] : kind === 'sidecar' ? ['main', 'sidecar'] : ['crasher', 'main'];
      // the crasher may be between two runs
      expect(alive.filter((n) => !(kind === 'crash' && n === 'crasher')), `${name}: containers alive`).to.deep.equal(want.filter((n) => n !== 'crasher'));
      expect(alive.filter((n) => n === 'crasher').length, `${name}: crasher alive at most once`).to.be.at.most(1);
      const seenAttempt = new Set<string>();
      for (const c of mine) {
        const key = `${c.podSandboxId}/${c.metadata.name}/${c.metadata.attempt}`;
        expect(seenAttempt.has(key), `${name}: ${c.metadata.name} attempt ${c.metadata.attempt} created twice`).to.equal(false);
        seenAttempt.add(key);
      }
    }

    await agent.stop();
    agent = undefined;
    // The audit trail: no container is reported started twice (a start decided again while the
    // first was in flight would be), and the log verifies.
    const history = await ledgerlet(['history', '--root-dir', rootDir!, '--json']);
    expect(history.code, history.out.slice(-2000)).to.equal(0);
    const entries = history.out.trim().split('\n').filter((l) => l.startsWith('{')).map((l) => JSON.parse(l));
    const started = entries.filter((e) => e.type === 'ContainerStarted').map((e) => e.data.containerId as string);
    const twice = started.filter((id, i) => started.indexOf(id) !== i);
    expect(twice, 'containers reported started twice').to.deep.equal([]);
    expect(entries.filter((e) => e.type === 'AgentStarted')).to.have.length(kills + 1);
    // A container whose start a kill -9 cut short can keep a CREATED task on containerd 1.6 that no
    // CRI call removes (docs/operations.md): such a leftover, and its sandbox, must be reported as
    // not removed (and retried), never as removed; anything else left over is a leak.
    const notRemoved = new Map<string, string>(entries.filter((e) => e.type === 'PodRuntimeCleanupFailed' || e.type === 'OrphanRemoveFailed').flatMap((e) => (e.data.notRemoved ?? []).map((o: { id: string; error: string }) => [o.id, o.error])));
    const unreported = leftover.filter((o) => !/cannot delete running task|failed to remove container/.test(notRemoved.get(o.id) ?? ''));
    expect(unreported.map((o) => `${o.labels['io.kubernetes.pod.name']}/${o.id.slice(0, 12)}`), 'leaked').to.deep.equal([]);
    if (leftover.length) console.log(`      ${leftover.length} objects left on the runtime behind a CREATED task, reported not removed`);
    const verify = await ledgerlet(['verify', '--root-dir', rootDir!]);
    expect(verify.code, verify.out.slice(-3000)).to.equal(0);
  });
});
