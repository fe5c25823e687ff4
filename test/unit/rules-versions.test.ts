// Versioned rules: each stretch of the log (from one AgentStarted to the next) is refolded and
// verified with the rules version that wrote it, snapshots carry the version, and a log written by
// newer rules is refused by name rather than reported as corrupt.
import { expect } from 'chai';
import { LogStore } from '../../src/adapters/store/index.ts';
import type { Entry } from '../../src/model/entry.ts';
import type { Decider } from '../../src/reducers/decider.ts';
import { makeRules, rules, rulesFor, versionedDecider, withRules } from '../../src/reducers/rules.ts';
import { FIRST_RULES_VERSION, RULE_CHANGES, RULES_VERSION } from '../../src/reducers/rules-version.ts';
import { nodeDecider } from '../../src/reducers/index.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { replayLog } from '../../src/runtime/replay.ts';
import { verifyLog } from '../../src/runtime/verify.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { tempDirs } from './helpers/temp-dir.ts';

interface Tally { pings: number; weight: number }

/** Rules version 2 changed both how a Ping weighs (evolve) and what it answers (decide). */
const tally: Decider<Tally> = {
  initialState: () => ({ pings: 0, weight: 0 }),
  evolve: (s, e) => (e.type === 'Ping' ? { pings: s.pings + 1, weight: s.weight + (rules().version >= 2 ? 10 : 1) } : s),
  decide: (s, e) => (e.type === 'Ping' ? [{ type: 'Pong', reason: rules().version >= 2 ? 'PingV2' : 'Ping', data: { n: s.pings } }] : []),
};
const testRules = (v: number) => makeRules(v, {}, 2);
const tallyUnder = (version: number, current: number) => versionedDecider(tally, version, { current, rulesOf: (v) => makeRules(v, {}, current) });

describe('versioned rules', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('the registry: a change is in force from its version on, an unknown change or a future version is an error', () => {
    const table = { 'probe-jitter': { since: 3, what: 'x' } };
    expect(makeRules(2, table, 3).has('probe-jitter' as never)).to.equal(false);
    expect(makeRules(3, table, 3).has('probe-jitter' as never)).to.equal(true);
    expect(() => makeRules(3, table, 3).has('probe-jiter' as never)).to.throw(/unknown rule change 'probe-jiter'/);
    expect(() => makeRules(4, table, 3)).to.throw(/newer than this ledgerlet's \(3\)/);
    expect(() => makeRules(0, table, 3)).to.throw(/does not exist/);
    expect(rulesFor(RULES_VERSION).version).to.equal(RULES_VERSION);
  });

  it('rules-version.ts is consistent: every change names a version between the first and the current one, and the current one is used', () => {
    const sinces = Object.values(RULE_CHANGES as Record<string, { since: number }>).map((c) => c.since);
    for (const s of sinces) expect(s).to.be.within(FIRST_RULES_VERSION + 1, RULES_VERSION);
    // Every version after the first exists because some change needed it.
    for (let v = FIRST_RULES_VERSION + 1; v <= RULES_VERSION; v++) expect(sinces, `no change introduces rules version ${v}`).to.include(v);
    expect(nodeDecider.rules?.version).to.equal(RULES_VERSION);
  });

  it('the active rules are set for a call and restored after it, also when the reducer throws', () => {
    expect(rules().version).to.equal(RULES_VERSION);
    expect(() => withRules(testRules(1), () => { throw new Error('boom'); })).to.throw('boom');
    expect(withRules(testRules(1), () => rules().version)).to.equal(1);
    expect(rules().version).to.equal(RULES_VERSION);
  });

  async function twoAgentRuns(dir: string, opts: { snapshotEvery?: number } = {}) {
    const clock = new VirtualClock('2026-12-01T10:00:00.000Z');
    const store = await LogStore.open(dir);
    for (const version of [1, 2]) {
      const engine = await Engine.start({ store, decider: tallyUnder(version, version), effects: {}, clock, snapshotEvery: opts.snapshotEvery });
      for (let i = 0; i < 3; i++) await engine.submit({ type: 'Ping', source: 'test', data: {} });
      await engine.settled();
      await engine.stop({ timeoutMs: 50 });
      clock.advance(1000);
    }
    return store;
  }

  it('given a log written by rules 1 then rules 2, AgentStarted records each version and verify checks each stretch with its own rules', async () => {
    const store = await twoAgentRuns(dirs.make());
    try {
      const all: Entry[] = [];
      for await (const r of store.readRange()) if (r.ok) all.push(r.entry);
      const started = all.filter((e) => e.type === 'AgentStarted').map((e) => (e.data as { rulesVersion?: number }).rulesVersion);
      expect(started).to.deep.equal([1, 2]);
      expect(all.filter((e) => e.type === 'Pong').map((e) => e.reason)).to.deep.equal(['Ping', 'Ping', 'Ping', 'PingV2', 'PingV2', 'PingV2']);

      const report = await verifyLog(store, tallyUnder(2, 2));
      expect(report.divergence, JSON.stringify(report.divergence)).to.equal(undefined);
      expect(report.rules).to.deep.equal([{ fromSeq: 1, version: 1 }, { fromSeq: all.find((e) => (e.data as { rulesVersion?: number }).rulesVersion === 2)!.seq, version: 2 }]);
      // Replay folds the first stretch with the old evolve: 3 × 1 + 3 × 10.
      expect((await replayLog(store, tallyUnder(2, 2), { useSnapshot: false })).state).to.deep.equal({ pings: 6, weight: 33 });
      // A ledgerlet that only knows rules 1 names the stretch it cannot check instead of calling it corrupt.
      const old = await verifyLog(store, tallyUnder(1, 1));
      expect(old.ok).to.equal(false);
      expect(old.divergence?.reason).to.match(/rules version 2, newer than this ledgerlet's \(1\)/);
    } finally {
      await store.close();
    }
  });

  it('given snapshots, each records the rules version in force, and replay from one folds on with those rules', async () => {
    const store = await twoAgentRuns(dirs.make(), { snapshotEvery: 2 });
    try {
      const heads = await store.listSnapshots();
      expect(heads.length).to.be.greaterThan(1);
      const versions = new Set<number | undefined>();
      for (const h of heads) {
        const s = await store.getSnapshot(h.seq);
        if (s?.ok) versions.add(s.snapshot.rulesVersion);
      }
      expect([...versions].sort()).to.deep.equal([1, 2]);
      const report = await verifyLog(store, tallyUnder(2, 2));
      expect(report.ok, JSON.stringify(report.divergence)).to.equal(true);
      expect(report.snapshotsChecked).to.equal(heads.length);
      expect((await replayLog(store, tallyUnder(2, 2), { useSnapshot: true })).state).to.deep.equal({ pings: 6, weight: 33 });
    } finally {
      await store.close();
    }
  });

  it('a snapshot without a rules version (written before versioning) is read as the first version', async () => {
    const store = await LogStore.open(dirs.make());
    try {
      await store.write([{ v: 1, seq: 1, at: '2026-12-01T10:00:00.000Z', kind: 'observation', type: 'Ping', source: 'test', data: {} }]);
      await store.putSnapshot(1, { state: { pings: 1, weight: 1 }, unfinished: [] });
      const s = await store.getSnapshot(1);
      expect(s?.ok && s.snapshot.rulesVersion).to.equal(undefined);
      await store.write([{ v: 1, seq: 2, at: '2026-12-01T10:00:01.000Z', kind: 'observation', type: 'Ping', source: 'test', data: {} }]);
      // Folded on from the snapshot under rules 1 (weight + 1), though the decider's current rules are 2.
      expect((await replayLog(store, tallyUnder(2, 2), { useSnapshot: true })).state).to.deep.equal({ pings: 2, weight: 2 });
    } finally {
      await store.close();
    }
  });
});
