// One fold step, shared by the engine, replay and verify so all three treat a reducer that throws
// the same way: the entry leaves the state unchanged and yields no decisions, and the error is
// reported. Replaying the same log therefore always reaches the same state.
import type { DecisionDraft, Entry } from '../model/entry.ts';
import type { Decider } from '../reducers/decider.ts';
import { AGENT_STOPPING, ENGINE_SOURCE } from '../model/engine-observations.ts';
import { AGENT_STARTED } from './unfinished.ts';
import { deepFreeze, deterministic, foldChecks, NondeterminismError } from './determinism.ts';

/**
 * `guard`: the clock, randomness and timers throw while the reducer runs (replay and verify
 * always; the engine in strict mode). In strict mode (tests) state and entry are deep-frozen
 * first, and a reducer caught reading the clock fails the test instead of being reported.
 */
export interface FoldGuard {
  guard?: boolean;
}

function run<T>(fn: () => T, guard: boolean | undefined): T {
  return guard || foldChecks.strict ? deterministic(fn) : fn();
}

function strictly<S>(state: S, entry: Entry): void {
  if (!foldChecks.strict) return;
  deepFreeze(state);
  deepFreeze(entry);
}

export function evolveEntry<S>(decider: Decider<S>, state: S, entry: Entry, opts: FoldGuard = {}): { state: S; error?: string } {
  strictly(state, entry);
  try {
    return { state: run(() => decider.evolve(state, entry), opts.guard) };
  } catch (err) {
    if (foldChecks.strict && err instanceof NondeterminismError) throw err;
    return { state, error: `evolve failed on seq ${entry.seq} (${entry.type}): ${(err as Error).message}` };
  }
}

/** decide is called only for observations and outcomes, never for decisions. */
export function decideOn<S>(decider: Decider<S>, state: S, entry: Entry, opts: FoldGuard = {}): { decisions: DecisionDraft[]; error?: string } {
  if (entry.kind === 'decision') return { decisions: [] };
  strictly(state, entry);
  try {
    return { decisions: run(() => decider.decide(state, entry), opts.guard) };
  } catch (err) {
    if (foldChecks.strict && err instanceof NondeterminismError) throw err;
    return { decisions: [], error: `decide failed on seq ${entry.seq} (${entry.type}): ${(err as Error).message}` };
  }
}

/** The decision entry draft for a reducer's decision: caused by, and timed at, the entry decided on. */
export function decisionDraftFor(cause: Entry, d: DecisionDraft) {
  return { kind: 'decision' as const, type: d.type, source: 'engine', data: d.data, pod: d.pod, cause: cause.seq, reason: d.reason, at: cause.at };
}

/**
 * Whether decisions are suspended after `e`: from the engine's AgentStopping to the next
 * AgentStarted, outcomes are still folded but nothing new is decided (a stopping agent must not
 * answer its own aborted effects with new decisions). The engine and verify both follow it.
 */
export function stoppingAfter(stopping: boolean, e: Entry): boolean {
  if (e.kind !== 'observation' || e.source !== ENGINE_SOURCE) return stopping;
  if (e.type === AGENT_STOPPING) return true;
  if (e.type === AGENT_STARTED) return false;
  return stopping;
}
