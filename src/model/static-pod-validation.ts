// Validation of a static pod, as the API server validates a pod it creates (upstream's file source
// calls validation.ValidatePodCreate after applying the static pod defaults: pkg/kubelet/config/
// common.go tryDecodeSinglePod). Pure: no I/O, no clock. Only the checks that matter to a node
// agent reading hostile files are made; each message names the field as upstream's field.Error
// does ("<path>: Invalid value: ...") and depends only on the manifest, so an unchanged file gives
// the same message at every rescan.
//
// Deliberate differences from upstream (docs/security.md):
//  - metadata.uid is checked: upstream keeps any uid a manifest sets, and the uid names host
//    directories (<root>/pods/<uid>), cgroups and log directories. Only letters, digits and '-'.
//  - volumeMounts[].mountPath must be absolute (upstream leaves a relative one to the runtime).
import type { Pod, Container } from './pod.ts';

/** upstream validation.DNS1123LabelMaxLength / DNS1123SubdomainMaxLength */
const LABEL_MAX = 63;
const SUBDOMAIN_MAX = 253;
const UID_MAX = 128;
const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const DNS1123_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
/** A uid that is one safe path component: no '/', no '.', no '_' (log directories split on it). */
const SAFE_UID = /^[A-Za-z0-9]([-A-Za-z0-9]*[A-Za-z0-9])?$/;

const LABEL_HINT = `a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', start and end with an alphanumeric character, and be at most ${LABEL_MAX} characters`;
const SUBDOMAIN_HINT = `a lowercase RFC 1123 subdomain must consist of lower case alphanumeric characters, '-' or '.', start and end with an alphanumeric character, and be at most ${SUBDOMAIN_MAX} characters`;

/** The value as upstream prints it, cut so a hostile megabyte-long name cannot flood the log. */
export function quote(v: string): string {
  return v.length > 80 ? `${JSON.stringify(v.slice(0, 80))}...` : JSON.stringify(v);
}

export const isDns1123Label = (v: string) => v.length <= LABEL_MAX && DNS1123_LABEL.test(v);
export const isDns1123Subdomain = (v: string) => v.length <= SUBDOMAIN_MAX && DNS1123_SUBDOMAIN.test(v);
export const isSafeUid = (v: string) => v.length <= UID_MAX && SAFE_UID.test(v);

const isRecord = (u: unknown): u is Record<string, unknown> => typeof u === 'object' && u !== null && !Array.isArray(u);

const invalid = (path: string, value: string, why: string) => `${path}: Invalid value: ${quote(value)}: ${why}`;

/** upstream validateLocalDescendingPath: relative, and no '..' element. */
function descendingPathProblems(path: string, value: string): string[] {
  const out: string[] = [];
  if (value.startsWith('/')) out.push(invalid(path, value, 'must be a relative path'));
  if (value.split('/').includes('..')) out.push(invalid(path, value, "must not contain '..'"));
  return out;
}

function containerProblems(c: Container, path: string, volumes: Set<string>): string[] {
  const out: string[] = [];
  if (!c.image) out.push(`${path}.image: Required value`);
  const mountPaths = new Set<string>();
  (c.volumeMounts ?? []).forEach((m, i) => {
    const p = `${path}.volumeMounts[${i}]`;
    if (!m.name) out.push(`${p}.name: Required value`);
    else if (!volumes.has(m.name)) out.push(`${p}.name: Not found: ${quote(m.name)}`);
    if (!m.mountPath) out.push(`${p}.mountPath: Required value`);
    else {
      if (!m.mountPath.startsWith('/')) out.push(invalid(`${p}.mountPath`, m.mountPath, 'must be an absolute path'));
      if (mountPaths.has(m.mountPath)) out.push(invalid(`${p}.mountPath`, m.mountPath, 'must be unique'));
      mountPaths.add(m.mountPath);
    }
    if (m.subPath) out.push(...descendingPathProblems(`${p}.subPath`, m.subPath));
    if (m.subPathExpr) {
      if (m.subPath) out.push(invalid(`${p}.subPathExpr`, m.subPathExpr, 'subPathExpr and subPath are mutually exclusive'));
      out.push(...descendingPathProblems(`${p}.subPathExpr`, m.subPathExpr));
    }
  });
  return out;
}

/**
 * What upstream's PreventStaticPodAPIReferences (beta, on by default since 1.34) refuses: a static
 * pod is not an API object, so it may not use the node's credentials to read API objects.
 */
function apiReferenceProblems(pod: Pod): string[] {
  const spec = pod.spec;
  if (spec.serviceAccountName) return ['spec.serviceAccountName: Forbidden: static pods may not reference serviceaccounts'];
  const containers = [...(spec.initContainers ?? []), ...spec.containers];
  const envRefs = (kind: 'secretKeyRef' | 'configMapKeyRef') => containers.some((c) => (c.env ?? []).some((e) => e.valueFrom?.[kind]));
  const envFromRefs = (kind: 'secretRef' | 'configMapRef') => containers.some((c) => (c.envFrom ?? []).some((e) => e[kind]));
  if ((spec.imagePullSecrets ?? []).length > 0 || envRefs('secretKeyRef') || envFromRefs('secretRef')) {
    return ['spec: Forbidden: static pods may not reference secrets'];
  }
  if (envRefs('configMapKeyRef') || envFromRefs('configMapRef')) return ['spec: Forbidden: static pods may not reference configmaps'];
  const out: string[] = [];
  (spec.volumes ?? []).forEach((v, i) => {
    const api: Record<string, string> = {
      configMap: 'configmaps (via configmap volumes)', secret: 'secrets (via secret volumes)', csi: 'csidrivers (via CSI volumes)',
      persistentVolumeClaim: 'persistentvolumeclaims', ephemeral: 'persistentvolumeclaims (via ephemeral volumes)',
      azureFile: 'secrets (via azureFile volumes)', glusterfs: 'endpoints (via glusterFS volumes)',
    };
    const hit = Object.keys(api).find((k) => v[k] !== undefined && v[k] !== null);
    if (hit) {
      out.push(`spec.volumes[${i}]: Forbidden: static pods may not reference ${api[hit]}`);
      return;
    }
    const sources = isRecord(v.projected) && Array.isArray(v.projected.sources) ? v.projected.sources : [];
    for (const s of sources) {
      if (!isRecord(s)) continue;
      const kind = s.configMap ? 'configmaps' : s.secret ? 'secrets' : s.serviceAccountToken ? 'serviceaccounts' : s.clusterTrustBundle ? 'clustertrustbundles' : s.podCertificate ? 'podcertificates' : undefined;
      if (kind) {
        out.push(`spec.volumes[${i}]: Forbidden: static pods may not reference ${kind} (via projected volumes)`);
        return;
      }
    }
  });
  return out;
}

/**
 * The problems of a decoded static pod, before the static pod defaults are applied. `nodeName`
 * is needed because the name the pod will run under is `<name>-<node>` and must be valid too.
 * An empty list means the pod is valid.
 */
export function validateStaticPod(pod: Pod, nodeName: string): string[] {
  const out: string[] = [];
  const meta = pod.metadata;
  if (!meta.name) out.push('metadata.name: Required value: name is needed for the pod');
  else if (!isDns1123Subdomain(meta.name)) out.push(invalid('metadata.name', meta.name, SUBDOMAIN_HINT));
  else {
    const full = `${meta.name}-${nodeName.toLowerCase()}`;
    if (!isDns1123Subdomain(full)) out.push(invalid('metadata.name', full, `with the node name appended, ${SUBDOMAIN_HINT}`));
  }
  if (meta.namespace && !isDns1123Label(meta.namespace)) out.push(invalid('metadata.namespace', meta.namespace, LABEL_HINT));
  if (meta.uid !== undefined && meta.uid !== '' && !isSafeUid(meta.uid)) {
    out.push(invalid('metadata.uid', meta.uid, `must consist of letters, digits and '-', start and end with a letter or digit, and be at most ${UID_MAX} characters`));
  }

  const volumes = new Set<string>();
  (pod.spec.volumes ?? []).forEach((v, i) => {
    if (!v.name) out.push(`spec.volumes[${i}].name: Required value`);
    else if (!isDns1123Label(v.name)) out.push(invalid(`spec.volumes[${i}].name`, v.name, LABEL_HINT));
    else if (volumes.has(v.name)) out.push(`spec.volumes[${i}].name: Duplicate value: ${quote(v.name)}`);
    volumes.add(v.name);
  });

  if (pod.spec.containers.length === 0) out.push('spec.containers: Required value');
  const names = new Set<string>();
  const groups: [string, Container[]][] = [['spec.initContainers', pod.spec.initContainers ?? []], ['spec.containers', pod.spec.containers]];
  for (const [field, list] of groups) {
    list.forEach((c, i) => {
      const path = `${field}[${i}]`;
      if (!c.name) out.push(`${path}.name: Required value`);
      else if (!isDns1123Label(c.name)) out.push(invalid(`${path}.name`, c.name, LABEL_HINT));
      else if (names.has(c.name)) out.push(`${path}.name: Duplicate value: ${quote(c.name)}`);
      names.add(c.name);
      if (field === 'spec.initContainers' && c.restartPolicy !== undefined && c.restartPolicy !== 'Always') {
        out.push(`${path}.restartPolicy: Unsupported value: ${quote(c.restartPolicy)}: supported values: "Always"`);
      }
      out.push(...containerProblems(c, path, volumes));
    });
  }
  out.push(...apiReferenceProblems(pod));
  return out;
}
