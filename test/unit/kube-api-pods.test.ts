// The pod source's state machine (list, watch, re-watch, relist on 410, backoff) driven by a
// scripted list/watch and a virtual clock. The real API server is exercised in
// test/integration/kube-watch.test.ts.
import { expect } from 'chai';
import type { Subscription } from 'rxjs';
import type { ObservationDraft } from '../../src/model/entry.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { KubeApiError } from '../../src/adapters/kube/errors.ts';
import type { PodList, WatchEvent, WatchHandle } from '../../src/adapters/kube/pods.ts';
import { apiPods$, backoffDelay, shouldReportFailure, type PodListWatch } from '../../src/streams/api-pods.ts';

const pod = (name: string, uid: string, rv: string, extra: Record<string, unknown> = {}) => ({
  apiVersion: 'v1',
  kind: 'Pod',
  metadata: { name, namespace: 'default', uid, resourceVersion: rv },
  spec: { nodeName: 'n1', containers: [{ name: 'main', image: 'busybox' }] },
  status: { phase: 'Pending' },
  ...extra,
});

interface OpenWatch {
  rv: string;
  onEvent: (e: WatchEvent) => void;
  onDone: (err?: KubeApiError) => void;
  stopped: boolean;
}

/** A scripted list/watch: lists answer from a queue, watches stay open until the test ends them. */
class ScriptedListWatch implements PodListWatch {
  lists: (PodList | KubeApiError)[] = [];
  listCalls = 0;
  watches: OpenWatch[] = [];
  watchFailures: KubeApiError[] = [];

  async list(): Promise<PodList> {
    this.listCalls++;
    const next = this.lists.shift();
    if (!next) throw new Error('unexpected list');
    if (next instanceof KubeApiError) throw next;
    return next;
  }

  async watch(rv: string, onEvent: (e: WatchEvent) => void, onDone: (err?: KubeApiError) => void): Promise<WatchHandle> {
    const w: OpenWatch = { rv, onEvent, onDone, stopped: false };
    this.watches.push(w);
    const fail = this.watchFailures.shift();
    if (fail) onDone(fail);
    return { stop: () => { w.stopped = true; } };
  }

  get current(): OpenWatch {
    const w = this.watches[this.watches.length - 1];
    if (!w) throw new Error('no watch open');
    return w;
  }
}

const settle = async () => {
  for (let i = 0; i < 20; i++) await new Promise<void>((r) => setImmediate(r));
};

const unreachable = () => new KubeApiError('Unreachable', undefined, 'ECONNREFUSED', 'connect ECONNREFUSED 127.0.0.1:6443');

describe('api-pods source (scripted list/watch, virtual clock)', () => {
  let sub: Subscription | undefined;
  afterEach(() => sub?.unsubscribe());

  function start(lw: ScriptedListWatch, clock: VirtualClock, initialResourceVersion?: string) {
    const out: ObservationDraft[] = [];
    sub = apiPods$({ nodeName: 'n1', clock, listWatch: lw, initialResourceVersion }).subscribe((o) => out.push(o));
    return out;
  }

  it('backoff doubles from 0.8 s to a 30 s cap', () => {
    expect([1, 2, 3, 4, 5, 6, 7, 8, 20].map((a) => backoffDelay(a))).to.deep.equal([
      800, 1600, 3200, 6400, 12800, 25600, 30000, 30000, 30000,
    ]);
    expect([1, 2, 3, 4, 5, 8, 9].map((a) => shouldReportFailure(a, false))).to.deep.equal([true, true, false, true, false, true, false]);
    expect(shouldReportFailure(3, true)).to.equal(true);
  });

  it('lists, emits one PodObserved per pod then PodsRelisted, and watches from the list resourceVersion', async () => {
    const lw = new ScriptedListWatch();
    lw.lists.push({ items: [pod('a', 'uid-a', '10'), pod('b', 'uid-b', '11'), { metadata: { name: 'bad', namespace: 'default', uid: 'uid-bad' }, spec: {} }], resourceVersion: '12' });
    const out = start(lw, new VirtualClock());
    await settle();
    expect(out.map((o) => o.type)).to.deep.equal(['PodObserved', 'PodObserved', 'PodRejected', 'PodsRelisted']);
    expect(out.every((o) => o.source === 'apiserver')).to.equal(true);
    expect(out[0]!.pod).to.deep.equal({ uid: 'uid-a', namespace: 'default', name: 'a' });
    expect((out[0]!.data as { resourceVersion: string; origin: string }).resourceVersion).to.equal('10');
    expect((out[0]!.data as { origin: string }).origin).to.equal('api');
    expect((out[2]!.data as { problems: string[] }).problems.join(' ')).to.contain('containers');
    expect(out[3]!.data).to.deep.equal({ resourceVersion: '12', uids: ['uid-a', 'uid-b', 'uid-bad'] });
    expect(lw.current.rv).to.equal('12');
  });

  it('maps watch events, remembers bookmarks, and re-watches from the last resourceVersion', async () => {
    const lw = new ScriptedListWatch();
    lw.lists.push({ items: [], resourceVersion: '5' });
    const out = start(lw, new VirtualClock());
    await settle();
    const w = lw.current;
    w.onEvent({ type: 'ADDED', object: pod('c', 'uid-c', '6') });
    w.onEvent({ type: 'MODIFIED', object: pod('c', 'uid-c', '7') });
    w.onEvent({ type: 'DELETED', object: pod('c', 'uid-c', '8') });
    w.onEvent({ type: 'BOOKMARK', resourceVersion: '42' });
    w.onDone();
    await settle();
    expect(out.map((o) => o.type)).to.deep.equal(['PodsRelisted', 'PodObserved', 'PodObserved', 'PodDeletedFromApi']);
    expect(out[3]!.data).to.deep.equal({ uid: 'uid-c', resourceVersion: '8' });
    expect(out[3]!.pod).to.deep.equal({ uid: 'uid-c', namespace: 'default', name: 'c' });
    expect(lw.watches.map((x) => x.rv)).to.deep.equal(['5', '42']);
    expect(lw.listCalls).to.equal(1);
  });

  it('relists on a watch ERROR with 410 Gone', async () => {
    const lw = new ScriptedListWatch();
    lw.lists.push({ items: [pod('a', 'uid-a', '3')], resourceVersion: '3' }, { items: [pod('b', 'uid-b', '90')], resourceVersion: '100' });
    const out = start(lw, new VirtualClock());
    await settle();
    lw.current.onEvent({ type: 'ERROR', error: new KubeApiError('Gone', 410, 'Expired', 'too old resource version: 3 (95)') });
    await settle();
    expect(lw.listCalls).to.equal(2);
    expect(lw.watches[0]!.stopped).to.equal(true);
    expect(lw.current.rv).to.equal('100');
    const relists = out.filter((o) => o.type === 'PodsRelisted').map((o) => o.data);
    expect(relists).to.deep.equal([{ resourceVersion: '3', uids: ['uid-a'] }, { resourceVersion: '100', uids: ['uid-b'] }]);
    expect(out.some((o) => o.type === 'ApiServerUnreachable')).to.equal(false);
  });

  it('backs off on repeated 410 Gone instead of relisting in a loop, and resets once a watch delivers', async () => {
    const lw = new ScriptedListWatch();
    const gone = () => new KubeApiError('Gone', 410, 'Expired', 'too old resource version');
    for (let i = 0; i < 6; i++) lw.lists.push({ items: [], resourceVersion: String(10 + i) });
    // Every watch answers 410 at once: the pathological server.
    lw.watchFailures.push(gone(), gone(), gone(), gone());
    const clock = new VirtualClock();
    start(lw, clock);
    await settle();
    // The first 410 relists at once (as upstream); the second waits 0.8 s, the third 1.6 s.
    expect(lw.listCalls).to.equal(2);
    expect(clock.pendingTimers).to.equal(1);
    await clock.advance(799);
    await settle();
    expect(lw.listCalls).to.equal(2);
    await clock.advance(1);
    await settle();
    expect(lw.listCalls).to.equal(3);
    await clock.advance(1599);
    await settle();
    expect(lw.listCalls).to.equal(3);
    await clock.advance(1);
    await settle();
    expect(lw.listCalls).to.equal(4);
    await clock.advance(3200);
    await settle();
    expect(lw.listCalls).to.equal(5);
    // The fifth watch stays open and delivers: the streak is over, the next 410 relists at once.
    lw.current.onEvent({ type: 'ADDED', object: pod('a', 'uid-a', '20') });
    lw.current.onEvent({ type: 'ERROR', error: gone() });
    await settle();
    expect(lw.listCalls).to.equal(6);
  });

  it('resumes from initialResourceVersion without listing, relisting only when that is gone', async () => {
    const lw = new ScriptedListWatch();
    lw.watchFailures.push(new KubeApiError('Gone', 410, 'Expired', 'too old'));
    lw.lists.push({ items: [], resourceVersion: '200' });
    const out = start(lw, new VirtualClock(), '7');
    await settle();
    expect(lw.watches.map((x) => x.rv)).to.deep.equal(['7', '200']);
    expect(lw.listCalls).to.equal(1);
    expect(out.map((o) => o.type)).to.deep.equal(['PodsRelisted']);
  });

  it('backs off with the injected clock while unreachable, reports boundedly, and says when it is back', async () => {
    const lw = new ScriptedListWatch();
    lw.lists.push(unreachable(), unreachable(), unreachable(), { items: [], resourceVersion: '1' });
    const clock = new VirtualClock();
    const out = start(lw, clock);
    await settle();
    expect(lw.listCalls).to.equal(1);
    await clock.advance(799);
    expect(lw.listCalls).to.equal(1); // still waiting out the first 800 ms
    await clock.advance(1);
    expect(lw.listCalls).to.equal(2);
    await clock.advance(1600);
    expect(lw.listCalls).to.equal(3);
    await clock.advance(3199);
    expect(lw.listCalls).to.equal(3);
    await clock.advance(1);
    await settle();
    expect(lw.listCalls).to.equal(4);
    const types = out.map((o) => o.type);
    expect(types).to.deep.equal(['ApiServerUnreachable', 'ApiServerUnreachable', 'ApiServerReachable', 'PodsRelisted']);
    expect(out[0]!.data).to.deep.include({ attempt: 1, retryInMs: 800 });
    expect(out[1]!.data).to.deep.include({ attempt: 2, retryInMs: 1600 });
    expect((out[0]!.data as { error: { kind: string; reason: string } }).error).to.deep.include({ kind: 'Unreachable', reason: 'ECONNREFUSED' });
    expect(out[2]!.data).to.deep.equal({ attempts: 3 });
  });

  it('re-watches from the last resourceVersion after a watch failure (no relist)', async () => {
    const lw = new ScriptedListWatch();
    lw.lists.push({ items: [], resourceVersion: '9' });
    const clock = new VirtualClock();
    const out = start(lw, clock);
    await settle();
    lw.current.onEvent({ type: 'ADDED', object: pod('d', 'uid-d', '10') });
    lw.current.onDone(new KubeApiError('ServerError', 503, 'ServiceUnavailable', 'etcd down'));
    await settle();
    expect(out[out.length - 1]!.type).to.equal('ApiServerUnreachable');
    await clock.advance(800);
    await settle();
    expect(lw.watches.map((x) => x.rv)).to.deep.equal(['9', '10']);
    expect(out[out.length - 1]!.type).to.equal('ApiServerReachable');
    expect(lw.listCalls).to.equal(1);
  });

  it('stops the open watch on unsubscribe', async () => {
    const lw = new ScriptedListWatch();
    lw.lists.push({ items: [], resourceVersion: '1' });
    start(lw, new VirtualClock());
    await settle();
    sub!.unsubscribe();
    expect(lw.current.stopped).to.equal(true);
  });
});
