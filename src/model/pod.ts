// The part of a v1.Pod the node agent acts on. Unknown fields (managedFields, status...) are
// stripped on decode so log entries stay small and stable.
import * as t from 'io-ts';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { isIP } from 'node:net';
import { decodeWith, obj } from './decode.ts';

const IntOrString = t.union([t.number, t.string], 'IntOrString');
const StringMap = t.record(t.string, t.string, 'StringMap');

export const KeyRef = obj('KeyRef', { key: t.string }, { name: t.string, optional: t.boolean });
export const FieldRef = obj('FieldRef', { fieldPath: t.string }, { apiVersion: t.string });
export const ResourceFieldRef = obj('ResourceFieldRef', { resource: t.string }, { containerName: t.string, divisor: IntOrString });

export const EnvVar = obj('EnvVar', { name: t.string }, {
  value: t.string,
  valueFrom: obj('EnvVarSource', {}, {
    fieldRef: FieldRef,
    resourceFieldRef: ResourceFieldRef,
    configMapKeyRef: KeyRef,
    secretKeyRef: KeyRef,
  }),
});
export type EnvVar = t.TypeOf<typeof EnvVar>;

export const EnvFrom = obj('EnvFromSource', {}, {
  prefix: t.string,
  configMapRef: obj('ConfigMapEnvSource', {}, { name: t.string, optional: t.boolean }),
  secretRef: obj('SecretEnvSource', {}, { name: t.string, optional: t.boolean }),
});

export const HttpHeader = obj('HTTPHeader', { name: t.string, value: t.string }, {});
export const ExecAction = obj('ExecAction', {}, { command: t.array(t.string) });
export const HttpGetAction = obj('HTTPGetAction', { port: IntOrString }, {
  path: t.string, host: t.string, scheme: t.string, httpHeaders: t.array(HttpHeader),
});
export const TcpSocketAction = obj('TCPSocketAction', { port: IntOrString }, { host: t.string });
export const GrpcAction = obj('GRPCAction', { port: t.number }, { service: t.string });

export const Probe = obj('Probe', {}, {
  exec: ExecAction, httpGet: HttpGetAction, tcpSocket: TcpSocketAction, grpc: GrpcAction,
  initialDelaySeconds: t.number, timeoutSeconds: t.number, periodSeconds: t.number,
  successThreshold: t.number, failureThreshold: t.number, terminationGracePeriodSeconds: t.number,
});
export type Probe = t.TypeOf<typeof Probe>;

export const LifecycleHandler = obj('LifecycleHandler', {}, {
  exec: ExecAction, httpGet: HttpGetAction, tcpSocket: TcpSocketAction,
  sleep: obj('SleepAction', { seconds: t.number }, {}),
});
export type LifecycleHandler = t.TypeOf<typeof LifecycleHandler>;

export const ContainerPort = obj('ContainerPort', { containerPort: t.number }, {
  name: t.string, protocol: t.string, hostPort: t.number, hostIP: t.string,
});

export const Resources = obj('ResourceRequirements', {}, {
  limits: t.record(t.string, IntOrString), requests: t.record(t.string, IntOrString),
});

export const VolumeMount = obj('VolumeMount', { name: t.string, mountPath: t.string }, {
  readOnly: t.boolean, subPath: t.string, subPathExpr: t.string, mountPropagation: t.string,
});

export const SecurityContext = obj('SecurityContext', {}, {
  runAsUser: t.number, runAsGroup: t.number, runAsNonRoot: t.boolean, privileged: t.boolean,
  readOnlyRootFilesystem: t.boolean, allowPrivilegeEscalation: t.boolean,
  capabilities: obj('Capabilities', {}, { add: t.array(t.string), drop: t.array(t.string) }),
});

export const Container = obj('Container', { name: t.string }, {
  image: t.string,
  command: t.array(t.string),
  args: t.array(t.string),
  workingDir: t.string,
  env: t.array(EnvVar),
  envFrom: t.array(EnvFrom),
  ports: t.array(ContainerPort),
  resources: Resources,
  volumeMounts: t.array(VolumeMount),
  livenessProbe: Probe,
  readinessProbe: Probe,
  startupProbe: Probe,
  lifecycle: obj('Lifecycle', {}, { postStart: LifecycleHandler, preStop: LifecycleHandler }),
  terminationMessagePath: t.string,
  terminationMessagePolicy: t.string,
  imagePullPolicy: t.keyof({ Always: null, IfNotPresent: null, Never: null }),
  /** Only `Always`, on init containers: a restartable init container (sidecar). */
  restartPolicy: t.string,
  securityContext: SecurityContext,
  stdin: t.boolean,
  tty: t.boolean,
});
export type Container = t.TypeOf<typeof Container>;

// Volumes are kept as opaque-but-JSON objects here; the volume manager decodes its own sources.
export const Volume = t.intersection([t.type({ name: t.string }), t.UnknownRecord], 'Volume');

export const PodSpec = obj('PodSpec', { containers: t.array(Container) }, {
  initContainers: t.array(Container),
  nodeName: t.string,
  restartPolicy: t.keyof({ Always: null, OnFailure: null, Never: null }),
  terminationGracePeriodSeconds: t.number,
  activeDeadlineSeconds: t.number,
  dnsPolicy: t.string,
  dnsConfig: obj('PodDNSConfig', {}, {
    nameservers: t.array(t.string), searches: t.array(t.string),
    options: t.array(obj('PodDNSConfigOption', {}, { name: t.string, value: t.string })),
  }),
  hostNetwork: t.boolean,
  hostPID: t.boolean,
  hostIPC: t.boolean,
  hostname: t.string,
  subdomain: t.string,
  /** Beta, on by default at the pin (feature HostnameOverride): the pod's hostname, no domain. */
  hostnameOverride: t.string,
  setHostnameAsFQDN: t.boolean,
  hostAliases: t.array(obj('HostAlias', { ip: t.string }, { hostnames: t.array(t.string) })),
  serviceAccountName: t.string,
  /** Names of kubernetes.io/dockerconfigjson (or dockercfg) secrets in the pod's namespace. */
  imagePullSecrets: t.array(obj('LocalObjectReference', {}, { name: t.string })),
  automountServiceAccountToken: t.boolean,
  volumes: t.array(Volume),
  securityContext: obj('PodSecurityContext', {}, {
    runAsUser: t.number, runAsGroup: t.number, runAsNonRoot: t.boolean, fsGroup: t.number,
    supplementalGroups: t.array(t.number),
    sysctls: t.array(obj('Sysctl', { name: t.string, value: t.string }, {})),
  }),
  priority: t.number,
  priorityClassName: t.string,
  enableServiceLinks: t.boolean,
  shareProcessNamespace: t.boolean,
  os: obj('PodOS', { name: t.string }, {}),
  readinessGates: t.array(obj('PodReadinessGate', { conditionType: t.string }, {})),
});
export type PodSpec = t.TypeOf<typeof PodSpec>;

export const OwnerReference = obj('OwnerReference', { kind: t.string, name: t.string, uid: t.string }, {
  apiVersion: t.string, controller: t.boolean,
});

export const PodMetadata = obj('ObjectMeta', { name: t.string }, {
  namespace: t.string,
  uid: t.string,
  resourceVersion: t.string,
  generation: t.number,
  creationTimestamp: t.string,
  deletionTimestamp: t.string,
  deletionGracePeriodSeconds: t.number,
  labels: StringMap,
  annotations: StringMap,
  ownerReferences: t.array(OwnerReference),
});

export const Pod = obj('Pod', { metadata: PodMetadata, spec: PodSpec }, {
  apiVersion: t.string,
  kind: t.string,
  /** Only the conditions named by spec.readinessGates (set by other controllers; see decodePod). */
  status: obj('PodStatus', {}, { conditions: t.array(obj('PodCondition', { type: t.string, status: t.string }, {})) }),
});
export type Pod = t.TypeOf<typeof Pod>;

const DNS1123_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
export const isDns1123Label = (v: string) => v.length <= 63 && DNS1123_LABEL.test(v);
/** Upstream's IsDNS1123Subdomain: dot-separated labels, 253 characters at most. */
export const isDns1123Subdomain = (v: string) => v.length > 0 && v.length <= 253 && v.split('.').every((l) => DNS1123_LABEL.test(l));

/**
 * The API server's checks of the names that end up in the sandbox's hostname and in the pod's
 * hosts file (apis/core/validation ValidatePodSpec): static pods skip them, and a newline or a
 * blank in one would add lines to the hosts file.
 */
function hostnameProblems(spec: PodSpec): string[] {
  const out: string[] = [];
  if (spec.hostname !== undefined && spec.hostname !== '' && !isDns1123Label(spec.hostname)) out.push(`spec.hostname ${JSON.stringify(spec.hostname)}: must be a DNS-1123 label`);
  if (spec.subdomain !== undefined && spec.subdomain !== '' && !isDns1123Label(spec.subdomain)) out.push(`spec.subdomain ${JSON.stringify(spec.subdomain)}: must be a DNS-1123 label`);
  if (spec.hostnameOverride !== undefined && !isDns1123Subdomain(spec.hostnameOverride)) out.push(`spec.hostnameOverride ${JSON.stringify(spec.hostnameOverride)}: must be a DNS-1123 subdomain`);
  (spec.hostAliases ?? []).forEach((a, i) => {
    if (!isIP(a.ip)) out.push(`spec.hostAliases[${i}].ip ${JSON.stringify(a.ip)}: must be a valid IP address`);
    for (const h of a.hostnames ?? []) if (!isDns1123Subdomain(h)) out.push(`spec.hostAliases[${i}].hostnames ${JSON.stringify(h)}: must be a DNS-1123 subdomain`);
  });
  return out;
}

/** Checks io-ts cannot express: the ones whose failure would make the runtime misbehave. */
function validate(pod: Pod, requireImage: boolean): string[] {
  const problems: string[] = [];
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  if (pod.spec.containers.length === 0) problems.push('spec.containers: must have at least one container');
  const seen = new Set<string>();
  all.forEach((c) => {
    if (!DNS1123_LABEL.test(c.name) || c.name.length > 63) problems.push(`container name ${JSON.stringify(c.name)}: must be a DNS-1123 label`);
    if (seen.has(c.name)) problems.push(`container name ${JSON.stringify(c.name)}: duplicate`);
    seen.add(c.name);
    if (requireImage && !c.image) problems.push(`container ${c.name}: image is required`);
  });
  for (const c of pod.spec.initContainers ?? []) {
    if (c.restartPolicy !== undefined && c.restartPolicy !== 'Always') {
      problems.push(`initContainer ${c.name}: restartPolicy may only be Always`);
    }
  }
  problems.push(...hostnameProblems(pod.spec));
  const vols = new Set((pod.spec.volumes ?? []).map((v) => v.name));
  for (const c of all) {
    for (const m of c.volumeMounts ?? []) {
      if (!vols.has(m.name)) problems.push(`container ${c.name}: volumeMount ${m.name} names no volume`);
    }
  }
  return problems;
}

/**
 * The pod's status is the agent's to write, except the conditions of its readinessGates, which
 * other controllers set and the Ready condition depends on: only those are kept (absent without gates),
 * so observations do not carry the rest of the status.
 */
function withGateConditionsOnly(pod: Pod): Pod {
  const { status, ...rest } = pod;
  const gates = new Set((pod.spec.readinessGates ?? []).map((g) => g.conditionType));
  if (!gates.size) return rest;
  const conditions = (status?.conditions ?? []).filter((c) => gates.has(c.type)).map((c) => ({ type: c.type, status: c.status }));
  return { ...rest, status: { conditions } };
}

/** Decode an API or manifest object into a Pod, or a list of readable problems. */
export function decodePod(raw: unknown, opts: { requireImage?: boolean } = {}): Either<string[], Pod> {
  const r = decodeWith(Pod, raw);
  if (isLeft(r)) return r;
  const problems = validate(r.right, opts.requireImage ?? true);
  return problems.length ? left(problems) : right(withGateConditionsOnly(r.right));
}

export const podKey = (p: Pod) => `${p.metadata.namespace ?? 'default'}/${p.metadata.name}`;
