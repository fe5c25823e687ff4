// The eviction signals stream decides only when to speak: at start-up, while a threshold is met,
// and for one transition period after; never while the node is comfortable.
import { expect } from 'chai';
import { evictionSignals$ } from '../../src/streams/eviction-signals.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { metThresholds, pressureInForce, updateLastMet, type ObservedSignals, type PressureCondition } from '../../src/model/eviction.ts';

const GiB = 2 ** 30;
const memory = (available: number): ObservedSignals => ({ 'memory.available': { available, capacity: 8 * GiB } });

async function emissions(availableAt: (t: number) => number, seconds: number): Promise<number[]> {
  const clock = new VirtualClock(new Date(0));
  const at: number[] = [];
  const thresholds = [{ signal: 'memory.available' as const, value: '1Gi' }];
  // Stands in for the reducers: the state's pressure, folded from what the stream emits.
  let lastMet: Partial<Record<PressureCondition, string>> = {};
  let inForce: PressureCondition[] = [];
  const sub = evictionSignals$({
    thresholds, transitionMs: 30_000, intervalMs: 10_000, clock,
    readSignals: async () => memory(availableAt(clock.now().getTime() / 1000)),
    podUsage: async () => ({ p: { memoryBytes: 1, diskBytes: 0 } }),
    pressureInForce: () => inForce.length > 0,
  }).subscribe((o) => {
    at.push(clock.now().getTime() / 1000);
    lastMet = updateLastMet(lastMet, metThresholds(thresholds, o.data.observed), clock.now().toISOString());
    inForce = pressureInForce(lastMet, clock.now().getTime(), 30_000);
  });
  await new Promise((r) => setImmediate(r)); // the first read, at t=0
  for (let t = 0; t < seconds; t += 10) await clock.advance(10_000);
  sub.unsubscribe();
  return at;
}

describe('eviction signals stream', () => {
  it('given a comfortable node, then it speaks once, at start-up', async () => {
    expect(await emissions(() => 4 * GiB, 120)).to.deep.equal([0]);
  });

  it('given memory short until t=10 s, then every round while short and while the state keeps the condition in force, then silence', async () => {
    expect(await emissions((t) => (t <= 10 ? 0.5 * GiB : 4 * GiB), 120)).to.deep.equal([0, 10, 20, 30, 40]);
  });
});
