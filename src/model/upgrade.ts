// Lifts an entry written by an older schema version to the current envelope before decoding, so
// a log written by an older ledgerlet stays readable. Each step upgrades exactly one version.
import { SCHEMA_VERSION } from './entry.ts';

type Raw = Record<string, unknown>;

/**
 * from-version → function producing the next version. Version 0 is an entry without a `v`
 * field (the envelope before it carried its schema version); otherwise it is identical to v1.
 */
const STEPS: Record<number, (raw: Raw) => Raw> = {
  0: (raw) => ({ ...raw, v: 1 }),
};

export type UpgradeResult = { ok: true; raw: Raw } | { ok: false; error: string };

export function upgradeEntry(input: unknown, steps: Record<number, (raw: Raw) => Raw> = STEPS, current = SCHEMA_VERSION): UpgradeResult {
  if (typeof input !== 'object' || input === null || Array.isArray(input)) {
    return { ok: false, error: 'entry is not a JSON object' };
  }
  let raw = input as Raw;
  let v = raw.v === undefined ? 0 : raw.v;
  if (typeof v !== 'number' || !Number.isInteger(v) || v < 0) {
    return { ok: false, error: `v: expected a schema version number, got ${JSON.stringify(raw.v)}` };
  }
  if (v > current) {
    return { ok: false, error: `written by a newer ledgerlet (schema ${v}, this one reads up to ${current})` };
  }
  while (v < current) {
    const step = steps[v];
    if (!step) return { ok: false, error: `no upgrade from schema ${v} to ${v + 1}` };
    raw = step(raw);
    v += 1;
  }
  return { ok: true, raw };
}
