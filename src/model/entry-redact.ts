// Keeps secret and token contents out of the log: fields that carry credentials are replaced by a
// marker before an entry is stamped, so neither the stored bytes nor the in-memory state hold them.
// Sources should already log names, resource versions and hashes; this is the backstop.

/** Field names whose values are credentials wherever they appear. */
const SECRET_KEYS = new Set([
  'token', 'bearertoken', 'password', 'passwd', 'clientsecret', 'privatekey', 'clientkey',
  'clientkeydata', 'tokendata', 'apikey', 'authorization',
]);

export const REDACTED = '[redacted]';

// Field names repeat endlessly (type, name, state...): remember the answer per name, since this
// runs on every key of every entry appended.
const keyVerdicts = new Map<string, boolean>();

function isSecretKey(k: string): boolean {
  let v = keyVerdicts.get(k);
  if (v === undefined) {
    v = SECRET_KEYS.has(k.toLowerCase().replace(/[-_]/g, ''));
    if (keyVerdicts.size < 10_000) keyVerdicts.set(k, v);
  }
  return v;
}

/**
 * Returns `value` itself when nothing needed redacting (no copy on the hot path), otherwise a
 * copy with credential fields replaced. A Kubernetes Secret object keeps only its key names.
 */
export function redactSecrets<T>(value: T): T {
  return redact(value, 0) as T;
}

function redact(value: unknown, depth: number): unknown {
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = redact(value[i], depth + 1);
      if (r !== value[i]) (copy ??= value.slice())[i] = r;
    }
    return copy ?? value;
  }
  const obj = value as Record<string, unknown>;
  const isSecretObject = obj.kind === 'Secret';
  let copy: Record<string, unknown> | undefined;
  for (const k in obj) {
    const v = obj[k];
    let r: unknown;
    if (isSecretObject && (k === 'data' || k === 'stringData') && typeof v === 'object' && v !== null) r = { keys: Object.keys(v as object).sort(), contents: REDACTED };
    // Only string values are contents; an object under such a key is a reference (e.g. a volume's secretName).
    else if (typeof v === 'string' && v !== REDACTED && isSecretKey(k)) r = REDACTED;
    else r = redact(v, depth + 1);
    if (r !== v) (copy ??= { ...obj })[k] = r;
  }
  return copy ?? obj;
}
