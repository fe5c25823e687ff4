// The fold guard: inside a reducer the clock, randomness and timers throw and the state is frozen;
// outside it everything is restored. Proven on the real fold path (fold.ts), as replay and verify run it.
import { expect } from 'chai';
import type { Entry } from '../../src/model/entry.ts';
import type { Decider } from '../../src/reducers/decider.ts';
import { deepFreeze, deterministic, foldChecks, NondeterminismError } from '../../src/runtime/determinism.ts';
import { decideOn, evolveEntry } from '../../src/runtime/fold.ts';

const entry: Entry = { v: 1, seq: 7, at: '2026-12-01T10:00:00.000Z', kind: 'observation', type: 'Tick', source: 'test', data: {} };
const calling = (fn: () => unknown): Decider<{ n: number }> => ({
  initialState: () => ({ n: 0 }),
  evolve: (s) => { fn(); return s; },
  decide: () => { fn(); return []; },
});

describe('determinism guard', () => {
  const cases: Array<[string, () => unknown, RegExp]> = [
    ['Date.now', () => Date.now(), /Date\.now\(\) called inside a reducer/],
    ['new Date()', () => new Date(), /new Date\(\) without arguments/],
    ['Date()', () => (Date as unknown as () => string)(), /Date\(\) called/],
    ['Math.random', () => Math.random(), /Math\.random\(\)/],
    ['setTimeout', () => setTimeout(() => undefined, 1), /setTimeout\(\)/],
    ['setInterval', () => setInterval(() => undefined, 1), /setInterval\(\)/],
    ['performance.now', () => performance.now(), /performance\.now\(\)/],
    ['process.hrtime', () => process.hrtime(), /process\.hrtime\(\)/],
    ['process.hrtime.bigint', () => process.hrtime.bigint(), /process\.hrtime\.bigint\(\)/],
  ];
  for (const [what, fn, message] of cases) {
    it(`${what} throws inside a guarded evolve and decide, and works again after`, () => {
      expect(() => evolveEntry(calling(fn), { n: 0 }, entry, { guard: true })).to.throw(NondeterminismError, message);
      expect(() => decideOn(calling(fn), { n: 0 }, entry, { guard: true })).to.throw(NondeterminismError, message);
      // Restored: the same call works outside the fold (timers cleared at once).
      const r = fn();
      if (what === 'setTimeout') clearTimeout(r as NodeJS.Timeout);
      if (what === 'setInterval') clearInterval(r as NodeJS.Timeout);
    });
  }

  it('outside strict mode a guarded reducer reading the clock is a reducer error naming the entry (what verify reports)', () => {
    foldChecks.strict = false;
    try {
      const r = evolveEntry(calling(() => Date.now()), { n: 0 }, entry, { guard: true });
      expect(r.error).to.match(/evolve failed on seq 7 \(Tick\): Date\.now\(\) called inside a reducer/);
      // Unguarded (the running agent's hot path): the reducer's problem is not the engine's.
      expect(evolveEntry(calling(() => Date.now()), { n: 0 }, entry).error).to.equal(undefined);
    } finally {
      foldChecks.strict = true;
    }
  });

  it('what reducers may use of Date still works under the guard: new Date(x), Date.parse, Date.UTC, instanceof', () => {
    const out = deterministic(() => {
      const d = new Date('2026-12-01T10:00:00.000Z');
      return [d.toISOString(), d instanceof Date, Date.parse('2026-12-01T10:00:01.000Z'), Date.UTC(2026, 11, 1), new Date(0).getTime()];
    });
    expect(out).to.deep.equal(['2026-12-01T10:00:00.000Z', true, Date.parse('2026-12-01T10:00:01.000Z'), Date.UTC(2026, 11, 1), 0]);
    expect(typeof Date.now()).to.equal('number');
  });

  it('in strict mode (tests) the state and entry handed to a reducer are deep-frozen, so a mutation throws', () => {
    const mutating: Decider<{ pods: Record<string, { n: number }> }> = {
      initialState: () => ({ pods: { a: { n: 0 } } }),
      evolve: (s) => { s.pods.a.n++; return s; },
      decide: () => [],
    };
    expect(evolveEntry(mutating, mutating.initialState(), entry).error).to.match(/Cannot assign to read only property 'n'/);
    const pure: Decider<{ pods: Record<string, { n: number }> }> = { ...mutating, evolve: (s) => ({ pods: { ...s.pods, b: { n: 1 } } }) };
    expect(evolveEntry(pure, pure.initialState(), entry).state.pods.b.n).to.equal(1);
  });

  it('deepFreeze stops at subtrees already frozen and handles shared references', () => {
    const shared = { x: 1 };
    const v = deepFreeze({ a: shared, b: [shared, { y: [2] }] });
    expect(Object.isFrozen(v.b[1])).to.equal(true);
    expect(Object.isFrozen((v.b[1] as { y: number[] }).y)).to.equal(true);
  });
});
