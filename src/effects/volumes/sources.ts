// What goes into configMap, secret, downwardAPI and projected volumes: the payload (path → bytes,
// mode) built from the API objects, plus the names and resource versions read. Contents stay in
// memory between the API read and the file write; only hashes and versions are reported.
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { KubeClients } from '../../adapters/kube/connect.ts';
import { isNotFound } from '../../adapters/kube/errors.ts';
import { getConfigMap, getSecret, requestServiceAccountToken } from '../../adapters/kube/volume-sources.ts';
import type { VolumePlan } from '../../model/volume-plan.ts';
import type { Payload } from './atomic-writer.ts';
import { renderDownwardItem, type DownwardItem } from './downward-api.ts';
import { VolumeError } from './errors.ts';

// ------------------------------------------------------------------ codecs of the volume sources

const KeyToPath = t.intersection([t.type({ key: t.string, path: t.string }), t.partial({ mode: t.number })]);
const DownwardItemC = t.intersection([
  t.type({ path: t.string }),
  t.partial({
    fieldRef: t.intersection([t.type({ fieldPath: t.string }), t.partial({ apiVersion: t.string })]),
    resourceFieldRef: t.intersection([t.type({ resource: t.string }), t.partial({ containerName: t.string, divisor: t.union([t.string, t.number]) })]),
    mode: t.number,
  }),
]);
export const ConfigMapSource = t.partial({ name: t.string, items: t.array(KeyToPath), defaultMode: t.number, optional: t.boolean });
export const SecretSource = t.partial({ secretName: t.string, items: t.array(KeyToPath), defaultMode: t.number, optional: t.boolean });
export const DownwardAPISource = t.partial({ items: t.array(DownwardItemC), defaultMode: t.number });
const TokenProjection = t.intersection([t.type({ path: t.string }), t.partial({ audience: t.string, expirationSeconds: t.number })]);
const Projection = t.partial({
  configMap: t.partial({ name: t.string, items: t.array(KeyToPath), optional: t.boolean }),
  secret: t.partial({ name: t.string, items: t.array(KeyToPath), optional: t.boolean }),
  downwardAPI: t.partial({ items: t.array(DownwardItemC) }),
  serviceAccountToken: TokenProjection,
});
export const ProjectedSource = t.partial({ sources: t.array(Projection), defaultMode: t.number });
export const EmptyDirSource = t.partial({ medium: t.string, sizeLimit: t.union([t.string, t.number]) });
export const HostPathSource = t.intersection([t.type({ path: t.string }), t.partial({ type: t.string })]);
export const CsiSource = t.intersection([t.type({ driver: t.string }), t.partial({ readOnly: t.boolean, fsType: t.string, volumeAttributes: t.record(t.string, t.string), nodePublishSecretRef: t.partial({ name: t.string }) })]);
export const PvcSource = t.intersection([t.type({ claimName: t.string }), t.partial({ readOnly: t.boolean })]);

export type KeyToPath = t.TypeOf<typeof KeyToPath>;
export type TokenProjection = t.TypeOf<typeof TokenProjection>;

export function decodeSource<A>(codec: t.Decoder<unknown, A>, value: unknown, what: string): A {
  const r = codec.decode(value ?? {});
  if (isLeft(r)) throw new VolumeError('FailedMount', `invalid ${what} volume source`);
  return r.right;
}

// ------------------------------------------------------------------ payload pieces

export interface Built {
  payload: Payload;
  /** "configmap/<name>" | "secret/<name>" → resourceVersion */
  resourceVersions: Record<string, string>;
  /** token paths written (for the refresh source) */
  tokens: { path: string; audience: string; expirationSeconds: number }[];
  /** the secret and token contents among the payload, to register for scrubbing (never logged) */
  secretValues: Buffer[];
}

const empty = (): Built => ({ payload: {}, resourceVersions: {}, tokens: [], secretValues: [] });

function needKube(kube: KubeClients | undefined, what: string): KubeClients {
  if (!kube) throw new VolumeError('FailedMount', `cannot set up ${what}: the agent runs standalone (no API server)`);
  return kube;
}

/** Keys → files: all keys, or the listed items (a missing key fails unless optional). */
function project(kind: 'configmap' | 'secret', name: string, data: Record<string, Buffer>, items: KeyToPath[] | undefined, mode: number, optional: boolean, gid?: number): Payload {
  const out: Payload = {};
  if (!items || items.length === 0) {
    for (const k of Object.keys(data).sort()) out[k] = { data: data[k], mode, ...(gid !== undefined ? { gid } : {}) };
    return out;
  }
  for (const it of items) {
    const v = data[it.key];
    if (v === undefined) {
      if (optional) continue;
      throw new VolumeError('FailedMount', `${kind === 'configmap' ? 'configmap' : 'secret'} references non-existent ${kind === 'configmap' ? 'config' : 'secret'} key: ${it.key}`);
    }
    out[it.path] = { data: v, mode: it.mode ?? mode, ...(gid !== undefined ? { gid } : {}) };
  }
  void name;
  return out;
}

export async function configMapPayload(kube: KubeClients | undefined, namespace: string, src: { name?: string; items?: KeyToPath[]; optional?: boolean }, mode: number, gid?: number): Promise<Built> {
  const name = src.name ?? '';
  const k = needKube(kube, `configmap "${name}"`);
  let cm;
  try {
    cm = await getConfigMap(k, namespace, name);
  } catch (e) {
    if (isNotFound(e)) {
      if (src.optional) return empty();
      throw new VolumeError('FailedMount', `configmap "${name}" not found`);
    }
    throw new VolumeError('FailedMount', `cannot read configmap "${name}": ${(e as Error).message}`);
  }
  const data: Record<string, Buffer> = {};
  for (const [key, v] of Object.entries(cm.data ?? {})) data[key] = Buffer.from(v, 'utf8');
  for (const [key, v] of Object.entries(cm.binaryData ?? {})) data[key] = Buffer.from(v, 'base64');
  return { payload: project('configmap', name, data, src.items, mode, src.optional ?? false, gid), resourceVersions: { [`configmap/${name}`]: cm.metadata?.resourceVersion ?? '' }, tokens: [], secretValues: [] };
}

export async function secretPayload(kube: KubeClients | undefined, namespace: string, src: { name?: string; items?: KeyToPath[]; optional?: boolean }, mode: number, gid?: number): Promise<Built> {
  const name = src.name ?? '';
  const k = needKube(kube, `secret "${name}"`);
  let s;
  try {
    s = await getSecret(k, namespace, name);
  } catch (e) {
    if (isNotFound(e)) {
      if (src.optional) return empty();
      throw new VolumeError('FailedMount', `secret "${name}" not found`);
    }
    throw new VolumeError('FailedMount', `cannot read secret "${name}": ${(e as Error).message}`);
  }
  const data: Record<string, Buffer> = {};
  for (const [key, v] of Object.entries(s.data ?? {})) data[key] = Buffer.from(v, 'base64');
  return { payload: project('secret', name, data, src.items, mode, src.optional ?? false, gid), resourceVersions: { [`secret/${name}`]: s.metadata?.resourceVersion ?? '' }, tokens: [], secretValues: Object.values(data) };
}

export function downwardPayload(plan: VolumePlan, items: DownwardItem[], mode: number, allocatable?: Record<string, string>, gid?: number): Built {
  const payload: Payload = {};
  for (const it of items) {
    try {
      payload[it.path] = { data: Buffer.from(renderDownwardItem(plan, it, allocatable), 'utf8'), mode: it.mode ?? mode, ...(gid !== undefined ? { gid } : {}) };
    } catch (e) {
      throw new VolumeError('FailedMount', `downwardAPI item ${it.path}: ${(e as Error).message}`);
    }
  }
  return { payload, resourceVersions: {}, tokens: [], secretValues: [] };
}

/** Upstream's default for a projected token without expirationSeconds (the API server fills 3600). */
export const DEFAULT_TOKEN_SECONDS = 3600;

export async function tokenPayload(kube: KubeClients | undefined, plan: VolumePlan, p: TokenProjection, mode: number, gid?: number): Promise<Built> {
  const k = needKube(kube, 'a service account token');
  const expirationSeconds = p.expirationSeconds ?? DEFAULT_TOKEN_SECONDS;
  try {
    const tok = await requestServiceAccountToken(k, {
      namespace: plan.namespace,
      serviceAccountName: plan.serviceAccountName,
      // empty: the API server's own audiences, as upstream does for an unset audience
      audiences: p.audience ? [p.audience] : [],
      expirationSeconds,
      pod: { name: plan.podName, uid: plan.podUid },
    });
    return { payload: { [p.path]: { data: Buffer.from(tok.token, 'utf8'), mode, ...(gid !== undefined ? { gid } : {}) } }, resourceVersions: {}, tokens: [{ path: p.path, audience: p.audience ?? '', expirationSeconds }], secretValues: [Buffer.from(tok.token, 'utf8')] };
  } catch (e) {
    throw new VolumeError('FailedMount', `failed to fetch token for service account "${plan.serviceAccountName}": ${(e as Error).message}`);
  }
}

function merge(into: Built, b: Built): void {
  Object.assign(into.payload, b.payload);
  Object.assign(into.resourceVersions, b.resourceVersions);
  into.tokens.push(...b.tokens);
  into.secretValues.push(...b.secretValues);
}

/**
 * The payload of a projected volume; `reuseToken(path)` may return the token bytes already on
 * disk (refresh keeps a token that is not yet due, as upstream's token manager caches it).
 */
export async function projectedPayload(kube: KubeClients | undefined, plan: VolumePlan, src: t.TypeOf<typeof ProjectedSource>, allocatable: Record<string, string> | undefined, gid: number | undefined, reuseToken?: (p: TokenProjection) => Buffer | undefined): Promise<Built> {
  const mode = src.defaultMode ?? 0o644;
  const out = empty();
  for (const s of src.sources ?? []) {
    if (s.configMap) merge(out, await configMapPayload(kube, plan.namespace, s.configMap, mode, gid));
    else if (s.secret) merge(out, await secretPayload(kube, plan.namespace, s.secret, mode, gid));
    else if (s.downwardAPI) merge(out, downwardPayload(plan, s.downwardAPI.items ?? [], mode, allocatable, gid));
    else if (s.serviceAccountToken) {
      const have = reuseToken?.(s.serviceAccountToken);
      if (have) {
        out.payload[s.serviceAccountToken.path] = { data: have, mode, ...(gid !== undefined ? { gid } : {}) };
        out.tokens.push({ path: s.serviceAccountToken.path, audience: s.serviceAccountToken.audience ?? '', expirationSeconds: s.serviceAccountToken.expirationSeconds ?? DEFAULT_TOKEN_SECONDS });
        out.secretValues.push(have);
      } else merge(out, await tokenPayload(kube, plan, s.serviceAccountToken, mode, gid));
    } else throw new VolumeError('FailedMount', `unsupported projected volume source: ${Object.keys(s).join(',') || 'empty'}`);
  }
  return out;
}
