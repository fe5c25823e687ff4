// Determinism: whatever observations arrive, replaying the log (from the start or from a snapshot)
// gives the engine's state, and verify recomputes exactly the recorded decisions. Tampered logs
// are caught at the right seq.
import { expect } from 'chai';
import fc from 'fast-check';
import { Level } from 'level';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { replayLog } from '../../src/runtime/replay.ts';
import { verifyLog } from '../../src/runtime/verify.ts';
import { canonicalJson } from '../../src/runtime/canonical.ts';
import { combineDeciders } from '../../src/reducers/combine.ts';
import { runVerify } from '../../src/cli/commands/verify.ts';
import { counterDecider, lifecycleDecider, podRef } from './helpers/test-deciders.ts';
import { tempDirs } from './helpers/temp-dir.ts';

type Op = { t: 'add'; n: number; pod?: number } | { t: 'tick'; ms: number } | { t: 'burst'; k: number };
const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ t: fc.constant('add' as const), n: fc.integer({ min: 0, max: 7 }), pod: fc.option(fc.integer({ min: 0, max: 3 }), { nil: undefined }) }),
  fc.record({ t: fc.constant('tick' as const), ms: fc.integer({ min: 0, max: 5000 }) }),
  fc.record({ t: fc.constant('burst' as const), k: fc.integer({ min: 2, max: 6 }) }),
);

/** Run a scripted sequence through a fresh engine whose Milestone effect reports an outcome. */
async function runScript(root: string, ops: Op[], snapshotEvery: number) {
  const store = await LogStore.open(logDir(root));
  const clock = new VirtualClock();
  const engine = await Engine.start({
    store, decider: counterDecider, clock, snapshotEvery,
    effects: { Milestone: async () => [{ type: 'MilestoneRecorded', data: {} }] },
  });
  for (const o of ops) {
    if (o.t === 'tick') await clock.advance(o.ms);
    else if (o.t === 'add') await engine.submit({ type: 'Add', source: 'test', data: { n: o.n }, ...(o.pod !== undefined ? { pod: podRef(o.pod) } : {}) });
    else await Promise.all(Array.from({ length: o.k }, (_, i) => engine.submit({ type: 'Add', source: 'test', data: { n: i + 3 } })));
  }
  await engine.settled();
  await engine.stop();
  return { store, engine };
}

async function tamper(root: string, seq: number, mutate: (raw: Record<string, unknown>) => Record<string, unknown> | undefined) {
  const db = new Level<string, string>(logDir(root));
  const log = db.sublevel<string, string>('log', { valueEncoding: 'utf8' });
  const key = String(seq).padStart(16, '0');
  const next = mutate(JSON.parse((await log.get(key))!));
  if (next) await log.put(key, JSON.stringify(next));
  else await log.del(key);
  await db.close();
}

describe('replay and verify', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('property: any observation sequence replays (fully and from snapshots) to the engine state, and verify agrees', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(op, { maxLength: 40 }), fc.integer({ min: 2, max: 15 }), async (ops, every) => {
        const { store, engine } = await runScript(dirs.make(), ops, every);
        try {
          const full = await replayLog(store, counterDecider, { useSnapshot: false });
          const snap = await replayLog(store, counterDecider, { useSnapshot: true });
          expect(canonicalJson(full.state)).to.equal(canonicalJson(engine.state()));
          expect(canonicalJson(snap.state)).to.equal(canonicalJson(full.state));
          expect(full.problems).to.deep.equal([]);
          const report = await verifyLog(store, counterDecider);
          expect(report.divergence).to.equal(undefined);
          expect(report.entries).to.equal(store.lastSeq);
        } finally {
          await store.close();
        }
      }),
      { numRuns: 25 },
    );
  });

  describe('given a verified log', () => {
    let root: string;
    beforeEach(async () => {
      root = dirs.make();
      const ops = Array.from({ length: 12 }, (_, i) => ({ t: 'add' as const, n: 4, pod: i % 2 }));
      const { store } = await runScript(root, ops, 5);
      const report = await verifyLog(store, counterDecider);
      expect(report.ok).to.equal(true);
      expect(report.snapshotsChecked).to.be.greaterThan(1);
      await store.close();
    });
    const decisionSeq = async () => {
      const store = await LogStore.open(logDir(root));
      let seq = -1;
      for await (const r of store.readRange()) if (r.ok && r.entry.kind === 'decision' && seq < 0) seq = r.entry.seq;
      await store.close();
      return seq;
    };
    const verifyAgain = async () => {
      const store = await LogStore.open(logDir(root));
      try {
        return await verifyLog(store, counterDecider);
      } finally {
        await store.close();
      }
    };

    it('when a recorded decision is altered, then verify names its seq', async () => {
      const seq = await decisionSeq();
      await tamper(root, seq, (e) => ({ ...e, reason: 'SomethingElse' }));
      const r = await verifyAgain();
      expect(r.ok).to.equal(false);
      expect(r.divergence?.seq).to.equal(seq);
      expect(r.divergence?.reason).to.match(/differs from replay/);
    });

    it('when an observation changes what replay decides, then verify names the first divergent seq', async () => {
      await tamper(root, 3, (e) => ({ ...e, data: { n: 100 } }));
      const r = await verifyAgain();
      expect(r.divergence?.seq).to.equal(4);
      expect(r.divergence?.reason).to.match(/replay decides Milestone .* on seq 3/);
    });

    it('when an entry is deleted, then verify reports the gap at that seq', async () => {
      await tamper(root, 5, () => undefined);
      const r = await verifyAgain();
      expect(r.divergence?.seq).to.equal(5);
      expect(r.divergence?.reason).to.match(/seq 5 is missing/);
    });

    it('when an entry is unreadable, then verify reports it by seq instead of crashing', async () => {
      await tamper(root, 6, (e) => ({ ...e, kind: 'rumour' }));
      const r = await verifyAgain();
      expect(r.divergence).to.deep.include({ seq: 6 });
      expect(r.divergence?.reason).to.match(/cannot be read: .*kind/);
    });

    it('when the CLI verifies an intact log, then it exits 0 and prints counts', async () => {
      const lines: string[] = [];
      const code = await runVerify(root, false, async () => counterDecider as never, (l) => lines.push(l));
      expect(code).to.equal(0);
      expect(lines[0]).to.match(/^verified \d+ entries from seq 1: \d+ observations, \d+ decisions, \d+ outcomes; \d+ snapshots$/);
    });

    it('when the CLI verifies a tampered log, then it exits 1 naming the seq', async () => {
      const seq = await decisionSeq();
      await tamper(root, seq, (e) => ({ ...e, data: { total: -1 } }));
      const lines: string[] = [];
      const code = await runVerify(root, false, async () => counterDecider as never, (l) => lines.push(l));
      expect(code).to.equal(1);
      expect(lines.join('\n')).to.contain(`DIVERGED at seq ${seq}`);
    });

    it('when retention removed the oldest entries, then verify starts from the horizon snapshot and still matches', async () => {
      const store = await LogStore.open(logDir(root));
      const r = await store.applyRetention({ maxBytes: 1 }, new Date('2030-01-01T00:00:00Z'));
      expect(r.firstSeq).to.be.greaterThan(1);
      const report = await verifyLog(store, counterDecider);
      await store.close();
      expect(report.ok).to.equal(true);
      expect(report.startedFromSnapshot).to.equal(r.snapshotSeq);
    });
  });

  it('given a root dir with no log, when the CLI verifies, then it exits 1 with a readable message', async () => {
    const lines: string[] = [];
    const code = await runVerify(dirs.make(), false, async () => counterDecider as never, (l) => lines.push(l));
    expect(code).to.equal(1);
    expect(lines[0]).to.match(/^verify: (no log|cannot open)/);
  });

  it('given combined deciders, when folding, then each module sees every entry and decisions come in key order', () => {
    const both = combineDeciders({ lifecycle: lifecycleDecider, counter: counterDecider });
    const entry = { v: 1, seq: 1, at: '2024-01-01T00:00:00.000Z', kind: 'observation' as const, type: 'Add', source: 't', data: { n: 12 } };
    const s0 = both.initialState();
    const s1 = both.evolve(s0, entry);
    expect(s1.lifecycle).to.equal(s0.lifecycle);
    expect(s1.counter.total).to.equal(12);
    const added = { ...entry, seq: 2, type: 'PodAdded', pod: podRef(1) };
    const s2 = both.evolve(s1, added);
    expect(both.decide(s2, added).map((d) => d.type)).to.deep.equal(['StartPod']);
    expect(both.evolve(s2, { ...entry, type: 'Unknown' })).to.equal(s2);
  });
});
