// KubeletConfiguration (kubelet.config.k8s.io/v1beta1): the fields ledgerlet honours, with the
// upstream defaults (pkg/kubelet/apis/config/v1beta1/defaults.go) filled in.
import * as t from 'io-ts';
import { isLeft, left, right, type Either } from 'fp-ts/lib/Either.js';
import { parse as parseYaml } from 'yaml';
import { decodeWith } from './decode.ts';
import { parseDurationMs } from './duration.ts';
import { parseQuantity } from './quantity.ts';
import { servingTlsSettings } from './tls-settings.ts';

const Duration = new t.Type<string, string, unknown>(
  'Duration',
  (u): u is string => typeof u === 'string' && parseDurationMs(u) !== undefined,
  (u, c) => (typeof u === 'string' && parseDurationMs(u) !== undefined ? t.success(u) : t.failure(u, c, `expected a duration such as "10s", got ${JSON.stringify(u)}`)),
  (a) => a,
);

const AuthenticationFields = t.exact(t.partial({
  x509: t.exact(t.partial({ clientCAFile: t.string })),
  webhook: t.exact(t.partial({ enabled: t.boolean, cacheTTL: Duration })),
  anonymous: t.exact(t.partial({ enabled: t.boolean })),
}));
const AuthorizationFields = t.exact(t.partial({
  mode: t.keyof({ AlwaysAllow: null, Webhook: null }),
  webhook: t.exact(t.partial({ cacheAuthorizedTTL: Duration, cacheUnauthorizedTTL: Duration })),
}));

/** The kubelet API's authentication, with every field defaulted. */
export interface KubeletAuthentication {
  x509: { clientCAFile: string };
  webhook: { enabled: boolean; cacheTTL: string };
  anonymous: { enabled: boolean };
}
export interface KubeletAuthorization {
  mode: 'AlwaysAllow' | 'Webhook';
  webhook: { cacheAuthorizedTTL: string; cacheUnauthorizedTTL: string };
}

/** A taint as the Node API takes it; the effect is one of the three the scheduler knows. */
export const Taint = t.intersection([
  t.type({ key: t.string, effect: t.keyof({ NoSchedule: null, PreferNoSchedule: null, NoExecute: null }) }),
  t.partial({ value: t.string }),
]);
export type Taint = t.TypeOf<typeof Taint>;

/** --register-with-taints: `key=value:Effect` or `key:Effect`, comma-separated (upstream's syntax). */
export function parseTaintsFlag(flag: string): Either<string, Taint[]> {
  const taints: Taint[] = [];
  for (const item of flag.split(',').map((s) => s.trim()).filter(Boolean)) {
    const m = /^([^=:]+)(?:=([^:]*))?:(NoSchedule|PreferNoSchedule|NoExecute)$/.exec(item);
    if (!m) return left(`${item}: expected key=value:Effect with Effect NoSchedule, PreferNoSchedule or NoExecute`);
    const taint: unknown = { key: m[1], ...(m[2] !== undefined ? { value: m[2] } : {}), effect: m[3] };
    if (Taint.is(taint)) taints.push(taint);
  }
  return right(taints);
}

const Fields = {
  apiVersion: t.literal('kubelet.config.k8s.io/v1beta1'),
  kind: t.literal('KubeletConfiguration'),
  enableServer: t.boolean,
  tlsCertFile: t.string,
  tlsPrivateKeyFile: t.string,
  tlsMinVersion: t.string,
  tlsCipherSuites: t.array(t.string),
  streamingConnectionIdleTimeout: Duration,
  readOnlyPort: t.number,
  authentication: AuthenticationFields,
  authorization: AuthorizationFields,
  staticPodPath: t.string,
  fileCheckFrequency: Duration,
  syncFrequency: Duration,
  address: t.string,
  port: t.number,
  healthzPort: t.number,
  healthzBindAddress: t.string,
  clusterDomain: t.string,
  clusterDNS: t.array(t.string),
  resolvConf: t.string,
  maxPods: t.number,
  allowedUnsafeSysctls: t.array(t.string),
  podPidsLimit: t.number,
  nodeStatusUpdateFrequency: Duration,
  nodeStatusReportFrequency: Duration,
  nodeLeaseDurationSeconds: t.number,
  runtimeRequestTimeout: Duration,
  imagePullProgressDeadline: Duration,
  serializeImagePulls: t.boolean,
  registryPullQPS: t.number,
  eventRecordQPS: t.number,
  eventBurst: t.number,
  evictionHard: t.record(t.string, t.string),
  evictionPressureTransitionPeriod: Duration,
  cgroupDriver: t.keyof({ cgroupfs: null, systemd: null }),
  cgroupRoot: t.string,
  cgroupsPerQOS: t.boolean,
  containerRuntimeEndpoint: t.string,
  podLogsDir: t.string,
  registerNode: t.boolean,
  registerWithTaints: t.array(Taint),
  containerLogMaxSize: t.string,
  containerLogMaxFiles: t.number,
  containerLogMaxWorkers: t.number,
  containerLogMonitorInterval: Duration,
  shutdownGracePeriod: Duration,
  shutdownGracePeriodCriticalPods: Duration,
  shutdownGracePeriodByPodPriority: t.array(t.type({ priority: t.number, shutdownGracePeriodSeconds: t.number })),
  imageGCHighThresholdPercent: t.number,
  imageGCLowThresholdPercent: t.number,
  imageMinimumGCAge: Duration,
  imageMaximumGCAge: Duration,
};

export const KubeletConfigurationFile = t.exact(t.partial(Fields), 'KubeletConfiguration');
type Partial = t.TypeOf<typeof KubeletConfigurationFile>;
export type KubeletConfiguration = Required<Omit<Partial, 'registerWithTaints' | 'authentication' | 'authorization'>> & Pick<Partial, 'registerWithTaints'> & {
  authentication: KubeletAuthentication;
  authorization: KubeletAuthorization;
};

export const kubeletConfigDefaults: KubeletConfiguration = {
  apiVersion: 'kubelet.config.k8s.io/v1beta1',
  kind: 'KubeletConfiguration',
  enableServer: true,
  tlsCertFile: '',
  tlsPrivateKeyFile: '',
  tlsMinVersion: '',
  tlsCipherSuites: [],
  streamingConnectionIdleTimeout: '4h',
  readOnlyPort: 0,
  authentication: { x509: { clientCAFile: '' }, webhook: { enabled: true, cacheTTL: '2m' }, anonymous: { enabled: false } },
  authorization: { mode: 'Webhook', webhook: { cacheAuthorizedTTL: '5m', cacheUnauthorizedTTL: '30s' } },
  staticPodPath: '',
  fileCheckFrequency: '20s',
  syncFrequency: '1m',
  address: '0.0.0.0',
  port: 10250,
  healthzPort: 10248,
  healthzBindAddress: '127.0.0.1',
  clusterDomain: '',
  clusterDNS: [],
  resolvConf: '/etc/resolv.conf',
  maxPods: 110,
  allowedUnsafeSysctls: [],
  podPidsLimit: -1,
  nodeStatusUpdateFrequency: '10s',
  nodeStatusReportFrequency: '5m',
  nodeLeaseDurationSeconds: 40,
  runtimeRequestTimeout: '2m',
  imagePullProgressDeadline: '1m',
  serializeImagePulls: true,
  registryPullQPS: 5,
  eventRecordQPS: 50,
  eventBurst: 100,
  evictionHard: {
    'memory.available': '100Mi',
    'nodefs.available': '10%',
    'nodefs.inodesFree': '5%',
    'imagefs.available': '15%',
    'imagefs.inodesFree': '5%',
  },
  evictionPressureTransitionPeriod: '5m',
  cgroupDriver: 'cgroupfs',
  cgroupRoot: '/',
  cgroupsPerQOS: true,
  containerRuntimeEndpoint: 'unix:///run/containerd/containerd.sock',
  podLogsDir: '/var/log/pods',
  registerNode: true,
  containerLogMaxSize: '10Mi',
  containerLogMaxFiles: 5,
  containerLogMaxWorkers: 1,
  containerLogMonitorInterval: '10s',
  shutdownGracePeriod: '0s',
  shutdownGracePeriodCriticalPods: '0s',
  shutdownGracePeriodByPodPriority: [],
  imageGCHighThresholdPercent: 85,
  imageGCLowThresholdPercent: 80,
  imageMinimumGCAge: '2m',
  imageMaximumGCAge: '0s',
};

/** Parse a --config file's text; problems name the field. An empty file gives the defaults. */
export function parseKubeletConfig(text: string): Either<string[], KubeletConfiguration> {
  let raw: unknown;
  try {
    raw = parseYaml(text) ?? {};
  } catch (e) {
    return left([`not valid YAML: ${(e as Error).message.split('\n')[0]}`]);
  }
  const r = decodeWith(KubeletConfigurationFile, raw);
  if (isLeft(r)) return r;
  if (r.right.cgroupDriver === 'systemd') {
    // Refused rather than ignored: pod cgroups named the cgroupfs way fail under a systemd-driven runtime.
    return left(['cgroupDriver: systemd is not supported; set cgroupDriver: cgroupfs here and SystemdCgroup = false in the runtime (see docs/install.md)']);
  }
  // Upstream's validation of the log rotation settings (pkg/kubelet/apis/config/validation).
  if (r.right.containerLogMaxFiles !== undefined && r.right.containerLogMaxFiles < 2) return left(['containerLogMaxFiles: must be at least 2']);
  if (r.right.containerLogMaxWorkers !== undefined && r.right.containerLogMaxWorkers < 1) return left(['containerLogMaxWorkers: must be at least 1']);
  if (r.right.containerLogMaxSize !== undefined && !((parseQuantity(r.right.containerLogMaxSize) ?? 0) > 0)) return left([`containerLogMaxSize: not a positive quantity: ${r.right.containerLogMaxSize}`]);
  const tls = servingTlsSettings(r.right.tlsMinVersion ?? '', r.right.tlsCipherSuites ?? []);
  if (isLeft(tls)) return left([tls.left]);
  if (r.right.readOnlyPort !== undefined && !(Number.isInteger(r.right.readOnlyPort) && r.right.readOnlyPort >= 0 && r.right.readOnlyPort < 65536)) {
    return left([`readOnlyPort: not a port number (0 turns it off): ${r.right.readOnlyPort}`]);
  }
  const gcProblem = imageGCProblem({ ...kubeletConfigDefaults, ...r.right });
  if (gcProblem) return left([gcProblem]);
  const shutdownProblem = shutdownProblemOf({ ...kubeletConfigDefaults, ...r.right });
  if (shutdownProblem) return left([shutdownProblem]);
  if (r.right.nodeLeaseDurationSeconds !== undefined && r.right.nodeLeaseDurationSeconds <= 0) {
    return left(['nodeLeaseDurationSeconds: must be greater than 0']);
  }
  const d = kubeletConfigDefaults;
  const { authentication: an = {}, authorization: az = {}, ...rest } = r.right;
  return right({
    ...d,
    ...rest,
    // Nested sections are merged field by field, so a file may set just one of them.
    authentication: {
      x509: { ...d.authentication.x509, ...an.x509 },
      webhook: { ...d.authentication.webhook, ...an.webhook },
      anonymous: { ...d.authentication.anonymous, ...an.anonymous },
    },
    authorization: { mode: az.mode ?? d.authorization.mode, webhook: { ...d.authorization.webhook, ...az.webhook } },
  });
}

/** Upstream's validation of the image GC settings (pkg/kubelet/apis/config/validation). */
function imageGCProblem(c: Pick<KubeletConfiguration, 'imageGCHighThresholdPercent' | 'imageGCLowThresholdPercent' | 'imageMinimumGCAge' | 'imageMaximumGCAge'>): string | undefined {
  const hi = c.imageGCHighThresholdPercent;
  const lo = c.imageGCLowThresholdPercent;
  if (hi < 0 || hi > 100) return `imageGCHighThresholdPercent: ${hi} must be between 0 and 100`;
  if (lo < 0 || lo > 100) return `imageGCLowThresholdPercent: ${lo} must be between 0 and 100`;
  if (lo >= hi) return `imageGCLowThresholdPercent: ${lo} must be less than imageGCHighThresholdPercent ${hi}`;
  const max = parseDurationMs(c.imageMaximumGCAge) ?? 0;
  const min = parseDurationMs(c.imageMinimumGCAge) ?? 0;
  if (max !== 0 && max <= min) return `imageMaximumGCAge: ${c.imageMaximumGCAge} must be greater than imageMinimumGCAge ${c.imageMinimumGCAge}`;
  return undefined;
}

/** Upstream's validation of the graceful shutdown settings. */
function shutdownProblemOf(c: Pick<KubeletConfiguration, 'shutdownGracePeriod' | 'shutdownGracePeriodCriticalPods' | 'shutdownGracePeriodByPodPriority'>): string | undefined {
  const period = parseDurationMs(c.shutdownGracePeriod) ?? 0;
  const critical = parseDurationMs(c.shutdownGracePeriodCriticalPods) ?? 0;
  if (period < 0 || critical < 0) return 'shutdownGracePeriod, shutdownGracePeriodCriticalPods: must not be negative';
  if (critical > period) return `shutdownGracePeriodCriticalPods: ${c.shutdownGracePeriodCriticalPods} must not exceed shutdownGracePeriod ${c.shutdownGracePeriod}`;
  if (c.shutdownGracePeriodByPodPriority.length && (period > 0 || critical > 0)) return 'shutdownGracePeriodByPodPriority: cannot be combined with shutdownGracePeriod or shutdownGracePeriodCriticalPods';
  if (c.shutdownGracePeriodByPodPriority.some((p) => p.shutdownGracePeriodSeconds < 0)) return 'shutdownGracePeriodByPodPriority: shutdownGracePeriodSeconds must not be negative';
  return undefined;
}
