// Snapshots under damage and retention: replay falls back to an older snapshot when the newest
// cannot be read, and the retention byte budget counts the snapshots kept as well as the entries.
import { expect } from 'chai';
import { Level } from 'level';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { runSalvage } from '../../src/cli/commands/salvage.ts';
import { verifyLog } from '../../src/runtime/verify.ts';
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

describe('salvage of a log cut by retention', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('starts the new log at the same horizon with its snapshot, and verify replays it from there', async () => {
    const root = dirs.make();
    const store = await LogStore.open(logDir(root));
    let state = counterDecider.initialState();
    for (let i = 1; i <= 30; i++) {
      const [e] = store.stamp([add(0, i)]); // n = 0: no Milestone is ever decided, so the log is complete
      state = counterDecider.evolve(state, e);
      await store.write([e], i % 10 === 0 ? { snapshot: { state, unfinished: [] } } : {});
    }
    const cut = await store.applyRetention({ maxAgeMs: 0 }, new Date(Date.UTC(2024, 0, 1, 0, 25)));
    expect(cut.firstSeq).to.equal(21);
    await store.close();
    const out = dirs.make();
    const lines: string[] = [];
    expect(await runSalvage(root, out, (l) => void lines.push(l), (l) => void lines.push(l))).to.equal(0);
    expect(lines).to.include('nothing was lost');
    const salvaged = await LogStore.open(logDir(out), { readOnly: true });
    try {
      expect(salvaged.horizon).to.deep.equal({ firstSeq: 21, firstAt: new Date(Date.UTC(2024, 0, 1, 0, 21)).toISOString(), snapshotSeq: 20 });
      expect(salvaged.lastSeq).to.equal(30);
      const r = await replayLog<CounterState>(salvaged, counterDecider, { useSnapshot: false });
      expect(r.state).to.deep.equal(state);
      const report = await verifyLog(salvaged, counterDecider);
      expect(report.ok, JSON.stringify(report.divergence)).to.equal(true);
      expect(report.startedFromSnapshot).to.equal(20);
    } finally {
      await salvaged.close();
    }
  });
});
