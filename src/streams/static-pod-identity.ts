// Static pod identity: parse a manifest file and give the pod the identity upstream's file source
// gives it (pkg/kubelet/config/common.go applyDefaults). Pure apart from the md5; no I/O.
//
// Upstream, for a pod read from file F on node N whose manifest sets no metadata.uid:
//   uid  = hex(fnv128a(DeepHashObject(pod) + "host:" + N + "file:" + F)), 32 hex digits
//   name = name + "-" + lower(N); namespace defaults to "default"; spec.nodeName = N;
//   annotations kubernetes.io/config.hash = uid, kubernetes.io/config.source = file,
//   kubernetes.io/config.seen = when the config layer first saw it.
// A manifest that sets metadata.uid keeps it (and then an edit is an update of the same pod).
//
// Deviation: DeepHashObject hashes Go's spew dump of the decoded (and defaulted) internal Pod,
// which cannot be reproduced outside Go. We hash (md5, also 32 hex digits) the node, the file and
// the canonical JSON (keys sorted, no whitespace) of the manifest object as parsed, before any
// defaulting. Properties kept: the uid is stable
// across restarts and across formatting/comment/key-order edits, and changes with any change of
// content, node name or file path. The values differ from upstream's, so a ledgerlet node and a
// kubelet on the same manifests give their static pods different uids.
import { createHash } from 'node:crypto';
import { parseAllDocuments } from 'yaml';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { decodeWith } from '../model/decode.ts';
import { Pod } from '../model/pod.ts';
import { validateStaticPod } from '../model/static-pod-validation.ts';

export const ConfigHashAnnotation = 'kubernetes.io/config.hash';
export const ConfigSeenAnnotation = 'kubernetes.io/config.seen';
export const ConfigSourceAnnotation = 'kubernetes.io/config.source';
export const FileSource = 'file';

/** Extensions read from the manifest directory (upstream reads every non-dot file; see static-pods.ts). */
export const MANIFEST_EXTENSIONS = ['.yaml', '.yml', '.json'] as const;

/**
 * How deeply a manifest may nest objects and lists. A pod's deepest real field is about a dozen
 * levels down; without a limit a hostile file overflows the parser's stack, and the message it
 * gives then names a different column at every attempt (upstream's decoder limits to 10000).
 */
export const MAX_MANIFEST_DEPTH = 100;
const TOO_DEEP = `manifest nests objects or lists more than ${MAX_MANIFEST_DEPTH} levels deep`;
const STACK_OVERFLOW = /Maximum call stack size exceeded|too much recursion/i;

/**
 * An upper bound of the flow-style nesting ('[' and '{' not yet closed), counted on the raw text
 * before parsing: the YAML parser takes seconds on a file of 100 000 '[' and then overflows its
 * stack. Brackets inside quoted strings count too, so the bound is loose (10x the real limit).
 */
export function flowNestingTooDeep(text: string, limit = MAX_MANIFEST_DEPTH * 10): boolean {
  let depth = 0;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c === 0x5b || c === 0x7b) {
      if (++depth > limit) return true;
    } else if ((c === 0x5d || c === 0x7d) && depth > 0) depth--;
  }
  return false;
}

/** Nesting depth of a parsed value, without recursion (the value may be hostile). */
export function nestingDepth(root: unknown, stopAt = Infinity): number {
  let max = 0;
  const stack: [unknown, number][] = [[root, 0]];
  while (stack.length) {
    const [v, d] = stack.pop()!;
    if (v === null || typeof v !== 'object') continue;
    if (d + 1 > max) max = d + 1;
    if (max > stopAt) return max;
    for (const child of Array.isArray(v) ? v : Object.values(v)) stack.push([child, d + 1]);
  }
  return max;
}

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
  if (flowNestingTooDeep(text)) return left([TOO_DEEP]);
  let docs;
  try {
    docs = parseAllDocuments(text, { version: '1.1' });
  } catch (e) {
    const msg = e instanceof Error ? firstLine(e.message) : String(e);
    return left([STACK_OVERFLOW.test(msg) ? TOO_DEEP : `YAML: ${msg}`]);
  }
  const list = Array.isArray(docs) ? docs : [];
  const problems: string[] = [];
  for (const d of list) for (const e of d.errors) problems.push(`YAML: ${firstLine(e.message)}`);
  if (problems.some((p) => STACK_OVERFLOW.test(p))) return left([TOO_DEEP]);
  if (problems.length) return left(problems);
  const nonEmpty = list.filter((d) => d.contents !== null && !(isNullScalar(d.contents)));
  if (nonEmpty.length === 0) return left(['manifest is empty']);
  if (nonEmpty.length > 1) return left([`manifest holds ${nonEmpty.length} YAML documents; a static pod manifest holds exactly one Pod`]);
  let value: unknown;
  try {
    value = nonEmpty[0].toJS({ maxAliasCount: 100 });
  } catch (e) {
    const msg = e instanceof Error ? firstLine(e.message) : String(e);
    return left([STACK_OVERFLOW.test(msg) ? TOO_DEEP : `YAML: ${msg}`]);
  }
  return nestingDepth(value, MAX_MANIFEST_DEPTH) > MAX_MANIFEST_DEPTH ? left([TOO_DEEP]) : right(value);
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

  const decoded = decodeWith(Pod, raw);
  if (isLeft(decoded)) return decoded;
  const invalid = validateStaticPod(decoded.right, nodeName);
  if (invalid.length) return left(invalid);
  const pod = structuredClone(decoded.right);
  const meta = pod.metadata;
  const name = staticPodName(meta.name, nodeName);

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
