// The engine in virtual time on a real log: given entries, when an entry arrives, then state,
// decisions, effects and outcomes.
import { expect } from 'chai';
import { Subject } from 'rxjs';
import { LogStore } from '../../src/adapters/store/index.ts';
import type { EffectHandlers } from '../../src/effects/effect.ts';
import type { Entry } from '../../src/model/entry.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { replayLog } from '../../src/runtime/replay.ts';
import { canonicalJson } from '../../src/runtime/canonical.ts';
import { lifecycleDecider, podRef, type LifecycleState } from './helpers/test-deciders.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const added = (n: number) => ({ type: 'PodAdded', source: 'apiserver', data: { n }, pod: podRef(n) });
const brief = (e: Entry) => `${e.seq}:${e.kind}:${e.type}${e.cause !== undefined ? `<${e.cause}` : ''}`;

/** A promise a test resolves by hand, to hold an effect in flight. */
function gate() {
  let open!: () => void;
  const p = new Promise<void>((r) => (open = r));
  return { p, open };
}

describe('engine', () => {
  const dirs = tempDirs();
  let store: LogStore;
  let clock: VirtualClock;
  const engines: Engine<unknown>[] = [];
  const start = async (effects: EffectHandlers, extra: Partial<Parameters<typeof Engine.start>[0]> = {}) => {
    const e = await Engine.start<LifecycleState>({ store, decider: lifecycleDecider, effects, clock, ...extra } as Parameters<typeof Engine.start<LifecycleState>>[0]);
    engines.push(e as Engine<unknown>);
    return e;
  };
  const logged = async () => {
    const out: Entry[] = [];
    for await (const r of store.readRange()) if (r.ok) out.push(r.entry);
    return out;
  };

  beforeEach(async () => {
    store = await LogStore.open(dirs.make());
    clock = new VirtualClock('2024-03-01T12:00:00.000Z');
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.stop({ timeoutMs: 50 });
    await store.close();
    dirs.cleanup();
  });

  it('given an empty log, when the engine starts, then AgentStarted is appended with nothing unfinished', async () => {
    const engine = await start({});
    const [first] = await logged();
    expect(first).to.deep.include({ seq: 1, kind: 'observation', type: 'AgentStarted', source: 'engine', at: '2024-03-01T12:00:00.000Z' });
    expect((first.data as { unfinished: unknown[] }).unfinished).to.deep.equal([]);
    expect(engine.state()).to.deep.equal({ pods: {}, interrupted: [] });
  });

  it('given a running engine, when a pod is added, then StartPod is decided with cause and reason, the effect runs, and its outcome is folded', async () => {
    const seen: Entry[] = [];
    const engine = await start({ StartPod: async (d) => { seen.push(d); return [{ type: 'PodStarted', data: { sandbox: `sb-${d.pod?.uid}` } }]; } });
    await clock.advance(1500);
    const obs = await engine.submit(added(1));
    await engine.settled();
    const entries = (await logged()).slice(1);
    expect(entries.map(brief)).to.deep.equal([`2:observation:PodAdded`, `3:decision:StartPod<2`, `4:outcome:PodStarted<3`]);
    expect(obs.seq).to.equal(2);
    expect(entries[1]).to.deep.include({ reason: 'PodAdded', source: 'engine', pod: podRef(1), at: '2024-03-01T12:00:01.500Z' });
    expect(entries[2]).to.deep.include({ source: 'effect:StartPod', pod: podRef(1) });
    expect(seen.map((d) => d.seq)).to.deep.equal([3]);
    expect(engine.state().pods['uid-1']).to.deep.equal({ phase: 'Running', attempts: 1, since: '2024-03-01T12:00:01.500Z' });
    expect(engine.unfinishedDecisions()).to.deep.equal([]);
  });

  it('given many observations submitted together, when written, then they share one batch and each decision follows its cause', async () => {
    const engine = await start({});
    const writes: number[] = [];
    const write = store.write.bind(store);
    store.write = (entries, opts) => { writes.push(entries.length); return write(entries, opts); };
    await Promise.all([1, 2, 3].map((n) => engine.submit(added(n))));
    expect(writes).to.deep.equal([6]);
    expect((await logged()).slice(1).map(brief)).to.deep.equal([
      '2:observation:PodAdded', '3:decision:StartPod<2', '4:observation:PodAdded', '5:decision:StartPod<4', '6:observation:PodAdded', '7:decision:StartPod<6',
    ]);
  });

  it('given a decision, when its effect starts, then the decision is already in the log (write-ahead intent)', async () => {
    let loggedAtEffect: string[] = [];
    const engine = await start({ StartPod: async () => { loggedAtEffect = (await logged()).map(brief); return []; } });
    await engine.submit(added(1));
    await engine.settled();
    expect(loggedAtEffect).to.include('3:decision:StartPod<2');
  });

  it('given two decisions for one pod, when effects run, then the second starts only after the first finished', async () => {
    const g = gate();
    const events: string[] = [];
    const engine = await start({
      StartPod: async () => { events.push('start:begin'); await g.p; events.push('start:end'); return [{ type: 'PodStarted', data: {} }]; },
      KillPod: async () => { events.push('kill'); return [{ type: 'PodKilled', data: {} }]; },
    });
    await engine.submit(added(1));
    await engine.submit({ type: 'PodDeleted', source: 'apiserver', data: {}, pod: podRef(1) });
    await clock.advance(10);
    expect(events).to.deep.equal(['start:begin']);
    g.open();
    await engine.settled();
    expect(events).to.deep.equal(['start:begin', 'start:end', 'kill']);
  });

  it('given effects for several pods, when they run, then they overlap up to the global limit and no further', async () => {
    const g = gate();
    let running = 0;
    let peak = 0;
    const engine = await start(
      { StartPod: async () => { running++; peak = Math.max(peak, running); await g.p; running--; return []; } },
      { maxConcurrentEffects: 3 },
    );
    await Promise.all([1, 2, 3, 4, 5].map((n) => engine.submit(added(n))));
    await clock.advance(10);
    expect(running).to.equal(3);
    g.open();
    await engine.settled();
    expect(peak).to.equal(3);
    expect((await logged()).filter((e) => e.kind === 'outcome' && e.type === 'EffectCompleted')).to.have.length(5);
  });

  it('given an effect that throws, when it runs, then an EffectFailed outcome records the error and the engine keeps going', async () => {
    const engine = await start({ StartPod: async () => { throw new Error('image pull failed: 127.0.0.1:5000/app:v1 not found'); } });
    await engine.submit(added(1));
    await engine.settled();
    const failed = (await logged()).find((e) => e.type === 'EffectFailed')!;
    expect(failed).to.deep.include({ kind: 'outcome', cause: 3 });
    expect(failed.data).to.deep.equal({ decision: 'StartPod', error: 'image pull failed: 127.0.0.1:5000/app:v1 not found' });
    expect(engine.state().pods['uid-1'].phase).to.equal('Failed');
    const next = await engine.submit(added(2));
    expect(next.seq).to.be.greaterThan(failed.seq);
  });

  it('given a decision whose effect never reported, when the engine restarts, then AgentStarted lists it and the reducer re-checks it instead of repeating it', async () => {
    const g = gate();
    const first = await start({ StartPod: async () => { await g.p; return []; } });
    await first.submit(added(1));
    expect(first.unfinishedDecisions().map((d) => d.seq)).to.deep.equal([3]);
    await first.stop({ timeoutMs: 10 }); // effect still hanging: its outcome never reaches the log
    engines.splice(0);
    const starts: number[] = [];
    const second = await start({ StartPod: async (d) => { starts.push(d.seq); return []; }, CheckPod: async () => [{ type: 'PodStarted', data: {} }] });
    await second.settled();
    const entries = await logged();
    const agentStarted = entries.filter((e) => e.type === 'AgentStarted').pop()!;
    expect((agentStarted.data as { unfinished: unknown[] }).unfinished).to.deep.equal([{ seq: 3, type: 'StartPod', reason: 'PodAdded', cause: 2, pod: podRef(1) }]);
    const check = entries.find((e) => e.type === 'CheckPod')!;
    expect(check).to.deep.include({ kind: 'decision', reason: 'UnfinishedAtStart', cause: agentStarted.seq, data: { decision: 3, was: 'StartPod' } });
    expect(starts).to.deep.equal([]);
    expect(second.state().interrupted).to.deep.equal([3]);
    expect(second.state().pods['uid-1'].phase).to.equal('Running');
    expect(second.unfinishedDecisions()).to.deep.equal([]);
  });

  it('given snapshots every few entries, when the engine restarts, then snapshot + tail equals a full replay', async () => {
    const engine = await start({ StartPod: async () => [{ type: 'PodStarted', data: {} }] }, { snapshotEvery: 4 });
    for (let n = 0; n < 10; n++) {
      await engine.submit(added(n));
      await clock.advance(1000);
    }
    await engine.settled();
    expect((await store.listSnapshots()).length).to.be.greaterThan(2);
    const fromSnapshot = await replayLog(store, lifecycleDecider, { useSnapshot: true });
    const full = await replayLog(store, lifecycleDecider, { useSnapshot: false });
    expect(fromSnapshot.snapshotSeq).to.be.a('number');
    expect(canonicalJson(fromSnapshot.state)).to.equal(canonicalJson(full.state));
    expect(canonicalJson(full.state)).to.equal(canonicalJson(engine.state()));
  });

  it('given an attached source, when it emits, then its observations are appended in order and entries$ reports them', async () => {
    const engine = await start({});
    const src = new Subject<ReturnType<typeof added>>();
    const seen: string[] = [];
    engine.entries$.subscribe((e) => seen.push(brief(e)));
    engine.attach(src);
    src.next(added(1));
    src.next(added(2));
    await clock.advance(1);
    await engine.settled();
    expect(seen).to.deep.equal(['2:observation:PodAdded', '3:decision:StartPod<2', '4:observation:PodAdded', '5:decision:StartPod<4']);
  });

  it('given a stopped engine, when an observation is submitted, then it is refused and nothing is appended', async () => {
    const engine = await start({});
    await engine.stop();
    let err: unknown;
    await engine.submit(added(1)).catch((e) => (err = e));
    expect((err as Error).name).to.equal('EngineStoppedError');
    expect((await logged()).map(brief)).to.deep.equal(['1:observation:AgentStarted', '2:observation:AgentStopping']);
  });

  it('given a reducer that throws on one entry, when that entry arrives, then it is logged, the state is unchanged and the engine continues', async () => {
    const decider = { ...lifecycleDecider, evolve: (s: LifecycleState, e: Entry) => { if (e.type === 'Poison') throw new Error('boom'); return lifecycleDecider.evolve(s, e); } };
    const engine = await Engine.start({ store, decider, effects: {}, clock });
    engines.push(engine as Engine<unknown>);
    const before = engine.state();
    await engine.submit({ type: 'Poison', source: 'test', data: {} });
    expect(engine.state()).to.equal(before);
    const next = await engine.submit(added(1));
    expect(engine.state().pods['uid-1']).to.not.equal(undefined);
    expect(next.seq).to.equal(3);
    expect((await logged()).map(brief)).to.deep.equal(['1:observation:AgentStarted', '2:observation:Poison', '3:observation:PodAdded', '4:decision:StartPod<3']);
  });
});
