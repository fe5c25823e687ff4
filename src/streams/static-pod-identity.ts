// Static pod identity: parse a manifest file and give the pod the identity upstream's file source
// gives it (pkg/kubelet/config/common.go applyDefaults). Pure apart from the md5; no I/O.
//
// Upstream, for a pod read from file F on node N whose manifest sets no metadata.uid:
//   uid  = hex(md5("host:" + N + "file:" + F + DeepHashObject(pod)))
//   name = name + "-" + lower(N); namespace defaults to "default"; spec.nodeName = N;
//   annotations kubernetes.io/config.hash = uid, kubernetes.io/config.source = file,
//   kubernetes.io/config.seen = when the config layer first saw it.
// A manifest that sets metadata.uid keeps it (and then an edit is an update of the same pod).
//
// Deviation: DeepHashObject hashes Go's spew dump of the decoded (and defaulted) internal Pod,
// which cannot be reproduced outside Go. We hash the canonical JSON (keys sorted, no whitespace)
// of the manifest object as parsed, before any defaulting. Properties kept: the uid is stable
// across restarts and across formatting/comment/key-order edits, and changes with any change of
// content, node name or file path. The values differ from upstream's, so a ledgerlet node and a
// kubelet on the same manifests give their static pods different uids.
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { decodePod, type Pod } from '../model/pod.ts';

export const ConfigHashAnnotation = 'kubernetes.io/config.hash';
export const ConfigSeenAnnotation = 'kubernetes.io/config.seen';
export const ConfigSourceAnnotation = 'kubernetes.io/config.source';
export const FileSource = 'file';

/** Extensions read from the manifest directory (upstream reads every non-dot file; see static-pods.ts). */
export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;

/** JSON with object keys sorted at every level: the same object always gives the same bytes. */
export function canonicalJson(v: unknown): string {
  if (v === null || typeof v !== 'object') return JSON.stringify(v) ?? 'null';
  if (Array.isArray(v)) return `[${v.map(canonicalJson).join(',')}]`;
  const o = v as Record<string, unknown>;
  const keys = Object.keys(o).filter((k) => o[k] !== undefined).sort();
  return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(o[k])}`).join(',')}}`;
}

/**
 * Parse one manifest file's text (YAML 1.1 as upstream's sigs.k8s.io/yaml, or JSON) into a plain
 * object. Exactly one non-empty document is accepted.
 */
export function parseManifest(text: string): Either<string[], unknown> {
  let docs;
  try {
    docs = parseAllDocuments(text, { version: '1.1' });
  } catch (e) {
    return left([`YAML: ${e instanceof Error ? e.message : String(e)}`]);
  }
  const list = Array.isArray(docs) ? docs : [];
  const problems: string[] = [];
  for (const d of list) for (const e of d.errors) problems.push(`YAML: ${firstLine(e.message)}`);
  if (problems.length) return left(problems);
  const nonEmpty = list.filter((d) => d.contents !== null && !(isNullScalar(d.contents)));
  if (nonEmpty.length === 0) return left(['manifest is empty']);
  if (nonEmpty.length > 1) return left([`manifest holds ${nonEmpty.length} YAML documents; a static pod manifest holds exactly one Pod`]);
  try {
    return right(nonEmpty[0].toJS({ maxAliasCount: 100 }));
  } catch (e) {
    return left([`YAML: ${e instanceof Error ? firstLine(e.message) : String(e)}`]);
  }
}

function isNullScalar(n: unknown): boolean {
  return typeof n === 'object' && n !== null && 'value' in n && (n as { value: unknown }).value === null && !('items' in n);
}

function firstLine(s: string): string {
  return s.split('\n')[0].replace(/:\s*$/, '');
}

/** upstream generatePodName: `<name>-<lowercased node name>` */
export function staticPodName(name: string, nodeName: string): string {
  return `${name}-${nodeName.toLowerCase()}`;
}

/** The uid a manifest without metadata.uid gets (see the deviation note at the top). */
export function staticPodUid(manifest: unknown, file: string, nodeName: string): string {
  const h = createHash('md5');
  h.update(`host:${nodeName}`);
  h.update(`file:${file}`);
  h.update(canonicalJson(manifest));
  return h.digest('hex');
}

/** Content digest of a parsed manifest: tells an edited manifest from an unchanged one. */
export function manifestDigest(manifest: unknown): string {
  return createHash('sha256').update(canonicalJson(manifest)).digest('hex');
}

export interface StaticPod {
  pod: Pod;
  uid: string;
  /** sha256 of the canonical manifest: equal digests mean an unchanged manifest */
  digest: string;
}

/**
 * Turn a manifest file's text into the static pod upstream would run, or the list of readable
 * problems (YAML syntax, wrong kind/apiVersion, pod decode and validation problems).
 * `file` is the manifest's path as the source reads it (it is part of the uid).
 */
export function staticPodFromManifest(text: string, file: string, nodeName: string, seenAt: Date): Either<string[], StaticPod> {
  const parsed = parseManifest(text);
  if (isLeft(parsed)) return parsed;
  const raw = parsed.right;
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) {
    return left([`(root): expected a Pod object, got ${Array.isArray(raw) ? 'a list' : JSON.stringify(raw)?.slice(0, 60)}`]);
  }
  const o = raw as Record<string, unknown>;
  const problems: string[] = [];
  if (o.kind !== 'Pod') problems.push(`kind: expected "Pod", got ${o.kind === undefined ? 'nothing' : JSON.stringify(o.kind)?.slice(0, 60)}`);
  if (o.apiVersion !== 'v1') problems.push(`apiVersion: expected "v1", got ${o.apiVersion === undefined ? 'nothing' : JSON.stringify(o.apiVersion)?.slice(0, 60)}`);
  if (problems.length) return left(problems);

  const decoded = decodePod(raw);
  if (isLeft(decoded)) return decoded;
  const pod = structuredClone(decoded.right);
  const meta = pod.metadata;

  if (meta.name === '' || !DNS1123_SUBDOMAIN.test(meta.name)) problems.push(`metadata.name ${JSON.stringify(meta.name)}: must be a DNS-1123 subdomain`);
  if (meta.namespace !== undefined && meta.namespace !== '' && !DNS1123_LABEL.test(meta.namespace)) {
    problems.push(`metadata.namespace ${JSON.stringify(meta.namespace)}: must be a DNS-1123 label`);
  }
  const name = staticPodName(meta.name, nodeName);
  if (problems.length === 0 && (name.length > 253 || !DNS1123_SUBDOMAIN.test(name))) {
    problems.push(`metadata.name ${JSON.stringify(name)} (with the node name appended): must be a DNS-1123 subdomain of at most 253 characters`);
  }
  if (problems.length) return left(problems);

  const uid = meta.uid !== undefined && meta.uid !== '' ? meta.uid : staticPodUid(raw, file, nodeName);
  meta.uid = uid;
  meta.name = name;
  if (meta.namespace === undefined || meta.namespace === '') meta.namespace = 'default';
  meta.annotations = {
    ...(meta.annotations ?? {}),
    [ConfigHashAnnotation]: uid,
    [ConfigSeenAnnotation]: seenAt.toISOString(),
    [ConfigSourceAnnotation]: FileSource,
  };
  pod.spec.nodeName = nodeName;
  return right({ pod, uid, digest: manifestDigest(raw) });
}
