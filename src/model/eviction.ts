// Eviction signals and hard thresholds (KubeletConfiguration evictionHard), as upstream's eviction
// manager defines them: a threshold is a quantity ("100Mi") or a percentage of capacity ("10%"),
// and it is met when the signal's available amount falls below it. Pure: the signals stream and
// the reducers both use it, so a replay reaches the same verdicts.
import * as t from 'io-ts';
import { parseQuantity } from './quantity.ts';

export const SIGNALS = ['memory.available', 'nodefs.available', 'nodefs.inodesFree', 'imagefs.available', 'imagefs.inodesFree', 'pid.available'] as const;
export type EvictionSignal = (typeof SIGNALS)[number];

export type PressureCondition = 'MemoryPressure' | 'DiskPressure' | 'PIDPressure';

export const CONDITION_OF: Record<EvictionSignal, PressureCondition> = {
  'memory.available': 'MemoryPressure',
  'nodefs.available': 'DiskPressure',
  'nodefs.inodesFree': 'DiskPressure',
  'imagefs.available': 'DiskPressure',
  'imagefs.inodesFree': 'DiskPressure',
  'pid.available': 'PIDPressure',
};

/** The resource named in messages ("The node was low on resource: memory"). */
export const RESOURCE_OF: Record<EvictionSignal, string> = {
  'memory.available': 'memory',
  'nodefs.available': 'ephemeral-storage',
  'nodefs.inodesFree': 'inodes',
  'imagefs.available': 'ephemeral-storage',
  'imagefs.inodesFree': 'inodes',
  'pid.available': 'pids',
};

/** What the node has of one signal (bytes, inodes or process ids). */
export interface SignalValue {
  available: number;
  capacity: number;
}
export type ObservedSignals = Partial<Record<EvictionSignal, SignalValue>>;

/** Memory and disk each pod uses, for ranking (summed over its containers), by pod uid. */
export type PodUsage = Record<string, { memoryBytes: number; diskBytes: number }>;

/** The data of an EvictionSignalsObserved entry: what was read and what it was compared with. */
export interface EvictionSignalsData {
  observed: ObservedSignals;
  thresholds: Threshold[];
  transitionMs: number;
  pods?: PodUsage;
}

/** The EvictionSignalsObserved payload as a codec, for reducers that read it without a cast. */
export const EvictionSignalsCodec = t.intersection([
  t.type({
    observed: t.partial(Object.fromEntries(SIGNALS.map((k) => [k, t.type({ available: t.number, capacity: t.number })])) as Record<EvictionSignal, t.TypeC<{ available: t.NumberC; capacity: t.NumberC }>>),
    thresholds: t.array(t.type({ signal: t.keyof(Object.fromEntries(SIGNALS.map((k) => [k, null])) as Record<EvictionSignal, null>), value: t.string })),
    transitionMs: t.number,
  }),
  t.partial({ pods: t.record(t.string, t.type({ memoryBytes: t.number, diskBytes: t.number })) }),
], 'EvictionSignalsObserved');

export interface Threshold {
  signal: EvictionSignal;
  /** As configured: "100Mi" or "10%". */
  value: string;
}

export interface MetThreshold {
  signal: EvictionSignal;
  threshold: string;
  /** The threshold as an amount of the signal's unit. */
  quantity: number;
  available: number;
}

/** evictionHard → thresholds; unknown signals and unparseable values are errors to report. */
export function parseThresholds(m: Record<string, string>): { thresholds: Threshold[]; errors: string[] } {
  const thresholds: Threshold[] = [];
  const errors: string[] = [];
  for (const [signal, value] of Object.entries(m)) {
    if (!(SIGNALS as readonly string[]).includes(signal)) errors.push(`evictionHard: unknown signal ${JSON.stringify(signal)}`);
    else if (thresholdQuantity(value, 0) === undefined) errors.push(`evictionHard[${signal}]: expected a quantity or a percentage, got ${JSON.stringify(value)}`);
    else thresholds.push({ signal: signal as EvictionSignal, value });
  }
  return { thresholds, errors };
}

/** The amount a threshold stands for given the signal's capacity; undefined if not a threshold. */
export function thresholdQuantity(value: string, capacity: number): number | undefined {
  const pct = /^(\d+(?:\.\d+)?)%$/.exec(value.trim());
  if (pct) {
    const p = Number(pct[1]);
    return p <= 100 ? (p / 100) * capacity : undefined;
  }
  const q = parseQuantity(value.trim());
  return q === undefined || q < 0 ? undefined : q;
}

/** The thresholds the observed signals are below (a 0 or 0% threshold never is). */
export function metThresholds(thresholds: readonly Threshold[], observed: ObservedSignals): MetThreshold[] {
  const out: MetThreshold[] = [];
  for (const t of thresholds) {
    const v = observed[t.signal];
    if (!v) continue;
    const quantity = thresholdQuantity(t.value, v.capacity);
    if (quantity === undefined || quantity <= 0) continue;
    if (v.available < quantity) out.push({ signal: t.signal, threshold: t.value, quantity, available: v.available });
  }
  return out;
}

/**
 * The pressure conditions in force at `atMs`: a condition stays True for `transitionMs` after
 * the last time one of its thresholds was met (evictionPressureTransitionPeriod), so it does not
 * flap.
 */
export function pressureInForce(lastMetAt: Partial<Record<PressureCondition, string>>, atMs: number, transitionMs: number): PressureCondition[] {
  return (Object.entries(lastMetAt) as Array<[PressureCondition, string]>)
    .filter(([, at]) => atMs - Date.parse(at) < transitionMs)
    .map(([c]) => c);
}

/** Track when each condition's thresholds were last met, from one observation's verdicts. */
export function updateLastMet(lastMetAt: Partial<Record<PressureCondition, string>>, met: readonly MetThreshold[], at: string): Partial<Record<PressureCondition, string>> {
  if (met.length === 0) return lastMetAt;
  const next = { ...lastMetAt };
  for (const m of met) next[CONDITION_OF[m.signal]] = at;
  return next;
}

/** Fold one EvictionSignalsObserved into the pressure a reducer keeps (node conditions, admission). */
export function foldPressure(lastMetAt: Partial<Record<PressureCondition, string>> | undefined, d: EvictionSignalsData, at: string): { pressureLastMet: Partial<Record<PressureCondition, string>>; pressure: PressureCondition[] } {
  const pressureLastMet = updateLastMet(lastMetAt ?? {}, metThresholds(d.thresholds, d.observed), at);
  return { pressureLastMet, pressure: pressureInForce(pressureLastMet, Date.parse(at), d.transitionMs) };
}

/** Upstream's eviction message for a pod. */
export function evictionMessage(m: MetThreshold): string {
  const fmt = (n: number) => (RESOURCE_OF[m.signal] === 'memory' || RESOURCE_OF[m.signal] === 'ephemeral-storage' ? `${Math.round(n / 1024)}Ki` : String(Math.round(n)));
  return `The node was low on resource: ${RESOURCE_OF[m.signal]}. Threshold quantity: ${m.threshold.endsWith('%') ? fmt(m.quantity) : m.threshold}, available: ${fmt(m.available)}. `;
}
