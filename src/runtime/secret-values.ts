// The secret values the agent holds right now (secret and projected volume data, secretKeyRef /
// envFrom values, service-account tokens, CSI secrets, pull credentials), so that every string
// that is stamped into the log or printed on stdout can be scrubbed of them. Field-name redaction
// (src/model/entry-redact.ts) cannot catch a value echoed inside free text, such as containerd
// repeating a container's command in its error.
//
// Values live only in this process's memory, for as long as an owner (a pod's volume, a
// container's environment...) holds them. Upstream has no equivalent: it relies on not logging
// the objects that carry secrets.

/** What a scrubbed value is replaced with (the same marker as field-name redaction). */
export const SCRUBBED = '[redacted]';

/**
 * Values shorter than this are not scrubbed: "true", "admin", "8080" or a one-letter key would
 * otherwise blank out unrelated text everywhere (pod names, reasons, ports), and scrubbing also
 * rewrites the logged pod spec the reducers fold. 8 characters is the usual minimum length of a
 * password policy, so real credentials are covered; shorter values are documented as a limit.
 */
export const MIN_SECRET_LENGTH = 8;

/** A very long value (a whole certificate bundle) is matched line by line instead of as one string. */
const MAX_WHOLE_LENGTH = 4096;

const owners = new Map<string, Set<string>>();
/** value form → how many owners hold it (a value shared by two pods stays until both release it). */
const holders = new Map<string, number>();
let pattern: RegExp | undefined;
let stale = false;

/** The textual forms in which a value can turn up in a message: as is, trimmed, per line, JSON-escaped, base64. */
function formsOf(value: string): string[] {
  // binary contents (a keystore) do not survive utf8 decoding and are never echoed as text
  if (value.includes('\uFFFD')) return [];
  const base: string[] = [];
  const add = (s: string) => {
    if (s.length >= MIN_SECRET_LENGTH) base.push(s);
  };
  if (value.length <= MAX_WHOLE_LENGTH) {
    add(value);
    if (value.trim() !== value) add(value.trim());
  }
  if (value.includes('\n')) for (const line of value.split(/\r?\n/)) add(line.trim());
  const out = new Set<string>();
  for (const s of base) {
    out.add(s);
    // inside a JSON text or a Go %q quoted string, quotes, backslashes and newlines are escaped
    const escaped = JSON.stringify(s).slice(1, -1);
    if (escaped !== s) out.add(escaped);
  }
  if (value.length >= MIN_SECRET_LENGTH && value.length <= MAX_WHOLE_LENGTH) out.add(Buffer.from(value, 'utf8').toString('base64'));
  return [...out];
}

/**
 * Adds `values` to what `owner` holds (owners are free-form keys such as `pod/<uid>/volume/<name>`).
 * Registering is cumulative: a refreshed secret's new value joins the old one until release.
 */
export function register(owner: string, values: Iterable<string | Buffer>): void {
  let held = owners.get(owner);
  for (const v of values) {
    const text = typeof v === 'string' ? v : v.toString('utf8');
    for (const f of formsOf(text)) {
      held ??= new Set();
      if (held.has(f)) continue;
      held.add(f);
      holders.set(f, (holders.get(f) ?? 0) + 1);
      stale = true;
    }
  }
  if (held && !owners.has(owner)) owners.set(owner, held);
}

/**
 * What `owner` holds becomes exactly `values` (a refreshed volume, a restarted container's env):
 * rotated tokens do not pile up for the life of a pod. The pattern is rebuilt only if the set of
 * values held by anyone changed.
 */
export function replace(owner: string, values: Iterable<string | Buffer>): void {
  const before = new Set(holders.keys());
  const wasStale = stale;
  release(owner);
  register(owner, values);
  stale = wasStale || holders.size !== before.size || [...holders.keys()].some((f) => !before.has(f));
}

/** Forgets what `owner` holds; values still held by another owner stay scrubbed. */
export function release(owner: string): void {
  const held = owners.get(owner);
  if (!held) return;
  owners.delete(owner);
  for (const f of held) {
    const n = (holders.get(f) ?? 1) - 1;
    if (n > 0) holders.set(f, n);
    else holders.delete(f);
  }
  stale = true;
}

/** Forgets every owner whose key starts with `prefix` (a pod's owners, once the pod is gone). */
export function releaseAll(prefix: string): void {
  for (const owner of [...owners.keys()]) if (owner.startsWith(prefix)) release(owner);
}

/** True when nothing is registered: callers skip scrubbing altogether (the append hot path). */
export function isEmpty(): boolean {
  return holders.size === 0;
}

const escapeRegExp = (s: string) => s.replace(/[\\^$.*+?()[\]{}|/-]/g, '\\$&');

function currentPattern(): RegExp | undefined {
  if (stale) {
    stale = false;
    // One compiled alternation, longest first so a value containing another is replaced whole.
    const forms = [...holders.keys()].sort((a, b) => b.length - a.length);
    pattern = forms.length ? new RegExp(forms.map(escapeRegExp).join('|'), 'g') : undefined;
  }
  return pattern;
}

/** `text` with every registered value replaced by SCRUBBED; the same string when none occurs. */
export function scrub(text: string): string {
  if (holders.size === 0 || text.length < MIN_SECRET_LENGTH) return text;
  const re = currentPattern();
  if (!re) return text;
  re.lastIndex = 0;
  if (!re.test(text)) return text;
  re.lastIndex = 0;
  return text.replace(re, SCRUBBED);
}

/** Owner keys of a pod's secret values; `podOwners(uid)` is the prefix that releases all of them. */
export const podOwners = (uid: string) => `pod/${uid}/`;
export const volumeOwner = (uid: string, volume: string) => `${podOwners(uid)}volume/${volume}`;
export const envOwner = (uid: string, container: string) => `${podOwners(uid)}container/${container}/env`;
export const probeHeadersOwner = (uid: string) => `${podOwners(uid)}probe-headers`;
