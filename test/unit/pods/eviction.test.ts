// Eviction under node pressure, given/when/then over the real reducers: thresholds, the pressure
// conditions with their transition period, one eviction at a time ranked as upstream, the evicted
// pod's Failed status, and admission refusing pods while pressure lasts.
import { expect } from 'chai';
import { metThresholds, parseThresholds, pressureInForce, thresholdQuantity, evictionMessage } from '../../../src/model/eviction.ts';
import { containerExited, only, podManifest, readyNode, refFor, runPod, types, type Scenario } from './scenario.ts';

const GiB = 2 ** 30;
const thresholds = [{ signal: 'memory.available' as const, value: '1Gi' }, { signal: 'nodefs.available' as const, value: '10%' }];
const signals = (memoryAvailable: number, pods?: Record<string, { memoryBytes: number; diskBytes: number }>) => ({
  observed: { 'memory.available': { available: memoryAvailable, capacity: 8 * GiB }, 'nodefs.available': { available: 50 * GiB, capacity: 100 * GiB } },
  thresholds,
  transitionMs: 300_000,
  ...(pods ? { pods } : {}),
});
const condition = (s: Scenario, type: string) => s.state.node.conditions.find((c) => c.type === type);

describe('eviction thresholds (model)', () => {
  it('given quantities and percentages, when compared with what is available, then only those above it are met', () => {
    expect(thresholdQuantity('100Mi', 0)).to.equal(100 * 2 ** 20);
    expect(thresholdQuantity('10%', 1000)).to.equal(100);
    expect(thresholdQuantity('110%', 1000)).to.equal(undefined);
    expect(metThresholds(thresholds, signals(512 * 2 ** 20).observed).map((m) => m.signal)).to.deep.equal(['memory.available']);
    expect(metThresholds(thresholds, signals(2 * GiB).observed)).to.deep.equal([]);
    expect(metThresholds([{ signal: 'memory.available', value: '0%' }], signals(0).observed)).to.deep.equal([]);
  });

  it('given evictionHard with an unknown signal or a bad value, when parsed, then each is named', () => {
    const r = parseThresholds({ 'memory.available': '100Mi', 'cpu.available': '1', 'nodefs.available': 'lots' });
    expect(r.thresholds).to.deep.equal([{ signal: 'memory.available', value: '100Mi' }]);
    expect(r.errors).to.have.length(2);
    expect(r.errors.join(' ')).to.match(/cpu\.available/).and.to.match(/nodefs\.available/);
  });

  it('given a condition last met 4 minutes ago, then it is still in force; at 5 minutes it is not', () => {
    const at = Date.parse('2026-11-23T10:05:00.000Z');
    expect(pressureInForce({ MemoryPressure: '2026-11-23T10:01:00.000Z' }, at, 300_000)).to.deep.equal(['MemoryPressure']);
    expect(pressureInForce({ MemoryPressure: '2026-11-23T10:00:00.000Z' }, at, 300_000)).to.deep.equal([]);
  });

  it('formats the eviction message as upstream', () => {
    expect(evictionMessage({ signal: 'memory.available', threshold: '100Mi', quantity: 100 * 2 ** 20, available: 50 * 2 ** 20 })).to.equal('The node was low on resource: memory. Threshold quantity: 100Mi, available: 51200Ki. ');
  });
});

function staticPod(s: Scenario, uid: string): void {
  s.observe('PodObserved', { pod: podManifest(uid), origin: 'file', file: `/etc/kubernetes/manifests/${uid}.yaml` }, refFor(uid), 'static-pods');
}

describe('eviction (reducers)', () => {
  function nodeWithPods(): Scenario {
    const s = readyNode();
    s.observe('NodeRegistered', {});
    runPod(s, 'be');
    runPod(s, 'guaranteed', podManifest('guaranteed', {}, { containers: [{ name: 'app', image: 'busybox:1', command: ['sleep', '1'], resources: { requests: { memory: '2Gi', cpu: '1' }, limits: { memory: '2Gi', cpu: '1' } } }] }));
    staticPod(s, 'static');
    return s;
  }

  it('given memory below its threshold, then MemoryPressure turns True and the BestEffort pod using most is evicted at once, with no grace', () => {
    const s = nodeWithPods();
    const ds = s.observe('EvictionSignalsObserved', signals(512 * 2 ** 20, { be: { memoryBytes: 100 * 2 ** 20, diskBytes: 0 }, guaranteed: { memoryBytes: 1 * GiB, diskBytes: 0 } }), undefined, 'eviction');
    expect(condition(s, 'MemoryPressure')).to.include({ status: 'True', reason: 'KubeletHasInsufficientMemory' });
    expect(condition(s, 'DiskPressure')?.status).to.equal('False');
    const ev = only(ds, 'PodEvicted');
    expect(ev.pod?.uid).to.equal('be');
    expect(ev.reason).to.equal('EvictionThresholdMet');
    const kill = only(ds, 'ContainerKilled');
    expect(kill.pod?.uid).to.equal('be');
    expect(kill.reason).to.equal('Evicted');
    expect(kill.data).to.have.property('gracePeriodSeconds', 0);
    const st = s.pod('be').lastStatus!;
    expect(st.phase).to.equal('Failed');
    expect(st.reason).to.equal('Evicted');
    expect(st.message).to.match(/^The node was low on resource: memory\./);
  });

  it('given an eviction still stopping, then no second pod is evicted; once it has stopped, the next one is', () => {
    const s = nodeWithPods();
    s.observe('EvictionSignalsObserved', signals(512 * 2 ** 20), undefined, 'eviction');
    expect(types(s.observe('EvictionSignalsObserved', signals(512 * 2 ** 20), undefined, 'eviction'))).to.not.include('PodEvicted');
    // The evicted pod's container and sandbox stop.
    containerExited(s, 'be', 'app', 137);
    s.observe('PodSandboxStateChanged', { sandbox: { id: 'sb-be', podUid: 'be', attempt: 0, state: 'notready' } }, refFor('be'), 'pleg');
    const next = only(s.observe('EvictionSignalsObserved', signals(512 * 2 ** 20), undefined, 'eviction'), 'PodEvicted');
    expect(next.pod?.uid).to.equal('guaranteed');
  });

  it('static pods are never evicted', () => {
    const s = readyNode();
    staticPod(s, 'static');
    expect(types(s.observe('EvictionSignalsObserved', signals(0), undefined, 'eviction'))).to.not.include('PodEvicted');
  });

  it('under memory pressure a new BestEffort pod is refused and a Guaranteed one admitted; after the transition period both are', () => {
    const s = nodeWithPods();
    s.observe('EvictionSignalsObserved', signals(512 * 2 ** 20), undefined, 'eviction');
    s.observe('PodObserved', { pod: podManifest('late-be'), origin: 'api' }, refFor('late-be'));
    expect(s.pod('late-be').rejected).to.deep.equal({ reason: 'Evicted', message: 'The node had condition: [MemoryPressure]. ' });
    s.observe('PodObserved', { pod: podManifest('late-g', {}, { containers: [{ name: 'app', image: 'b:1', resources: { requests: { memory: '1Mi', cpu: '1m' }, limits: { memory: '1Mi', cpu: '1m' } } }] }), origin: 'api' }, refFor('late-g'));
    expect(s.pod('late-g').rejected).to.equal(undefined);
    // Signals recover; the condition holds for evictionPressureTransitionPeriod, then lifts.
    s.at(60);
    s.observe('EvictionSignalsObserved', signals(4 * GiB), undefined, 'eviction');
    expect(condition(s, 'MemoryPressure')?.status).to.equal('True');
    s.at(301);
    s.observe('EvictionSignalsObserved', signals(4 * GiB), undefined, 'eviction');
    expect(condition(s, 'MemoryPressure')).to.include({ status: 'False', reason: 'KubeletHasSufficientMemory' });
    s.observe('PodObserved', { pod: podManifest('later-be'), origin: 'api' }, refFor('later-be'));
    expect(s.pod('later-be').rejected).to.equal(undefined);
  });
});

describe('disk pressure: images first, then pods (reducers combined)', () => {
  const disk = (available: number) => ({
    observed: { 'memory.available': { available: 4 * GiB, capacity: 8 * GiB }, 'nodefs.available': { available, capacity: 100 * GiB } },
    thresholds, transitionMs: 300_000, pods: { be: { memoryBytes: 0, diskBytes: GiB } },
  });

  it('given nodefs below its threshold and an unused image, then the first round removes the image and evicts nobody; the next round evicts', () => {
    const s = readyNode();
    s.observe('NodeRegistered', {});
    runPod(s, 'be');
    s.observe('ImagesObserved', {
      images: [{ id: 'sha256:unused', repoTags: ['reg/unused:1'], size: GiB, pinned: false }, { id: 'sha256:busybox', repoTags: ['busybox:1'], size: GiB, pinned: false }],
      inUse: ['sha256:busybox'], imageFs: { availableBytes: 50 * GiB, capacityBytes: 100 * GiB },
      policy: { highThresholdPercent: 85, lowThresholdPercent: 80, minimumAgeMs: 0, maximumAgeMs: 0 },
    }, undefined, 'image-gc');
    const first = s.observe('EvictionSignalsObserved', disk(5 * GiB), undefined, 'eviction');
    expect(types(first)).to.not.include('PodEvicted');
    const removal = only(first, 'ImageRemoveRequested');
    expect(removal.reason).to.equal('DiskPressure');
    expect(removal.data).to.deep.include({ signal: 'nodefs.available', threshold: '10%', usagePercent: 95 });
    expect(removal.data).to.have.nested.property('image.id', 'sha256:unused');
    s.outcome(removal, 'ImageRemoved', { id: 'sha256:unused' });
    const second = s.observe('EvictionSignalsObserved', disk(5 * GiB), undefined, 'eviction');
    expect(only(second, 'PodEvicted').pod?.uid).to.equal('be');
    expect(types(second)).to.not.include('ImageRemoveRequested');
  });
});
