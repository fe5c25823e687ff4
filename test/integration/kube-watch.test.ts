// The API-server pod source against the testbed's real kube-apiserver, with the node's
// credentials: list, watch, delete, relist after 410, resume, and an unreachable server.
import { expect } from 'chai';
import { KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import type { Subscription } from 'rxjs';
import { clientsFromKubeConfig, connect, type KubeClients } from '../../src/adapters/kube/connect.ts';
import { listNodePods, watchNodePods, type WatchHandle } from '../../src/adapters/kube/pods.ts';
import type { ObservationDraft } from '../../src/model/entry.ts';
import { systemClock } from '../../src/runtime/clock.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { testbed as sharedTestbed } from '../helpers/testbed.ts';
import { apiPods$ } from '../../src/streams/api-pods.ts';

function testbed() {
  const t = sharedTestbed();
  return { admin: t.adminKubeconfig, node: t.nodeKubeconfig, nodeName: t.nodeName };
}

/** Collects a stream's observations; `until` resolves once one matches (mocha's timeout bounds it). */
class Collector {
  readonly seen: ObservationDraft[] = [];
  private waiters: { pred: (o: ObservationDraft) => boolean; resolve: (o: ObservationDraft) => void }[] = [];
  readonly sub: Subscription;
  constructor(stream: ReturnType<typeof apiPods$>) {
    this.sub = stream.subscribe((o) => {
      this.seen.push(o);
      this.waiters = this.waiters.filter((w) => (w.pred(o) ? (w.resolve(o), false) : true));
    });
  }
  until(pred: (o: ObservationDraft) => boolean): Promise<ObservationDraft> {
    const hit = this.seen.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }
}

const suffix = () => Math.random().toString(36).slice(2, 8);
const dataOf = <T>(o: ObservationDraft) => o.data as T;

describe('api-pods source against the testbed apiserver', function () {
  this.timeout(60_000);
  const tb = testbed();
  let admin: KubeClients;
  let node: KubeClients;
  const subs: Subscription[] = [];
  const created: string[] = [];

  before(async () => {
    admin = connect(tb.admin);
    node = connect(tb.node);
    // pods bound to a node that does not exist are garbage-collected: make sure it is registered
    try {
      await admin.core.readNode({ name: tb.nodeName });
    } catch {
      await admin.core.createNode({ body: { metadata: { name: tb.nodeName } } });
    }
  });

  afterEach(() => {
    for (const s of subs.splice(0)) s.unsubscribe();
  });

  after(async () => {
    for (const name of created) {
      await admin.core.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 }).catch(() => undefined);
    }
  });

  const makePod = async (name: string) => {
    created.push(name);
    return admin.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name, labels: { test: 'kube-watch' } }, spec: { nodeName: tb.nodeName, containers: [{ name: 'main', image: 'busybox' }] } },
    });
  };

  function start(opts: Partial<Parameters<typeof apiPods$>[0]> = {}) {
    const c = new Collector(apiPods$({ clients: node, nodeName: tb.nodeName, clock: systemClock, ...opts }));
    subs.push(c.sub);
    return c;
  }

  it('lists, then reports a pod created for the node and its deletion', async () => {
    const before = await makePod(`w-before-${suffix()}`);
    const c = start();
    const relisted = await c.until((o) => o.type === 'PodsRelisted');
    const { uids, resourceVersion } = dataOf<{ uids: string[]; resourceVersion: string }>(relisted);
    expect(uids).to.include(before.metadata!.uid);
    expect(resourceVersion).to.match(/^\d+$/);
    // every pod in the relist was emitted before it, one PodObserved each
    const listed = c.seen.slice(0, c.seen.indexOf(relisted));
    expect(listed.map((o) => o.pod?.uid).sort()).to.deep.equal([...uids].sort());
    expect(listed.every((o) => (o.type === 'PodObserved' || o.type === 'PodRejected') && o.source === 'apiserver')).to.equal(true);
    expect(listed.find((o) => o.pod?.uid === before.metadata!.uid)?.type).to.equal('PodObserved');

    const pod = await makePod(`w-new-${suffix()}`);
    const uid = pod.metadata!.uid!;
    const observed = await c.until((o) => o.type === 'PodObserved' && o.pod?.uid === uid);
    expect(observed.pod).to.deep.equal({ uid, namespace: 'default', name: pod.metadata!.name });
    const data = dataOf<{ pod: { spec: { nodeName: string; containers: { image: string }[] } }; origin: string; resourceVersion: string }>(observed);
    expect(data.origin).to.equal('api');
    expect(data.pod.spec.nodeName).to.equal(tb.nodeName);
    expect(data.pod.spec.containers[0]!.image).to.equal('busybox');
    expect(Number(data.resourceVersion)).to.be.greaterThan(Number(resourceVersion));

    await admin.core.deleteNamespacedPod({ namespace: 'default', name: pod.metadata!.name!, gracePeriodSeconds: 0 });
    const deleted = await c.until((o) => o.type === 'PodDeletedFromApi' && o.pod?.uid === uid);
    expect(dataOf<{ uid: string }>(deleted).uid).to.equal(uid);
    expect(c.seen.some((o) => o.type === 'ApiServerUnreachable')).to.equal(false);
  });

  it('does not see pods bound to other nodes', async () => {
    const c = start();
    await c.until((o) => o.type === 'PodsRelisted');
    const otherName = `w-other-${suffix()}`;
    created.push(otherName);
    const other = await admin.core.createNamespacedPod({
      namespace: 'default',
      body: { metadata: { name: otherName }, spec: { nodeName: `elsewhere-${suffix()}`, containers: [{ name: 'main', image: 'busybox' }] } },
    });
    const mine = await makePod(`w-mine-${suffix()}`);
    await c.until((o) => o.type === 'PodObserved' && o.pod?.uid === mine.metadata!.uid);
    expect(c.seen.some((o) => o.pod?.uid === other.metadata!.uid)).to.equal(false);
  });

  /** Whether the server answers a watch from `rv` with 410 Gone (its first event decides). */
  const watchIsGone = (rv: string) =>
    new Promise<boolean>((resolve, reject) => {
      let handle: WatchHandle | undefined;
      let decided = false;
      const decide = (gone: boolean) => {
        if (decided) return;
        decided = true;
        handle?.stop();
        resolve(gone);
      };
      watchNodePods(node, tb.nodeName, rv, (e) => decide(e.type === 'ERROR' && e.error.kind === 'Gone'), (err) =>
        err ? (err.kind === 'Gone' ? decide(true) : reject(err)) : decide(false),
      ).then((h) => {
        handle = h;
        if (decided) h.stop();
      }, reject);
    });

  /**
   * Make resourceVersion 1 too old for the server. The watch cache keeps a bounded window of pod
   * events: once it is full, new events push the oldest out and a watch from before the window
   * gets 410. Write (bounded) annotation updates to one pod until that is so.
   */
  async function expireOldResourceVersions(): Promise<void> {
    if (await watchIsGone('1')) return;
    const churn = await makePod(`w-churn-${suffix()}`);
    for (let i = 1; i <= 4000; i++) {
      await admin.core.patchNamespacedPod(
        { namespace: 'default', name: churn.metadata!.name!, body: { metadata: { annotations: { 'ledgerlet.test/churn': String(i) } } } },
        setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
      );
      if (i % 50 === 0 && (await watchIsGone('1'))) return;
    }
    throw new Error('resourceVersion 1 is still served after 4000 pod updates');
  }

  it('relists when the watch resourceVersion is too old (410 Gone)', async function () {
    this.timeout(170_000);
    await expireOldResourceVersions();
    const pod = await makePod(`w-gone-${suffix()}`);
    const c = start({ initialResourceVersion: '1' });
    const relisted = await c.until((o) => o.type === 'PodsRelisted');
    expect(dataOf<{ uids: string[] }>(relisted).uids).to.include(pod.metadata!.uid);
    expect(c.seen.some((o) => o.type === 'ApiServerUnreachable')).to.equal(false);
    // and it keeps watching from the new list
    const next = await makePod(`w-gone2-${suffix()}`);
    await c.until((o) => o.type === 'PodObserved' && o.pod?.uid === next.metadata!.uid);
  });

  it('resumes from a resourceVersion without relisting', async () => {
    const { resourceVersion } = await listNodePods(node, tb.nodeName);
    const pod = await makePod(`w-resume-${suffix()}`);
    const c = start({ initialResourceVersion: resourceVersion });
    const observed = await c.until((o) => o.type === 'PodObserved' && o.pod?.uid === pod.metadata!.uid);
    // straight into watch events: no list, no relist (other pods' updates may come first)
    expect(c.seen[0]!.type).to.be.oneOf(['PodObserved', 'PodDeletedFromApi']);
    expect(c.seen.indexOf(observed)).to.be.at.least(0);
    expect(c.seen.some((o) => o.type === 'PodsRelisted')).to.equal(false);
  });

  it('reports an unreachable API server and backs off on the injected clock', async () => {
    const kc = new KubeConfig();
    kc.loadFromOptions({
      clusters: [{ name: 'dead', server: 'https://127.0.0.1:1', skipTLSVerify: true }],
      users: [{ name: 'nobody' }],
      contexts: [{ name: 'dead', cluster: 'dead', user: 'nobody' }],
      currentContext: 'dead',
    });
    const clock = new VirtualClock();
    const c = new Collector(apiPods$({ clients: clientsFromKubeConfig(kc), nodeName: tb.nodeName, clock }));
    subs.push(c.sub);
    const first = await c.until((o) => o.type === 'ApiServerUnreachable');
    expect(first.source).to.equal('apiserver');
    expect(first.data).to.deep.include({ attempt: 1, retryInMs: 800 });
    const err = dataOf<{ error: { kind: string; reason?: string } }>(first).error;
    expect(err.kind).to.equal('Unreachable');
    expect(err.reason).to.equal('ECONNREFUSED');
    // no retry until the virtual clock moves
    while (clock.pendingTimers === 0) await new Promise((r) => setImmediate(r));
    expect(c.seen.filter((o) => o.type === 'ApiServerUnreachable')).to.have.length(1);
    await clock.advance(800);
    const second = await c.until((o) => o.type === 'ApiServerUnreachable' && (o.data as { attempt: number }).attempt === 2);
    expect(second.data).to.deep.include({ retryInMs: 1600 });
    expect(c.seen.some((o) => o.type === 'PodsRelisted' || o.type === 'ApiServerReachable')).to.equal(false);
  });
});
