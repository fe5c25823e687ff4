// The one exponential backoff for retrying I/O (API list/watch, node-log writes, source restarts).
// Pod restart backoff (CrashLoopBackOff) is a reducer rule with upstream's own constants:
// src/reducers/pods/backoff.ts.

export interface BackoffConfig {
  initialMs: number;
  factor: number;
  maxMs: number;
}

export const DEFAULT_BACKOFF: BackoffConfig = { initialMs: 800, factor: 2, maxMs: 30_000 };

/** Delay before retry number `attempt` (1-based): initial·factor^(attempt-1), capped. */
export function backoffDelay(attempt: number, cfg: BackoffConfig = DEFAULT_BACKOFF): number {
  if (attempt < 1) return 0;
  const d = cfg.initialMs * Math.pow(cfg.factor, attempt - 1);
  return Math.min(cfg.maxMs, Math.round(d));
}
