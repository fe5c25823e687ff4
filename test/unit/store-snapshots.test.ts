// Snapshots under damage and retention: replay falls back to an older snapshot when the newest
// cannot be read, and the retention byte budget counts the snapshots kept as well as the entries.
import { expect } from 'chai';
import { Level } from 'level';
import { LogStore } from '../../src/adapters/store/index.ts';
import { snapshotBodyKey } from '../../src/adapters/store/keys.ts';
import type { AppendDraft } from '../../src/model/entry.ts';
import { replayLog } from '../../src/runtime/replay.ts';
import { counterDecider, type CounterState } from './helpers/test-deciders.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const add = (n: number, m: number): AppendDraft => ({ kind: 'observation', type: 'Add', source: 'test', data: { n }, at: new Date(Date.UTC(2024, 0, 1, 0, m)).toISOString() });

describe('snapshots: fallback on damage, and the retention byte budget', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('when the newest snapshot is unreadable, replay starts from the next older one and reaches the same state', async () => {
    const dir = dirs.make();
    let store = await LogStore.open(dir);
    let state = counterDecider.initialState();
    for (let i = 1; i <= 30; i++) {
      const [e] = store.stamp([add(i, i)]);
      state = counterDecider.evolve(state, e);
      await store.write([e], i % 10 === 0 ? { snapshot: { state, unfinished: [] } } : {});
    }
    await store.close();
    // Garble the newest snapshot's body (seq 30) and the one before it (seq 20) in place.
    const db = new Level<string, string>(dir);
    const snaps = db.sublevel<string, string>('snapshots', { valueEncoding: 'utf8' });
    await snaps.put(snapshotBodyKey(30), '{"v":1,"seq":30,"state":{"tot');
    await snaps.put(snapshotBodyKey(20), 'not json');
    await db.close();
    store = await LogStore.open(dir);
    try {
      const r = await replayLog<CounterState>(store, counterDecider, { useSnapshot: true });
      expect(r.snapshotSeq).to.equal(10);
      expect(r.folded).to.equal(20);
      expect(r.state).to.deep.equal(state);
      expect(r.problems.map((p) => p.seq)).to.deep.equal([30, 20]);
      expect(r.problems[0].error).to.match(/snapshot unreadable/);
    } finally {
      await store.close();
    }
  });

  it('retention by size counts the snapshots it keeps: big snapshots push the cut later than entries alone would', async () => {
    const store = await LogStore.open(dirs.make());
    try {
      const big = 'x'.repeat(2000);
      for (let i = 0; i < 20; i++) {
        await store.write(store.stamp([add(i, i)]), i % 5 === 4 ? { snapshot: { state: { i, big }, unfinished: [] } } : {});
      }
      const perEntry = store.totalBytes / 20;
      const heads = await store.listSnapshots();
      expect(heads.map((h) => h.seq)).to.deep.equal([5, 10, 15, 20]);
      const snap = heads[0].stateBytes;
      expect(snap).to.be.greaterThan(2000);
      // Room for 12 entries plus two snapshots. Counting entries alone, cutting at 5 (15 left) would
      // fit; with the snapshots kept (four from 5 on, three from 10 on) only the cut at 15 does.
      const budget = Math.ceil(perEntry * 12 + snap * 2 + 10);
      const r = await store.applyRetention({ maxBytes: budget }, new Date(Date.UTC(2024, 0, 2)));
      expect(r.snapshotSeq).to.equal(15);
      expect(r.firstSeq).to.equal(16);
      expect((await store.listSnapshots()).map((h) => h.seq)).to.deep.equal([15, 20]);
    } finally {
      await store.close();
    }
  });
});
