// Registry credentials from a pod's imagePullSecrets, matched to an image as upstream's
// credentialprovider keyring does (pkg/credentialprovider/keyring.go, secrets/secrets.go). Pure.
//
// - A secret counts only with its type's key: `kubernetes.io/dockerconfigjson` with
//   `.dockerconfigjson` ({"auths": {...}}), legacy `kubernetes.io/dockercfg` with `.dockercfg`
//   (the map itself). An entry's `auth` (base64 "user:password") overrides username/password.
// - Each registry key is `host[:port][/path]`: a scheme is stripped, a leading /v1/ or /v2/ of the
//   path is dropped. A key matches an image repository when the ports are equal, the hosts have
//   as many dot-separated parts and each part matches as a glob (`*.example.com`), and the
//   repository path starts with the key's path. Keys are tried in reverse lexical order (the more
//   specific path first) and every matching credential is returned, in order; when none matches,
//   Docker Hub images fall back to an `index.docker.io` entry.
// - A secret that is not valid JSON, or an `auth` that is not base64 "user:password", makes the
//   pull fail, as upstream's MakeDockerKeyring error does. Messages never quote the secret's content.
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { AuthConfig } from '../../adapters/cri/index.ts';

export const DOCKER_CONFIG_JSON_TYPE = 'kubernetes.io/dockerconfigjson';
export const DOCKER_CONFIG_JSON_KEY = '.dockerconfigjson';
export const DOCKERCFG_TYPE = 'kubernetes.io/dockercfg';
export const DOCKERCFG_KEY = '.dockercfg';

/** A pull secret as read from the API: its type and its data, base64-decoded. */
export interface PullSecret {
  name: string;
  type?: string;
  data: Record<string, string>;
}

/** One credential the keyring offers for an image; `secret` and `registry` may be logged, `auth` never. */
export interface PullCredential {
  secret: string;
  registry: string;
  auth: Required<Pick<AuthConfig, 'username' | 'password'>>;
  /** the password and the base64 forms of the credential: what must be scrubbed from any text */
  values: string[];
}

const Entry = t.partial({ username: t.string, password: t.string, email: t.string, auth: t.string });
const DockerConfig = t.record(t.string, Entry);
const DockerConfigJson = t.partial({ auths: DockerConfig });

export class PullSecretError extends Error {}

function parseJson(text: string, what: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    // JSON.parse's own message quotes the text: never pass it on
    throw new PullSecretError(`${what} is not valid JSON`);
  }
}

/** upstream decodeDockerConfigFieldAuth: base64 (padded or not) of "user:password" */
function decodeAuth(field: string, what: string): { username: string; password: string } {
  const b64 = field.trim();
  if (!/^[A-Za-z0-9+/]*={0,2}$/.test(b64) || (b64.endsWith('=') && b64.length % 4 !== 0)) throw new PullSecretError(`${what}: auth is not base64`);
  const decoded = Buffer.from(b64, 'base64').toString('utf8');
  const colon = decoded.indexOf(':');
  if (colon < 0) throw new PullSecretError(`${what}: unable to parse auth field, must be formatted as base64(username:password)`);
  return { username: decoded.slice(0, colon), password: decoded.slice(colon + 1) };
}

/** The registry key of a dockercfg location, as upstream BasicDockerKeyring.Add. */
export function registryKey(location: string): string {
  const noScheme = location.replace(/^https?:\/\//, '');
  const slash = noScheme.indexOf('/');
  const host = slash < 0 ? noScheme : noScheme.slice(0, slash);
  let path = slash < 0 ? '' : noScheme.slice(slash).replace(/[?#].*$/, '');
  if (path.startsWith('/v2/') || path.startsWith('/v1/')) path = path.slice(3);
  return path.length > 0 && path !== '/' ? host + path : host;
}

export interface KeyedCredential { key: string; cred: PullCredential }

/** Every credential of the secrets, in secret order; throws PullSecretError on a malformed secret. */
export function credentialsOf(secrets: PullSecret[]): KeyedCredential[] {
  const out: KeyedCredential[] = [];
  for (const s of secrets) {
    let raw: unknown;
    let what: string;
    if (s.type === DOCKER_CONFIG_JSON_TYPE && s.data[DOCKER_CONFIG_JSON_KEY]) {
      what = `pull secret "${s.name}": ${DOCKER_CONFIG_JSON_KEY}`;
      const r = DockerConfigJson.decode(parseJson(s.data[DOCKER_CONFIG_JSON_KEY], what));
      if (isLeft(r)) throw new PullSecretError(`${what} is not a Docker config ({"auths": {...}})`);
      raw = r.right.auths ?? {};
    } else if (s.type === DOCKERCFG_TYPE && s.data[DOCKERCFG_KEY]) {
      what = `pull secret "${s.name}": ${DOCKERCFG_KEY}`;
      raw = parseJson(s.data[DOCKERCFG_KEY], what);
    } else {
      continue; // not a registry secret: upstream ignores it
    }
    const cfg = DockerConfig.decode(raw);
    if (isLeft(cfg)) throw new PullSecretError(`${what} is not a map of registries to credentials`);
    for (const [location, e] of Object.entries(cfg.right)) {
      const fromAuth = e.auth ? decodeAuth(e.auth, `${what}, registry ${JSON.stringify(location)}`) : undefined;
      const key = registryKey(location);
      const auth = fromAuth ?? { username: e.username ?? '', password: e.password ?? '' };
      const values = [auth.password, Buffer.from(`${auth.username}:${auth.password}`).toString('base64'), ...(e.auth ? [e.auth] : [])];
      out.push({ key, cred: { secret: s.name, registry: key, auth, values } });
    }
  }
  return out;
}

/** upstream parsers.ParseImageName's repository: domain/path without tag or digest, Docker Hub normalised. */
export function repositoryOf(image: string): string {
  let name = image.split('@')[0];
  const lastSlash = name.lastIndexOf('/');
  const colon = name.lastIndexOf(':');
  if (colon > lastSlash) name = name.slice(0, colon);
  const first = name.split('/')[0];
  const hasDomain = name.includes('/') && (first.includes('.') || first.includes(':') || first === 'localhost');
  if (hasDomain) return name;
  return name.includes('/') ? `docker.io/${name}` : `docker.io/library/${name}`;
}

/** Go's filepath.Match for one host label ('*', '?', '[...]'; no separators in a label). */
function globMatch(glob: string, s: string): boolean {
  let re = '';
  for (let i = 0; i < glob.length; i++) {
    const c = glob[i];
    if (c === '*') re += '[^/]*';
    else if (c === '?') re += '[^/]';
    else if (c === '[') {
      const end = glob.indexOf(']', i + 1);
      if (end < 0) return false; // ErrBadPattern: no match, as upstream ignores the error
      const body = glob.slice(i + 1, end).replace(/^\^/, '!').replace(/\\/g, '\\\\');
      re += body.startsWith('!') ? `[^${body.slice(1)}]` : `[${body}]`;
      i = end;
    } else re += c.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&');
  }
  try {
    return new RegExp(`^${re}$`).test(s);
  } catch {
    return false;
  }
}

function splitHostPath(v: string): { labels: string[]; port: string; path: string } {
  const slash = v.indexOf('/');
  const hostPort = slash < 0 ? v : v.slice(0, slash);
  const path = slash < 0 ? '' : v.slice(slash);
  const m = /^(.*):(\d*)$/.exec(hostPort);
  const host = m ? m[1] : hostPort;
  return { labels: host.split('.'), port: m ? m[2] : '', path };
}

/** upstream URLsMatchStr(glob, target) */
export function keyMatches(key: string, repository: string): boolean {
  const g = splitHostPath(key);
  const r = splitHostPath(repository);
  if (g.port !== r.port || g.labels.length !== r.labels.length) return false;
  if (!r.path.startsWith(g.path)) return false;
  return g.labels.every((label, i) => globMatch(label, r.labels[i]));
}

/** The credentials to try for `image`, in upstream's order; empty: pull without credentials. */
export function credentialsFor(image: string, keyed: KeyedCredential[]): PullCredential[] {
  const repository = repositoryOf(image);
  const keys = [...new Set(keyed.map((k) => k.key))].sort().reverse();
  const out: PullCredential[] = [];
  for (const key of keys) if (keyMatches(key, repository)) out.push(...keyed.filter((k) => k.key === key).map((k) => k.cred));
  if (out.length > 0) return out;
  const first = repository.split('/')[0];
  if (first === 'docker.io' || first === 'index.docker.io') return keyed.filter((k) => k.key === 'index.docker.io').map((k) => k.cred);
  return [];
}

/** Every secret value to register with the scrubber: each credential's, and each secret's data whole. */
export function secretValuesOf(keyed: KeyedCredential[], secrets: PullSecret[]): string[] {
  const values = new Set<string>();
  for (const k of keyed) for (const v of k.cred.values) if (v) values.add(v);
  for (const s of secrets) for (const v of Object.values(s.data)) values.add(v);
  return [...values];
}
