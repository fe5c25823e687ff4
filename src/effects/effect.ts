// The contract every effect handler implements: one decision in, outcomes out.
import type { Entry, OutcomeDraft } from '../model/entry.ts';

export interface EffectContext {
  /** Aborted when the agent stops; long waits (timers, pulls) must honour it. */
  signal: AbortSignal;
  now: () => Date;
}

/**
 * Runs the I/O a decision asks for (through adapters) and reports what happened. It must be
 * idempotent: the same decision replayed after a crash must find existing runtime objects rather
 * than make new ones. Errors are reported as outcomes, not thrown; a throw becomes an
 * EffectFailed outcome.
 */
export type EffectHandler = (decision: Entry, ctx: EffectContext) => Promise<OutcomeDraft[]>;

/** Decision type → handler. Decisions with no handler are records only (e.g. StatusComputed). */
export type EffectHandlers = Record<string, EffectHandler>;
