// The engine when things fail: a log that refuses writes for a while, a source that errors, and
// a stop while effects are pending. Virtual time on a real log.
import { expect } from 'chai';
import { Observable, Subject } from 'rxjs';
import { LogStore } from '../../src/adapters/store/index.ts';
import type { EffectHandlers } from '../../src/effects/effect.ts';
import type { Entry, ObservationDraft } from '../../src/model/entry.ts';
import { Engine, type EngineOptions, type LogWriteStatus } from '../../src/runtime/engine.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { verifyLog } from '../../src/runtime/verify.ts';
import { replayLog } from '../../src/runtime/replay.ts';
import { canonicalJson } from '../../src/runtime/canonical.ts';
import { lifecycleDecider, podRef, type LifecycleState } from './helpers/test-deciders.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const added = (n: number) => ({ type: 'PodAdded', source: 'apiserver', data: { n }, pod: podRef(n) });
const brief = (e: Entry) => `${e.seq}:${e.kind}:${e.type}${e.cause !== undefined ? `<${e.cause}` : ''}`;
const enospc = () => Object.assign(new Error('IO error: log/000003.log: No space left on device'), { code: 'LEVEL_IO_ERROR' });

describe('engine failures', () => {
  const dirs = tempDirs();
  let store: LogStore;
  let clock: VirtualClock;
  const engines: Engine<unknown>[] = [];
  const start = async (effects: EffectHandlers, extra: Partial<EngineOptions<LifecycleState>> = {}) => {
    const e = await Engine.start<LifecycleState>({ store, decider: lifecycleDecider, effects, clock, ...extra });
    engines.push(e as Engine<unknown>);
    return e;
  };
  const logged = async () => {
    const out: Entry[] = [];
    for await (const r of store.readRange()) if (r.ok) out.push(r.entry);
    return out;
  };
  /** Fail the next n writes as a full disk does; counts every attempt. */
  const failWrites = (n: number) => {
    const write = store.write.bind(store);
    const calls = { attempts: 0, failed: 0, reopens: 0 };
    store.write = (entries, opts) => {
      calls.attempts++;
      if (calls.failed < n) {
        calls.failed++;
        // As the real store: a failed write un-stamps (write() itself does this on a LevelDB error).
        return write([], opts).then(() => { (store as unknown as { nextSeq: number }).nextSeq = store.lastSeq + 1; throw enospc(); });
      }
      return write(entries, opts);
    };
    const reopen = store.reopen.bind(store);
    store.reopen = () => { calls.reopens++; return reopen(); };
    return calls;
  };
  /** Advance virtual time in steps until cond holds (real I/O runs in between). */
  const advanceUntil = async (cond: () => boolean, stepMs = 250, maxSteps = 400) => {
    for (let i = 0; i < maxSteps && !cond(); i++) {
      await clock.advance(stepMs);
      await new Promise((r) => setTimeout(r, 2));
    }
    expect(cond(), 'condition reached').to.equal(true);
  };

  beforeEach(async () => {
    store = await LogStore.open(dirs.make());
    clock = new VirtualClock('2024-03-01T12:00:00.000Z');
  });
  afterEach(async () => {
    for (const e of engines.splice(0)) await e.stop({ timeoutMs: 50 }).catch(() => undefined);
    await store.close();
    dirs.cleanup();
  });

  it('given a log whose writes fail 3 times then succeed, when a pod is added, then the engine reports not writable, retries with backoff and writes every entry once', async () => {
    const starts: number[] = [];
    const engine = await start({ StartPod: async (d) => { starts.push(d.seq); return [{ type: 'PodStarted', data: {} }]; } });
    const statuses: LogWriteStatus[] = [];
    engine.logStatus$.subscribe((s) => statuses.push(s));
    const calls = failWrites(3);
    const submitted = engine.submit(added(1));
    await advanceUntil(() => calls.failed === 1);
    expect(engine.logStatus).to.deep.include({ writable: false, gaveUp: false });
    expect((engine.logStatus as { error: string }).error).to.match(/No space left on device/);
    expect(starts, 'nothing acted on while the log is not writable').to.deep.equal([]);
    const entry = await (async () => { await advanceUntil(() => calls.attempts >= 4); return submitted; })();
    expect(entry.seq).to.equal(2);
    await advanceUntil(() => starts.length === 1 && engine.effectsPending === 0);
    await engine.settled();
    expect(calls.reopens, 'LevelDB reopened before each retry').to.equal(3);
    expect(engine.logStatus).to.deep.equal({ writable: true });
    expect(statuses.map((s) => s.writable)).to.deep.equal([true, false, false, false, true]);
    const entries = await logged();
    expect(entries.map(brief)).to.deep.equal(['1:observation:AgentStarted', '2:observation:PodAdded', '3:decision:StartPod<2', '4:observation:LogWriteRecovered', '5:outcome:PodStarted<3']);
    const firstFailure = statuses[1] as { since: Date; error: string };
    expect(entries[3].data).to.deep.equal({ attempts: 3, since: firstFailure.since.toISOString(), error: firstFailure.error });
    expect(starts).to.deep.equal([3]);
    expect((await verifyLog(store, lifecycleDecider)).ok).to.equal(true);
    const replayed = await replayLog(store, lifecycleDecider, { useSnapshot: false });
    expect(canonicalJson(replayed.state)).to.equal(canonicalJson(engine.state()));
  });

  it('given a log that cannot be written, when sources keep emitting, then they are paused and restarted with a fresh subscription once it is writable again', async () => {
    const engine = await start({});
    let subscriptions = 0;
    let live: Subject<ObservationDraft> | undefined;
    const source$ = new Observable<ObservationDraft>((sub) => {
      subscriptions++;
      live = new Subject<ObservationDraft>();
      const s = live.subscribe(sub);
      return () => s.unsubscribe();
    });
    engine.attach(source$, { name: 'pods' });
    const calls = failWrites(2);
    live!.next(added(1));
    await advanceUntil(() => calls.failed === 1);
    const paused = live!;
    expect(paused.observed, 'unsubscribed while blocked').to.equal(false);
    await advanceUntil(() => engine.logStatus.writable);
    await advanceUntil(() => subscriptions === 2);
    live!.next(added(2));
    await clock.advance(1);
    await engine.settled();
    const entries = await logged();
    expect(entries.map(brief)).to.deep.equal([
      '1:observation:AgentStarted', '2:observation:PodAdded', '3:decision:StartPod<2', '4:observation:LogWriteRecovered',
      '5:observation:SourceRestarted', '6:observation:PodAdded', '7:decision:StartPod<6',
    ]);
    expect(entries[4].data).to.deep.equal({ source: 'pods', reason: 'LogWritableAgain', attempt: 0, delayMs: 0 });
    expect((await verifyLog(store, lifecycleDecider)).ok).to.equal(true);
  });

  it('given a log that cannot be written, when more observations arrive than the bound, then the extra ones are refused and the queued ones are written once', async () => {
    const engine = await start({}, { maxQueuedWhileBlocked: 3 });
    const calls = failWrites(2);
    const first = engine.submit(added(1));
    await advanceUntil(() => calls.failed === 1);
    const queued = [engine.submit(added(2)), engine.submit(added(3))];
    const refused = await engine.submit(added(4)).then(() => undefined, (e: Error) => e);
    expect(refused?.name).to.equal('EngineBlockedError');
    await advanceUntil(() => engine.logStatus.writable);
    await Promise.all([first, ...queued]);
    await engine.settled();
    const added1 = (await logged()).filter((e) => e.type === 'PodAdded').map((e) => (e.data as { n: number }).n);
    expect(added1).to.deep.equal([1, 2, 3]);
  });

  it('given a log that stays unwritable longer than maxWriteOutageMs, when the time passes, then the engine halts and says so', async () => {
    const engine = await start({}, { maxWriteOutageMs: 60_000 });
    const calls = failWrites(1_000_000);
    const statuses: LogWriteStatus[] = [];
    engine.logStatus$.subscribe((s) => statuses.push(s));
    const submitted = engine.submit(added(1)).then(() => undefined, (e: Error) => e);
    await advanceUntil(() => statuses.some((s) => !s.writable && s.gaveUp), 1000, 200);
    const err = await submitted;
    expect(err?.name).to.equal('LogWriteOutageError');
    expect(err?.message).to.match(/not writable for 6\d s/);
    expect(calls.attempts).to.be.within(5, 20);
    const after = await engine.submit(added(2)).then(() => undefined, (e: Error) => e);
    expect(after?.name).to.equal('LogWriteOutageError');
    expect(store.lastSeq).to.equal(1);
  });

  it('given a source that errors twice then works, when attached, then it is restarted with backoff and each restart is in the log', async () => {
    const engine = await start({});
    let subscriptions = 0;
    const source$ = new Observable<ObservationDraft>((sub) => {
      subscriptions++;
      if (subscriptions <= 2) sub.error(new Error(`watch failed (${subscriptions})`));
      else sub.next(added(1));
    });
    engine.attach(source$, { name: 'apiserver' });
    await clock.advance(999);
    expect(subscriptions, 'first restart waits 1 s').to.equal(1);
    await clock.advance(1);
    expect(subscriptions).to.equal(2);
    await clock.advance(1999);
    expect(subscriptions, 'second restart waits 2 s').to.equal(2);
    await clock.advance(1);
    expect(subscriptions).to.equal(3);
    await engine.settled();
    const entries = await logged();
    expect(entries.map(brief)).to.deep.equal(['1:observation:AgentStarted', '2:observation:SourceRestarted', '3:observation:SourceRestarted', '4:observation:PodAdded', '5:decision:StartPod<4']);
    expect(entries[1].data).to.deep.equal({ source: 'apiserver', reason: 'SourceFailed', attempt: 1, delayMs: 1000, error: 'watch failed (1)' });
    expect(entries[2].data).to.deep.equal({ source: 'apiserver', reason: 'SourceFailed', attempt: 2, delayMs: 2000, error: 'watch failed (2)' });
    expect(entries[2].at).to.equal('2024-03-01T12:00:03.000Z');
  });

  it('given effects pending at stop, when the engine stops, then AgentStopping is written, no decision follows it, aborted effects stay unfinished and the next start lists them', async () => {
    // A decider that answers every failure with the same decision at once: the loop shape of the issue.
    const retrying = {
      ...lifecycleDecider,
      decide: (s: LifecycleState, e: Entry) => (e.kind === 'outcome' && e.type === 'EffectFailed' ? [{ type: 'StartPod', reason: 'Retry', data: {}, pod: e.pod }] : lifecycleDecider.decide(s, e)),
    };
    let runs = 0;
    const effects: EffectHandlers = {
      // pod 1 waits for a timer (aborted by stop); pod 2 fails at once during the stop window.
      StartPod: async (d, ctx) => {
        runs++;
        if (d.pod?.uid === 'uid-2') throw new Error('sandbox failed');
        await clock.sleep(60_000, ctx.signal);
        return [];
      },
    };
    const engine = await start(effects, { decider: retrying } as Partial<EngineOptions<LifecycleState>>);
    await engine.submit(added(1));
    const before = store.lastSeq;
    const stopping = engine.stop({ timeoutMs: 100 });
    await engine.submit(added(2)).catch(() => undefined);
    await stopping;
    const entries = (await logged()).filter((e) => e.seq > before);
    const stopAt = entries.findIndex((e) => e.type === 'AgentStopping');
    expect(stopAt).to.be.at.least(0);
    expect(entries.slice(stopAt).filter((e) => e.kind === 'decision').map(brief)).to.deep.equal([]);
    expect(entries.filter((e) => e.type === 'EffectFailed' && (e.data as { error: string }).error === 'agent stopping')).to.deep.equal([]);
    expect(runs).to.be.at.most(2);
    expect((await verifyLog(store, retrying)).ok).to.equal(true);
    engines.splice(0);
    const second = await start({ StartPod: async () => [] }, { decider: retrying } as Partial<EngineOptions<LifecycleState>>);
    const agentStarted = (await logged()).filter((e) => e.type === 'AgentStarted').pop()!;
    expect((agentStarted.data as { unfinished: Array<{ seq: number; type: string }> }).unfinished.map((u) => u.type)).to.deep.equal(['StartPod']);
    await second.stop({ timeoutMs: 50 });
    expect((await verifyLog(store, retrying)).ok).to.equal(true);
  });
});
