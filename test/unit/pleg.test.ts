// The PLEG's relist/diff/health logic against an in-memory runtime (a test double of the pure
// PlegRuntime interface) in virtual time. The real check against containerd through CRI is
// test/integration/pleg.test.ts.
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import type { ObservationDraft } from '../../src/model/entry.ts';
import type { RuntimeContainer, RuntimeSandbox } from '../../src/model/runtime-observations.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { createPlegStats, pleg$, type PlegRuntime, type PlegStats } from '../../src/streams/pleg.ts';
import * as C from '../../src/model/runtime-observations.ts';

/** Every payload must satisfy the contract codec of its type (src/model/runtime-observations.ts). */
const CONTRACT: Record<string, { is: (u: unknown) => boolean }> = {
  RuntimeRelisted: C.RuntimeRelisted,
  ContainerStateChanged: C.ContainerStateChanged,
  ContainerRemovedFromRuntime: C.ContainerRemovedFromRuntime,
  PodSandboxStateChanged: C.PodSandboxStateChanged,
  PodSandboxRemovedFromRuntime: C.PodSandboxRemovedFromRuntime,
  PlegHealthChanged: C.PlegHealthChanged,
  RuntimeUnreachable: { is: (u) => typeof (u as { error?: unknown }).error === 'string' },
  RuntimeReachable: { is: (u) => typeof u === 'object' && u !== null && Object.keys(u).length === 0 },
};

const PERIOD = 1000;
const UNHEALTHY = 180_000;

class MemoryRuntime implements PlegRuntime {
  sandboxes: RuntimeSandbox[] = [];
  containers: RuntimeContainer[] = [];
  /** what ContainerStatus adds (exit codes...) */
  details = new Map<string, Partial<RuntimeContainer>>();
  fail: Error | undefined;
  statusFails = new Set<string>();
  hang = false;
  listCalls = 0;
  statusCalls: string[] = [];
  sandboxStatusCalls: string[] = [];
  /** virtual time a relist takes */
  latencyMs = 0;
  constructor(private readonly clock: VirtualClock) {}

  async listSandboxes(): Promise<RuntimeSandbox[]> {
    this.listCalls++;
    if (this.hang) await new Promise(() => undefined);
    if (this.latencyMs) await this.clock.sleep(this.latencyMs);
    if (this.fail) throw this.fail;
    return this.sandboxes.map((s) => ({ ...s }));
  }
  async listContainers(): Promise<RuntimeContainer[]> {
    if (this.fail) throw this.fail;
    // the list carries no exit details, as CRI ListContainers
    return this.containers.map(({ exitCode: _e, reason: _r, finishedAt: _f, ...c }) => ({ ...c }));
  }
  async containerStatus(id: string): Promise<RuntimeContainer | null> {
    this.statusCalls.push(id);
    if (this.statusFails.has(id)) throw new Error('DEADLINE_EXCEEDED');
    const c = this.containers.find((x) => x.id === id);
    return c ? { ...c, ...this.details.get(id) } : null;
  }
  async sandboxStatus(id: string): Promise<RuntimeSandbox | null> {
    this.sandboxStatusCalls.push(id);
    const s = this.sandboxes.find((x) => x.id === id);
    return s ? { ...s, ...(s.state === 'ready' ? { ip: '10.88.0.7', ips: ['10.88.0.7'] } : {}) } : null;
  }
  setContainer(id: string, patch: Partial<RuntimeContainer>): void {
    this.containers = this.containers.map((c) => (c.id === id ? { ...c, ...patch } : c));
  }
}

const sandbox = (id: string, podUid: string, state: RuntimeSandbox['state'] = 'ready'): RuntimeSandbox => ({
  id, podUid, name: `pod-${podUid}`, namespace: 'ns', attempt: 0, state, createdAt: '2024-01-01T00:00:00.000000000Z',
});
const container = (id: string, podUid: string, sandboxId: string, name: string, state: RuntimeContainer['state'], attempt = 0): RuntimeContainer => ({
  id, podUid, sandboxId, name, attempt, state, image: 'busybox',
});

async function until(cond: () => boolean, what: string): Promise<void> {
  for (let i = 0; i < 2000; i++) {
    if (cond()) return;
    await new Promise((r) => setImmediate(r));
  }
  throw new Error(`never reached: ${what}`);
}

describe('pleg$ (in-memory runtime, virtual clock)', () => {
  let clock: VirtualClock;
  let rt: MemoryRuntime;
  let seen: ObservationDraft[];
  let sub: Subscription | undefined;
  let stats: PlegStats;

  beforeEach(() => {
    clock = new VirtualClock('2024-01-01T00:00:00.000Z');
    rt = new MemoryRuntime(clock);
    seen = [];
    stats = createPlegStats();
  });
  afterEach(() => {
    sub?.unsubscribe();
    sub = undefined;
    for (const d of seen) {
      expect(d.source).to.equal('pleg');
      expect(CONTRACT[d.type], `unexpected observation type ${d.type}`).to.not.equal(undefined);
      expect(CONTRACT[d.type].is(d.data), `${d.type} payload matches its codec: ${JSON.stringify(d.data)}`).to.equal(true);
    }
  });

  /** both loops (relist and health check) asleep: the relist in flight has finished */
  const idle = () => until(() => clock.pendingTimers === 2, 'both PLEG loops asleep');
  const start = async () => {
    sub = pleg$({ runtime: rt, clock, periodMs: PERIOD, unhealthyAfterMs: UNHEALTHY, stats }).subscribe((d) => seen.push(d));
    await idle();
  };
  const tick = async (n = 1) => {
    for (let i = 0; i < n; i++) {
      await clock.advance(PERIOD);
      await idle();
    }
  };
  const types = (from = 0) => seen.slice(from).map((d) => d.type);

  it('reports the full picture once, on the first relist, with exit details of exited containers', async () => {
    rt.sandboxes = [sandbox('s1', 'u1')];
    rt.containers = [container('c1', 'u1', 's1', 'app', 'running'), container('c0', 'u1', 's1', 'init', 'exited')];
    rt.details.set('c0', { exitCode: 0, reason: 'Completed', finishedAt: '2024-01-01T00:00:01.000000000Z' });
    await start();
    expect(types()).to.deep.equal(['RuntimeRelisted']);
    const data = seen[0].data as { sandboxes: RuntimeSandbox[]; containers: RuntimeContainer[] };
    expect(seen[0].source).to.equal('pleg');
    expect(data.sandboxes).to.deep.equal([{ ...sandbox('s1', 'u1'), ip: '10.88.0.7', ips: ['10.88.0.7'] }]);
    expect(data.containers.map((c) => [c.id, c.state, c.exitCode, c.reason])).to.deep.equal([
      ['c1', 'running', undefined, undefined], // ordered by pod, sandbox, container name
      ['c0', 'exited', 0, 'Completed'],
    ]);
    expect(stats.relists).to.equal(1);
    expect(stats.containers).to.equal(2);
  });

  it('emits nothing while nothing changes, and inspects nothing', async () => {
    rt.sandboxes = [sandbox('s1', 'u1')];
    rt.containers = [container('c1', 'u1', 's1', 'app', 'running')];
    await start();
    const calls = rt.statusCalls.length;
    await tick(30);
    expect(types()).to.deep.equal(['RuntimeRelisted']);
    expect(rt.listCalls).to.equal(31);
    expect(rt.statusCalls.length, 'no ContainerStatus for unchanged containers').to.equal(calls);
    expect(stats.relists).to.equal(31);
  });

  it('turns state changes into exactly the diff observations', async () => {
    rt.sandboxes = [sandbox('s1', 'u1'), sandbox('s2', 'u2')];
    rt.containers = [container('c1', 'u1', 's1', 'app', 'running'), container('c2', 'u2', 's2', 'web', 'running')];
    await start();
    const n = seen.length;
    rt.statusCalls = [];

    rt.setContainer('c1', { state: 'exited' });
    rt.details.set('c1', { exitCode: 3, reason: 'Error', finishedAt: '2024-01-01T00:00:02.000000000Z', startedAt: '2024-01-01T00:00:00.500000000Z' });
    rt.containers.push(container('c3', 'u1', 's1', 'app', 'created', 1));
    rt.containers = rt.containers.filter((c) => c.id !== 'c2');
    rt.sandboxes = rt.sandboxes.map((s) => (s.id === 's2' ? { ...s, state: 'notready' as const } : s));
    await tick();

    expect(types(n)).to.deep.equal(['PodSandboxStateChanged', 'ContainerStateChanged', 'ContainerStateChanged', 'ContainerRemovedFromRuntime']);
    expect(seen[n].data).to.deep.equal({ sandbox: sandbox('s2', 'u2', 'notready'), previous: 'ready' });
    expect(seen[n].pod).to.deep.equal({ uid: 'u2', namespace: 'ns', name: 'pod-u2' });
    expect(seen[n + 1].data).to.deep.equal({
      container: { ...container('c1', 'u1', 's1', 'app', 'exited'), exitCode: 3, reason: 'Error', finishedAt: '2024-01-01T00:00:02.000000000Z', startedAt: '2024-01-01T00:00:00.500000000Z' },
      previous: 'running',
    });
    expect(seen[n + 1].pod).to.deep.equal({ uid: 'u1', namespace: 'ns', name: 'pod-u1' });
    expect(seen[n + 2].data).to.deep.equal({ container: container('c3', 'u1', 's1', 'app', 'created', 1) });
    expect(seen[n + 3].data).to.deep.equal({ id: 'c2', podUid: 'u2', name: 'web' });
    expect(seen[n + 3].pod).to.deep.equal({ uid: 'u2', namespace: 'ns', name: 'pod-u2' });
    expect(rt.statusCalls.sort(), 'ContainerStatus only for the changed containers').to.deep.equal(['c1', 'c3']);

    // the sandbox goes away; the one left keeps quiet
    const m = seen.length;
    rt.sandboxes = rt.sandboxes.filter((s) => s.id !== 's2');
    await tick();
    expect(types(m)).to.deep.equal(['PodSandboxRemovedFromRuntime']);
    expect(seen[m].data).to.deep.equal({ id: 's2', podUid: 'u2' });
    expect(seen[m].pod).to.deep.equal({ uid: 'u2', namespace: 'ns', name: 'pod-u2' });
    await tick(5);
    expect(seen.length).to.equal(m + 1);
  });

  it('retries a container whose status call failed instead of reporting it without details', async () => {
    rt.sandboxes = [sandbox('s1', 'u1')];
    rt.containers = [container('c1', 'u1', 's1', 'app', 'running')];
    await start();
    const n = seen.length;
    rt.setContainer('c1', { state: 'exited' });
    rt.details.set('c1', { exitCode: 137, reason: 'OOMKilled' });
    rt.statusFails.add('c1');
    await tick(2);
    expect(types(n)).to.deep.equal([]);
    rt.statusFails.clear();
    await tick();
    expect(types(n)).to.deep.equal(['ContainerStateChanged']);
    expect((seen[n].data as { container: RuntimeContainer }).container).to.deep.include({ exitCode: 137, reason: 'OOMKilled', state: 'exited' });
    expect((seen[n].data as { previous: string }).previous).to.equal('running');
  });

  it('says RuntimeUnreachable once while relists fail, RuntimeReachable when they recover', async () => {
    rt.sandboxes = [sandbox('s1', 'u1')];
    await start();
    const n = seen.length;
    rt.fail = new Error('connection refused');
    await tick(5);
    expect(types(n)).to.deep.equal(['RuntimeUnreachable']);
    expect(seen[n].data).to.deep.equal({ error: 'connection refused' });
    expect(stats.failures).to.equal(5);
    expect(stats.reachable).to.equal(false);
    rt.fail = undefined;
    rt.sandboxes.push(sandbox('s9', 'u9'));
    await tick();
    expect(types(n)).to.deep.equal(['RuntimeUnreachable', 'RuntimeReachable', 'PodSandboxStateChanged']);
    await tick(3);
    expect(seen.length).to.equal(n + 3);
  });

  it('a runtime unreachable at start-up: one RuntimeUnreachable, then the first relist when it answers', async () => {
    rt.fail = new Error('no such file');
    await start();
    await tick(3);
    expect(types()).to.deep.equal(['RuntimeUnreachable']);
    rt.fail = undefined;
    rt.sandboxes = [sandbox('s1', 'u1')];
    await tick();
    expect(types()).to.deep.equal(['RuntimeUnreachable', 'RuntimeReachable', 'RuntimeRelisted']);
  });

  it('turns unhealthy after 3 minutes without a successful relist, once, and healthy again on recovery', async () => {
    rt.sandboxes = [sandbox('s1', 'u1')];
    await start();
    const lastGood = clock.now().toISOString();
    rt.fail = new Error('down');
    await tick(UNHEALTHY / PERIOD); // exactly 3 min since the last success: still healthy
    expect(types()).to.deep.equal(['RuntimeRelisted', 'RuntimeUnreachable']);
    expect(stats.healthy).to.equal(true);
    await tick();
    expect(types()).to.deep.equal(['RuntimeRelisted', 'RuntimeUnreachable', 'PlegHealthChanged']);
    expect(seen[2].data).to.deep.equal({ healthy: false, lastRelistAt: lastGood, relistDurationMs: 0 });
    await tick(60);
    expect(seen.length).to.equal(3);
    rt.fail = undefined;
    await tick();
    expect(types(3)).to.deep.equal(['RuntimeReachable', 'PlegHealthChanged']);
    expect(seen[4].data).to.deep.include({ healthy: true, lastRelistAt: clock.now().toISOString() });
    expect(stats.healthy).to.equal(true);
  });

  it('turns unhealthy even when a relist hangs', async () => {
    rt.sandboxes = [sandbox('s1', 'u1')];
    await start();
    rt.hang = true;
    await clock.advance(PERIOD);
    await until(() => rt.listCalls === 2 && clock.pendingTimers === 1, 'the hung relist');
    for (let i = 0; i < UNHEALTHY / PERIOD + 1; i++) {
      await clock.advance(PERIOD);
      await until(() => clock.pendingTimers === 1, 'the health loop');
    }
    expect(types()).to.deep.equal(['RuntimeRelisted', 'PlegHealthChanged']);
    expect((seen[1].data as { healthy: boolean }).healthy).to.equal(false);
  });

  it('measures relist duration on its clock, for metrics only', async () => {
    rt.latencyMs = 250;
    sub = pleg$({ runtime: rt, clock, periodMs: PERIOD, unhealthyAfterMs: UNHEALTHY, stats }).subscribe((d) => seen.push(d));
    await until(() => clock.pendingTimers === 2, 'relist sleeping in the runtime + health loop');
    await clock.advance(250);
    await idle();
    expect(stats.lastRelistDurationMs).to.equal(250);
    expect(stats.lastRelistAt?.toISOString()).to.equal('2024-01-01T00:00:00.250Z');
    expect(types()).to.deep.equal(['RuntimeRelisted']);
  });

  it('stops relisting after unsubscribe', async () => {
    await start();
    sub!.unsubscribe();
    const calls = rt.listCalls;
    await clock.advance(PERIOD * 10);
    expect(rt.listCalls).to.equal(calls);
    expect(clock.pendingTimers).to.equal(0);
  });
});
