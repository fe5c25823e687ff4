// What the start effects need to create a sandbox or a container, computed purely from the pod so
// the decision in the log says exactly what was asked of the runtime.
import { serviceEnvFor } from '../../model/service.ts';
import type { Container, LifecycleHandler, Pod } from '../../model/pod.ts';
import { parseQuantity } from '../../model/quantity.ts';
import { resolveEnv, type PodFacts, type ResolvedEnv } from './env.ts';
import { containerSpecHash } from './spec-hash.ts';
import type { ContainerKind } from './state.ts';
import { qosClass } from './qos.ts';
import type { MountPoint, VolumePlan } from '../../model/volume-plan.ts';

export interface SandboxPlan {
  name: string;
  namespace: string;
  uid: string;
  attempt: number;
  hostname: string;
  /** spec.subdomain (not with hostnameOverride): the sandbox's domain, `<subdomain>.<namespace>.svc.<clusterDomain>`. */
  subdomain?: string;
  /** spec.setHostnameAsFQDN: the kernel hostname is `<hostname>.<domain>`. */
  setHostnameAsFQDN?: boolean;
  /** spec.hostAliases, for the pod's hosts file (absent when none). */
  hostAliases?: { ip: string; hostnames?: string[] }[];
  logDirectory: string;
  dnsPolicy: string;
  dnsConfig?: Pod['spec']['dnsConfig'];
  portMappings: { protocol: string; containerPort: number; hostPort: number; hostIp?: string }[];
  labels: Record<string, string>;
  annotations: Record<string, string>;
  hostNetwork: boolean;
  hostPID: boolean;
  hostIPC: boolean;
  cgroupParent: string;
  sysctls: Record<string, string>;
  runAsUser?: number;
  runAsGroup?: number;
  supplementalGroups?: number[];
  /** Upstream HasPrivilegedContainer: containerd refuses a privileged container in a sandbox not marked so. Only when true. */
  privileged?: true;
}

export interface ContainerPlan {
  name: string;
  kind: ContainerKind;
  attempt: number;
  image: string;
  pullPolicy: 'Always' | 'IfNotPresent' | 'Never';
  command: string[];
  args: string[];
  workingDir?: string;
  env: ResolvedEnv[];
  envFrom: { prefix?: string; configMap?: string; secret?: string; optional: boolean }[];
  /** Service-link variables (upstream envvars.FromServices): below env and envFrom, usable in $(VAR). */
  serviceEnv?: { name: string; value: string }[];
  ports: { name?: string; containerPort: number; protocol: string }[];
  logPath: string;
  specHash: string;
  cpuShares?: number;
  cpuQuota?: number;
  cpuPeriod?: number;
  memoryLimitBytes?: number;
  tty: boolean;
  stdin: boolean;
  runAsUser?: number;
  runAsGroup?: number;
  privileged: boolean;
  /** Effective runAsNonRoot (container, else pod), only when true: checked against the image's user at start. */
  runAsNonRoot?: true;
  /** allowPrivilegeEscalation: false (upstream AddNoNewPrivileges), only when set. */
  noNewPrivs?: true;
  readOnlyRootFilesystem: boolean;
  terminationMessagePath: string;
  /** File (default) or FallbackToLogsOnError. */
  terminationMessagePolicy?: string;
  postStart?: LifecycleHandler;
  /** Names of the pod's imagePullSecrets (absent when none). */
  pullSecrets?: string[];
  /** Bind mounts from the pod's set-up volumes. */
  mounts: ContainerMount[];
}

/**
 * One volume mount as asked: `hostPath` is the volume's own path; a subPath or subPathExpr is kept
 * as written and resolved by the start effect inside the volume (never joined here: the volume's
 * content belongs to the pod and may hold symlinks). `index` is the mount's position in the
 * container's volumeMounts, which names its bind target as upstream (volume-subpaths/<volume>/<container>/<index>).
 */
export interface ContainerMount {
  containerPath: string;
  hostPath: string;
  readOnly: boolean;
  volume?: string;
  index?: number;
  subPath?: string;
  subPathExpr?: string;
}

export const podLogDirectory = (pod: Pod, logsDir = '/var/log/pods') =>
  `${logsDir}/${pod.metadata.namespace ?? 'default'}_${pod.metadata.name}_${pod.metadata.uid}`;

export function cgroupParentFor(pod: Pod): string {
  const qos = qosClass(pod);
  const uid = pod.metadata.uid ?? '';
  return qos === 'Guaranteed' ? `/kubepods/pod${uid}` : `/kubepods/${qos.toLowerCase()}/pod${uid}`;
}

export function sandboxPlan(pod: Pod, attempt: number, podLogsDir?: string): SandboxPlan {
  const m = pod.metadata;
  const ports = [...(pod.spec.initContainers ?? []), ...pod.spec.containers].flatMap((c) =>
    (c.ports ?? []).filter((p) => p.hostPort).map((p) => ({ protocol: p.protocol ?? 'TCP', containerPort: p.containerPort, hostPort: p.hostPort ?? 0, hostIp: p.hostIP })),
  );
  const sc = pod.spec.securityContext;
  return {
    name: m.name,
    namespace: m.namespace ?? 'default',
    uid: m.uid ?? '',
    attempt,
    hostname: pod.spec.hostNetwork ? '' : podHostname(pod).hostname,
    ...(!pod.spec.hostNetwork && podHostname(pod).subdomain ? { subdomain: podHostname(pod).subdomain } : {}),
    ...(!pod.spec.hostNetwork && pod.spec.setHostnameAsFQDN ? { setHostnameAsFQDN: true } : {}),
    ...(pod.spec.hostAliases?.length ? { hostAliases: pod.spec.hostAliases } : {}),
    logDirectory: podLogDirectory(pod, podLogsDir),
    dnsPolicy: pod.spec.dnsPolicy ?? 'ClusterFirst',
    dnsConfig: pod.spec.dnsConfig,
    portMappings: ports,
    labels: { ...(m.labels ?? {}), 'io.kubernetes.pod.name': m.name, 'io.kubernetes.pod.namespace': m.namespace ?? 'default', 'io.kubernetes.pod.uid': m.uid ?? '' },
    annotations: { ...(m.annotations ?? {}) },
    hostNetwork: pod.spec.hostNetwork ?? false,
    hostPID: pod.spec.hostPID ?? false,
    hostIPC: pod.spec.hostIPC ?? false,
    cgroupParent: cgroupParentFor(pod),
    sysctls: Object.fromEntries((sc?.sysctls ?? []).map((s) => [s.name, s.value])),
    runAsUser: sc?.runAsUser,
    runAsGroup: sc?.runAsGroup,
    supplementalGroups: sc?.supplementalGroups,
    ...([...(pod.spec.initContainers ?? []), ...pod.spec.containers].some((c) => c.securityContext?.privileged === true) ? { privileged: true as const } : {}),
  };
}

/**
 * Upstream's GeneratePodHostNameAndDomain: hostnameOverride (no domain), else spec.hostname, else
 * the pod name; cut to 63 characters without a trailing '-' or '.'. The values were checked when
 * the pod was decoded (src/model/pod.ts).
 */
export function podHostname(pod: Pod): { hostname: string; subdomain?: string } {
  const cut = (h: string) => (h.length <= 63 ? h : h.slice(0, 63).replace(/[-.]+$/, ''));
  if (pod.spec.hostnameOverride !== undefined) return { hostname: cut(pod.spec.hostnameOverride) };
  const hostname = cut(pod.spec.hostname || pod.metadata.name);
  return pod.spec.subdomain ? { hostname, subdomain: pod.spec.subdomain } : { hostname };
}

/** Upstream default: Always for :latest or untagged images, IfNotPresent otherwise. */
export function pullPolicyOf(c: Container): ContainerPlan['pullPolicy'] {
  if (c.imagePullPolicy) return c.imagePullPolicy;
  const image = c.image ?? '';
  if (image.includes('@')) return 'IfNotPresent';
  const lastSegment = image.split('/').pop() ?? '';
  const tag = lastSegment.includes(':') ? lastSegment.split(':').pop() : undefined;
  return tag === undefined || tag === 'latest' ? 'Always' : 'IfNotPresent';
}

export function volumePlan(pod: Pod, nodeName: string): VolumePlan {
  const m = pod.metadata;
  return {
    podUid: m.uid ?? '',
    namespace: m.namespace ?? 'default',
    podName: m.name,
    nodeName: pod.spec.nodeName ?? nodeName,
    serviceAccountName: pod.spec.serviceAccountName ?? 'default',
    volumes: pod.spec.volumes ?? [],
    labels: m.labels ?? {},
    annotations: m.annotations ?? {},
    fsGroup: pod.spec.securityContext?.fsGroup,
    containers: [...(pod.spec.initContainers ?? []), ...pod.spec.containers].map((c) => ({ name: c.name, ...(c.resources ? { resources: c.resources } : {}) })),
  };
}

function mountsFor(c: Container, volumes: Record<string, MountPoint>): ContainerMount[] {
  return (c.volumeMounts ?? []).flatMap((vm, index) => {
    const v = volumes[vm.name];
    if (!v) return [];
    const readOnly = (vm.readOnly ?? false) || (v.readOnly ?? false);
    if (!vm.subPath && !vm.subPathExpr) return [{ containerPath: vm.mountPath, hostPath: v.hostPath, readOnly }];
    return [{
      containerPath: vm.mountPath, hostPath: v.hostPath, readOnly, volume: vm.name, index,
      ...(vm.subPath ? { subPath: vm.subPath } : {}), ...(vm.subPathExpr ? { subPathExpr: vm.subPathExpr } : {}),
    }];
  });
}

/** Only pods from the API server get them: upstream has no service lister without one. */
function serviceEnvOf(pod: Pod, facts: PodFacts): { serviceEnv?: ContainerPlan['serviceEnv'] } {
  if (!facts.services) return {};
  const vars = serviceEnvFor(Object.values(facts.services), pod.metadata.namespace ?? 'default', pod.spec.enableServiceLinks ?? true);
  return vars.length ? { serviceEnv: vars } : {};
}

export function containerPlan(pod: Pod, c: Container, kind: ContainerKind, attempt: number, facts: PodFacts, volumes: Record<string, MountPoint> = {}): ContainerPlan {
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const cpuReq = parseQuantity(String(requests.cpu ?? limits.cpu ?? '0')) ?? 0;
  const cpuLim = limits.cpu !== undefined ? parseQuantity(String(limits.cpu)) : undefined;
  const memLim = limits.memory !== undefined ? parseQuantity(String(limits.memory)) : undefined;
  const sc = c.securityContext;
  const psc = pod.spec.securityContext;
  return {
    name: c.name,
    kind,
    attempt,
    image: c.image ?? '',
    pullPolicy: pullPolicyOf(c),
    command: c.command ?? [],
    args: c.args ?? [],
    workingDir: c.workingDir,
    env: resolveEnv(pod, c, facts),
    ...serviceEnvOf(pod, facts),
    envFrom: (c.envFrom ?? []).map((e) => ({
      prefix: e.prefix,
      configMap: e.configMapRef?.name,
      secret: e.secretRef?.name,
      optional: e.configMapRef?.optional ?? e.secretRef?.optional ?? false,
    })),
    ports: (c.ports ?? []).map((p) => ({ name: p.name, containerPort: p.containerPort, protocol: p.protocol ?? 'TCP' })),
    logPath: `${c.name}/${attempt}.log`,
    specHash: containerSpecHash(c),
    // Upstream's conversions: shares = milliCPU * 1024 / 1000 (min 2); quota over a 100 ms period.
    cpuShares: Math.max(2, Math.floor(cpuReq * 1024)),
    cpuPeriod: cpuLim !== undefined ? 100_000 : undefined,
    cpuQuota: cpuLim !== undefined ? Math.max(1000, Math.floor(cpuLim * 100_000)) : undefined,
    memoryLimitBytes: memLim,
    tty: c.tty ?? false,
    stdin: c.stdin ?? false,
    runAsUser: sc?.runAsUser ?? psc?.runAsUser,
    runAsGroup: sc?.runAsGroup ?? psc?.runAsGroup,
    privileged: sc?.privileged ?? false,
    ...((sc?.runAsNonRoot ?? psc?.runAsNonRoot) ? { runAsNonRoot: true as const } : {}),
    ...(sc?.allowPrivilegeEscalation === false ? { noNewPrivs: true as const } : {}),
    readOnlyRootFilesystem: sc?.readOnlyRootFilesystem ?? false,
    terminationMessagePath: c.terminationMessagePath ?? '/dev/termination-log',
    // Only when not the default: recorded plans of older logs stay the same.
    ...(c.terminationMessagePolicy && c.terminationMessagePolicy !== 'File' ? { terminationMessagePolicy: c.terminationMessagePolicy } : {}),
    postStart: c.lifecycle?.postStart,
    mounts: mountsFor(c, volumes),
    ...pullSecretsOf(pod),
  };
}

/**
 * The pod's imagePullSecrets, by name only (the credentials are read when pulling and never logged).
 * As upstream's getPullSecretsForPod, entries without a name are skipped. The service account's
 * pull secrets are not read here: the API server's admission copies them into the pod spec.
 * Absent when there are none, so plans of pods without pull secrets are unchanged.
 */
function pullSecretsOf(pod: Pod): { pullSecrets?: string[] } {
  const names = (pod.spec.imagePullSecrets ?? []).map((r) => r.name ?? '').filter((n) => n !== '');
  return names.length > 0 ? { pullSecrets: names } : {};
}
