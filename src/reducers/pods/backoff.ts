// CrashLoopBackOff and ImagePullBackOff as upstream: first retry at once, then 10 s doubling to
// 5 min; a container that ran for 10 minutes starts again from the beginning.
import type { Backoff } from './state.ts';

export const BACKOFF_INITIAL_MS = 10_000;
export const BACKOFF_MAX_MS = 300_000;
export const BACKOFF_RESET_AFTER_MS = 600_000;

export const ms = (iso: string): number => Date.parse(iso);
export const iso = (t: number): string => new Date(t).toISOString();

/** The backoff after a failure at `failedAt`; `ranForMs` resets it when the container ran long. */
export function afterFailure(b: Backoff, failedAt: string, ranForMs = 0): Backoff {
  const delay = ranForMs >= BACKOFF_RESET_AFTER_MS ? 0 : b.nextDelayMs;
  return {
    nextDelayMs: Math.min(Math.max(delay * 2, BACKOFF_INITIAL_MS), BACKOFF_MAX_MS),
    until: iso(ms(failedAt) + delay),
  };
}

export const inBackoff = (b: Backoff, at: string): boolean => b.until !== undefined && ms(b.until) > ms(at);
