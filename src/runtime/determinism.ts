// Determinism enforced, not only asked for: while a reducer runs under the guard, the clock,
// randomness and timers throw (a reducer's time is entry.at; its only input is the entry), and in
// strict mode (tests) the state and entry it is handed are deep-frozen, so a mutation throws too.
//
// The guard patches the globals around each synchronous evolve/decide call and restores them
// right after, so code running between two calls (LevelDB, timers of the agent) never sees them.
// replay and verify always fold under it; the engine does in strict mode (tests), where the patch
// costs about a microsecond per entry (docs/performance.md).

export class NondeterminismError extends Error {
  override name = 'NondeterminismError';
}

const forbidden = (what: string) => () => {
  throw new NondeterminismError(`${what} called inside a reducer: reducers take time from entry.at and have no clock, randomness or timers`);
};

const RealDate = Date;
const realRandom = Math.random;
const realSetTimeout = globalThis.setTimeout;
const realSetInterval = globalThis.setInterval;
const realSetImmediate = globalThis.setImmediate;
const realPerfNow = performance.now;
const realHrtime = process.hrtime;

/** Date with the clock taken out: `new Date(x)`, Date.parse and Date.UTC work; `new Date()`, `Date()` and Date.now throw. */
const GuardedDate = function (this: unknown, ...args: unknown[]) {
  if (!new.target) return forbidden('Date()')();
  if (args.length === 0) return forbidden('new Date() without arguments')();
  return Reflect.construct(RealDate, args, new.target === GuardedDate ? RealDate : new.target);
} as unknown as DateConstructor;
Object.setPrototypeOf(GuardedDate, RealDate);
Object.defineProperty(GuardedDate, 'prototype', { value: RealDate.prototype });
Object.defineProperty(GuardedDate, 'now', { value: forbidden('Date.now()') });

const guardedHrtime = Object.assign(forbidden('process.hrtime()'), { bigint: forbidden('process.hrtime.bigint()') });

let depth = 0;

function patch(): void {
  globalThis.Date = GuardedDate;
  Math.random = forbidden('Math.random()');
  globalThis.setTimeout = forbidden('setTimeout()') as unknown as typeof setTimeout;
  globalThis.setInterval = forbidden('setInterval()') as unknown as typeof setInterval;
  globalThis.setImmediate = forbidden('setImmediate()') as unknown as typeof setImmediate;
  performance.now = forbidden('performance.now()');
  process.hrtime = guardedHrtime as unknown as typeof process.hrtime;
}

function restore(): void {
  globalThis.Date = RealDate;
  Math.random = realRandom;
  globalThis.setTimeout = realSetTimeout;
  globalThis.setInterval = realSetInterval;
  globalThis.setImmediate = realSetImmediate;
  performance.now = realPerfNow;
  process.hrtime = realHrtime;
}

/** Run fn with the clock, randomness and timers throwing; nested calls share one patch. */
export function deterministic<T>(fn: () => T): T {
  if (depth++ === 0) patch();
  try {
    return fn();
  } finally {
    if (--depth === 0) restore();
  }
}

/** Freeze v and everything reachable from it; stops at what is already frozen (unchanged subtrees of a folded state). */
export function deepFreeze<T>(v: T): T {
  if (v === null || typeof v !== 'object' || Object.isFrozen(v)) return v;
  Object.freeze(v);
  for (const k of Object.keys(v)) deepFreeze((v as Record<string, unknown>)[k]);
  return v;
}

/**
 * Strict folds: the engine's folds are guarded too and every state and entry handed to a reducer
 * is deep-frozen. On in tests (test/unit/helpers/strict-folds.ts) and with LEDGERLET_STRICT_FOLDS=1.
 */
export const foldChecks = { strict: process.env.LEDGERLET_STRICT_FOLDS === '1' };
