// The in-memory registry of secret values the agent holds right now, so that any text about to be
// stamped into an entry or printed can be scrubbed of them. Values live here only in memory, for
// as long as their owner (a pod's volume, a pull, ...) uses them.
const byOwner = new Map<string, string[]>();

/** Values shorter than this are not scrubbed: replacing "a" or "123" everywhere would wreck every text. */
const MIN_SCRUBBED_LENGTH = 4;

/** Remember `values` under `owner`, replacing what the owner registered before. */
export function register(owner: string, values: string[]): void {
  byOwner.set(owner, values.filter((v) => typeof v === 'string' && v.length > 0));
}

/** Forget the owner's values (its pod or pull is gone). */
export function release(owner: string): void {
  byOwner.delete(owner);
}

/** `text` with every registered value of at least 4 characters replaced by `[redacted]`. */
export function scrub(text: string): string {
  let out = text;
  // longest first, so a value containing another is replaced whole
  const values = [...new Set([...byOwner.values()].flat())].filter((v) => v.length >= MIN_SCRUBBED_LENGTH).sort((a, b) => b.length - a.length);
  for (const v of values) if (out.includes(v)) out = out.split(v).join('[redacted]');
  return out;
}
