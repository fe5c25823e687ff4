// Keeps secret and token contents out of the log: fields that carry credentials are replaced by a
// marker before an entry is stamped, so neither the stored bytes nor the in-memory state hold them.
// Sources should already log names, resource versions and hashes; this is the backstop. Values
// echoed inside free text (an error repeating a command) are caught by the caller's `scrub`
// (src/runtime/secret-values.ts), applied to every string in the same walk.

/** Field names whose values are credentials wherever they appear. */
const SECRET_KEYS = new Set([
  'token', 'bearertoken', 'password', 'passwd', 'clientsecret', 'privatekey', 'clientkey',
  'clientkeydata', 'tokendata', 'apikey', 'authorization', 'cookie', 'credentials',
]);
/** Parts of a field or header name that mark a credential (`access_token`, `db_password`, `X-Auth-Token`). */
const SECRET_PARTS = /token|secret|passw|cookie|authorization|apikey|credential/;
/**
 * Names that contain a secret word but hold a reference, not a value: `secretName`, envFrom's
 * `secret` (the Secret's name), `tokenPath`, `expirationSeconds`, `tokenRotated`...
 */
const REFERENCE_SUFFIX = /(name|names|ref|path|file|dir|seconds|hash|count|rotated|kind|type|version|audience|at)$/;

export const REDACTED = '[redacted]';

// Field names repeat endlessly (type, name, state...): remember the answer per name, since this
// runs on every key of every entry appended.
const keyVerdicts = new Map<string, boolean>();

function isSecretKey(k: string): boolean {
  let v = keyVerdicts.get(k);
  if (v === undefined) {
    v = isSecretName(k) && k !== 'secret';
    if (keyVerdicts.size < 10_000) keyVerdicts.set(k, v);
  }
  return v;
}

/** A field or HTTP header name whose value is a credential (Authorization, Cookie, *token*, *secret*, *password*). */
export function isSecretName(name: string): boolean {
  const n = name.toLowerCase().replace(/[-_.\s]/g, '');
  return SECRET_KEYS.has(n) || (SECRET_PARTS.test(n) && !REFERENCE_SUFFIX.test(n));
}

/**
 * Returns `value` itself when nothing needed redacting (no copy on the hot path), otherwise a
 * copy with credential fields replaced. A Kubernetes Secret object keeps only its key names;
 * `httpHeaders` entries ({name, value}) with a credential name keep their name only. With
 * `scrub`, every other string is passed through it (registered secret values removed).
 */
export function redactSecrets<T>(value: T, scrub?: (text: string) => string): T {
  return redact(value, 0, scrub) as T;
}

type Scrub = ((text: string) => string) | undefined;

function redact(value: unknown, depth: number, scrub: Scrub): unknown {
  if (typeof value === 'string') return scrub ? scrub(value) : value;
  if (value === null || typeof value !== 'object' || depth > 64) return value;
  if (Array.isArray(value)) {
    let copy: unknown[] | undefined;
    for (let i = 0; i < value.length; i++) {
      const r = redact(value[i], depth + 1, scrub);
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
    // scalars inline: this loop runs for every key of every entry appended
    else if (typeof v !== 'object' || v === null) r = scrub && typeof v === 'string' ? scrub(v) : v;
    else if (k === 'httpHeaders' && Array.isArray(v)) r = redactHeaders(v, depth + 1, scrub);
    else r = redact(v, depth + 1, scrub);
    if (r !== v) (copy ??= { ...obj })[k] = r;
  }
  return copy ?? obj;
}

/** Probe and hook headers: `{name: 'Authorization', value: 'Bearer ...'}` keeps its name only. */
function redactHeaders(headers: unknown[], depth: number, scrub: Scrub): unknown[] {
  let copy: unknown[] | undefined;
  for (let i = 0; i < headers.length; i++) {
    const h = headers[i];
    let r: unknown;
    if (h && typeof h === 'object' && !Array.isArray(h)) {
      const { name, value } = h as { name?: unknown; value?: unknown };
      r = typeof name === 'string' && typeof value === 'string' && value !== REDACTED && isSecretName(name)
        ? { ...(h as object), value: REDACTED }
        : redact(h, depth + 1, scrub);
    } else r = redact(h, depth + 1, scrub);
    if (r !== h) (copy ??= headers.slice())[i] = r;
  }
  return copy ?? headers;
}
