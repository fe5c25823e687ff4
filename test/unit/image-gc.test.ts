// The image garbage collector's decider: the whole list of decisions for given observations.
import { expect } from 'chai';
import type { Entry } from '../../src/model/entry.ts';
import type { ImagesObserved } from '../../src/model/image-gc.ts';
import { imagesDecider, type ImagesState } from '../../src/reducers/images/index.ts';

const MB = 1_000_000;
const policy = { highThresholdPercent: 85, lowThresholdPercent: 80, minimumAgeMs: 120_000, maximumAgeMs: 0 };
let seq = 0;
const at = (s: number) => new Date(Date.UTC(2026, 0, 1) + s * 1000).toISOString();
const obs = (type: string, data: unknown, s: number): Entry => ({ v: 1, seq: ++seq, at: at(s), kind: 'observation', type, source: 'test', data } as Entry);
const img = (id: string, size: number, pinned = false) => ({ id, repoTags: [`reg/${id}:1`], size, pinned });
const fs = (usedPct: number) => ({ capacityBytes: 1000 * MB, availableBytes: (100 - usedPct) * 10 * MB });

/** Fold entries through evolve; return the decisions for the last one (decisions folded too). */
function run(inputs: Entry[]): { state: ImagesState; decisions: ReturnType<typeof imagesDecider.decide> } {
  let s = imagesDecider.initialState();
  let decisions: ReturnType<typeof imagesDecider.decide> = [];
  for (const e of inputs) {
    s = imagesDecider.evolve(s, e);
    decisions = imagesDecider.decide(s, e);
    for (const d of decisions) s = imagesDecider.evolve(s, { v: 1, seq: ++seq, at: e.at, kind: 'decision', source: 'reducer', cause: e.seq, ...d } as Entry);
  }
  return { state: s, decisions };
}
const observed = (s: number, d: Partial<ImagesObserved> & Pick<ImagesObserved, 'images' | 'imageFs'>) => obs('ImagesObserved', { inUse: [], policy, ...d }, s);
const ids = (ds: ReturnType<typeof imagesDecider.decide>) => ds.map((d) => `${d.reason}:${(d.data as { image: { id: string } }).image.id}`);

describe('image garbage collection decider', () => {
  const images = [img('a', 50 * MB), img('b', 30 * MB), img('c', 40 * MB), img('pause', 1 * MB), img('pinned', 90 * MB, true)];

  it('given usage below the high threshold, then nothing is removed', () => {
    const { decisions } = run([obs('AgentStarted', {}, 0), observed(0, { images, imageFs: fs(50) }), observed(600, { images, imageFs: fs(84) })]);
    expect(decisions).to.deep.equal([]);
  });

  it('given usage at the high threshold, then unused images go least recently used first until the low threshold, keeping used, pinned and sandbox images', () => {
    const { decisions } = run([
      obs('AgentStarted', {}, 0),
      // c used at first, then no longer: its last use is t=300; a and b were never used.
      observed(0, { images, inUse: ['c'], sandboxImage: 'pause', imageFs: fs(50) }),
      observed(300, { images, inUse: [], sandboxImage: 'pause', imageFs: fs(50) }),
      // 88 % used: to get to 80 % frees 80 MB; b (never used, 30) + a (never used, 50) suffice; c stays.
      observed(600, { images, inUse: [], sandboxImage: 'pause', imageFs: fs(88) }),
    ]);
    expect(ids(decisions)).to.deep.equal(['ImageFsAboveHighThreshold:a', 'ImageFsAboveHighThreshold:b']);
    expect(decisions[0].data).to.deep.equal({
      image: { id: 'a', repoTags: ['reg/a:1'], size: 50 * MB, firstDetected: at(0) },
      imageFs: fs(88), usagePercent: 88, highThresholdPercent: 85, lowThresholdPercent: 80, bytesToFree: 80 * MB, freedBefore: 0,
    });
    expect((decisions[1].data as { freedBefore: number }).freedBefore).to.equal(50 * MB);
  });

  it('given more to free than the unused images hold, then every unused image old enough goes and the in-use one stays', () => {
    const { decisions } = run([
      obs('AgentStarted', {}, 0),
      observed(0, { images: [img('old', 10 * MB), img('used', 10 * MB), img('pause', MB)], inUse: ['used'], sandboxImage: 'pause', imageFs: fs(20) }),
      observed(100, { images: [img('old', 10 * MB), img('used', 10 * MB), img('pause', MB), img('new', 10 * MB)], inUse: ['used'], sandboxImage: 'pause', imageFs: fs(99) }),
    ]);
    // 'new' was first detected 100 s ago, under imageMinimumGCAge (2m); 'old' only 100 s too.
    expect(ids(decisions)).to.deep.equal([]);
    const later = run([
      obs('AgentStarted', {}, 0),
      observed(0, { images: [img('old', 10 * MB), img('used', 10 * MB), img('pause', MB)], inUse: ['used'], sandboxImage: 'pause', imageFs: fs(20) }),
      observed(100, { images: [img('old', 10 * MB), img('used', 10 * MB), img('pause', MB), img('new', 10 * MB)], inUse: ['used'], sandboxImage: 'pause', imageFs: fs(20) }),
      observed(200, { images: [img('old', 10 * MB), img('used', 10 * MB), img('pause', MB), img('new', 10 * MB)], inUse: ['used'], sandboxImage: 'pause', imageFs: fs(99) }),
    ]);
    expect(ids(later.decisions)).to.deep.equal(['ImageFsAboveHighThreshold:old']);
  });

  it('given removals in flight, then the next observation decides nothing until they are answered', () => {
    const inputs = [obs('AgentStarted', {}, 0), observed(0, { images, imageFs: fs(50) }), observed(600, { images, imageFs: fs(99) })];
    const first = run(inputs);
    expect(first.decisions.length).to.be.greaterThan(0);
    const again = run([...inputs, observed(900, { images, imageFs: fs(99) })]);
    expect(again.decisions).to.deep.equal([]);
  });

  it('given an image removed (outcome) then the record is gone; a failed removal is decided again at the next observation', () => {
    let s = imagesDecider.initialState();
    const e1 = obs('AgentStarted', {}, 0);
    const e2 = observed(0, { images: [img('x', 10 * MB)], imageFs: fs(50) });
    const e3 = observed(600, { images: [img('x', 10 * MB)], imageFs: fs(99) });
    for (const e of [e1, e2, e3]) s = imagesDecider.evolve(s, e);
    const [d] = imagesDecider.decide(s, e3);
    const decision = { v: 1, seq: 100, at: at(600), kind: 'decision', source: 'reducer', cause: e3.seq, ...d } as Entry;
    s = imagesDecider.evolve(s, decision);
    expect(s.pending).to.deep.equal({ x: 100 });
    const failed = { v: 1, seq: 101, at: at(601), kind: 'outcome', type: 'ImageRemoveFailed', source: 'effect', cause: 100, data: { id: 'x', error: 'busy' } } as Entry;
    s = imagesDecider.evolve(s, failed);
    expect(s.pending).to.deep.equal({});
    const e4 = observed(900, { images: [img('x', 10 * MB)], imageFs: fs(99) });
    s = imagesDecider.evolve(s, e4);
    expect(ids(imagesDecider.decide(s, e4))).to.deep.equal(['ImageFsAboveHighThreshold:x']);
    s = imagesDecider.evolve(s, { ...decision, seq: 102, cause: e4.seq });
    s = imagesDecider.evolve(s, { ...failed, seq: 103, type: 'ImageRemoved', cause: 102, data: { id: 'x' } } as Entry);
    expect(s.records).to.deep.equal({});
  });

  it('given imageMaximumGCAge, then images unused for longer go whatever the disk, once the agent has run that long', () => {
    const p = { ...policy, maximumAgeMs: 3_600_000 };
    const list = [img('stale', MB), img('fresh', MB), img('used', MB)];
    const base = [obs('AgentStarted', {}, 0), observed(0, { images: list, inUse: ['fresh', 'used'], imageFs: fs(10), policy: p }), observed(3000, { images: list, inUse: ['used'], imageFs: fs(10), policy: p })];
    // At 3000 s the agent has not run an hour yet.
    expect(run(base).decisions).to.deep.equal([]);
    // stale: never used, detected at 0 → 4000 s old; fresh: last used at 3000 s.
    const { decisions } = run([...base, observed(4000, { images: list, inUse: ['used'], imageFs: fs(10), policy: p })]);
    expect(ids(decisions)).to.deep.equal(['ImageUnusedBeyondMaximumAge:stale']);
    expect(decisions[0].data).to.deep.include({ maximumAgeMs: 3_600_000, usagePercent: 10 });
  });

  it('given a disk eviction threshold met, then every unused image old enough is removed first (DiskPressure), memory pressure removes none', () => {
    const base = [obs('AgentStarted', {}, 0), observed(0, { images, inUse: ['c'], sandboxImage: 'pause', imageFs: fs(50) })];
    const signals = (signal: string, available: number) => obs('EvictionSignalsObserved', {
      observed: { [signal]: { available, capacity: 1000 * MB } }, thresholds: [{ signal, value: '10%' }], transitionMs: 300_000,
    }, 600);
    const disk = run([...base, signals('imagefs.available', 50 * MB)]);
    expect(ids(disk.decisions)).to.deep.equal(['DiskPressure:a', 'DiskPressure:b']);
    expect(disk.decisions[0].data).to.deep.include({ signal: 'imagefs.available', threshold: '10%', usagePercent: 95 });
    expect(run([...base, signals('memory.available', 50 * MB)]).decisions).to.deep.equal([]);
    expect(run([...base, signals('imagefs.available', 500 * MB)]).decisions).to.deep.equal([]);
  });

  it('given hostile payloads, then nothing is recorded or decided', () => {
    const { state, decisions } = run([obs('AgentStarted', {}, 0), obs('ImagesObserved', { images: 'all', inUse: [] }, 1), obs('EvictionSignalsObserved', { observed: 3 }, 2)]);
    expect(state.records).to.deep.equal({});
    expect(decisions).to.deep.equal([]);
  });
});
