// Admission checks of upstream's kubelet that need only the pod and the configuration (v1.36.3):
// the sysctl allowlist (pkg/kubelet/sysctl/allowlist.go, safe_sysctls.go; namespaces from
// component-helpers node/util/sysctl) and the OS field (pkg/kubelet/lifecycle/predicate.go).
import type { Pod } from './pod.ts';

export interface Rejection {
  reason: string;
  message: string;
}

/**
 * Upstream's safe sysctls. Upstream drops the newer ones on kernels older than where they became
 * namespaced (4.15 to 5.x); ledgerlet's supported kernels have them all.
 */
export const SAFE_SYSCTLS = [
  'kernel.shm_rmid_forced',
  'net.ipv4.ip_local_port_range',
  'net.ipv4.tcp_syncookies',
  'net.ipv4.ping_group_range',
  'net.ipv4.ip_unprivileged_port_start',
  'net.ipv4.ip_local_reserved_ports',
  'net.ipv4.tcp_keepalive_time',
  'net.ipv4.tcp_fin_timeout',
  'net.ipv4.tcp_keepalive_intvl',
  'net.ipv4.tcp_keepalive_probes',
  'net.ipv4.tcp_rmem',
  'net.ipv4.tcp_wmem',
];

type Namespace = 'IPC' | 'Net' | '';
const NAME_NS: Record<string, Namespace> = {
  'kernel.sem': 'IPC', 'kernel.shmall': 'IPC', 'kernel.shmmax': 'IPC', 'kernel.shmmni': 'IPC', 'kernel.shm_rmid_forced': 'IPC',
  'kernel.shm': 'IPC', 'kernel.msgmax': 'IPC', 'kernel.msgmnb': 'IPC', 'kernel.msgmni': 'IPC', 'kernel.msg': 'IPC',
};

function namespaceOf(name: string): Namespace {
  if (NAME_NS[name]) return NAME_NS[name];
  if (name.startsWith('net.')) return 'Net';
  if (name.startsWith('fs.mqueue.')) return 'IPC';
  return '';
}

/** Upstream's NormalizeName: `net/ipv4/conf/eth0.100/x` is `net.ipv4.conf.eth0/100.x`. */
export function normalizeSysctl(name: string): string {
  const slash = name.indexOf('/');
  const dot = name.indexOf('.');
  if (slash === -1 || (dot !== -1 && dot < slash)) return name;
  return name.replace(/[./]/g, (c) => (c === '/' ? '.' : '/'));
}

/** Upstream's patternAllowlist over the safe list and `allowedUnsafeSysctls` (names or prefixes ending in *). */
export function sysctlRejection(pod: Pod, allowedUnsafe: string[] = []): Rejection | undefined {
  const sysctls = pod.spec.securityContext?.sysctls ?? [];
  if (!sysctls.length) return undefined;
  const exact = new Map<string, Namespace>();
  const prefixes = new Map<string, Namespace>();
  for (const p of [...SAFE_SYSCTLS, ...allowedUnsafe]) {
    const n = normalizeSysctl(p);
    const star = n.indexOf('*');
    if (star === -1) exact.set(n, namespaceOf(n));
    else prefixes.set(n.slice(0, star), namespaceOf(n.slice(0, star)));
  }
  const hostNet = pod.spec.hostNetwork ?? false;
  const hostIPC = pod.spec.hostIPC ?? false;
  const check = (name: string, ns: Namespace) =>
    (ns === 'IPC' && hostIPC) || (ns === 'Net' && hostNet) ? `${JSON.stringify(name)} not allowed with host ${ns} enabled` : undefined;
  for (const s of sysctls) {
    const name = normalizeSysctl(s.name);
    let err: string | undefined = `${JSON.stringify(name)} not allowlisted`;
    if (exact.has(name)) err = check(name, exact.get(name)!);
    else {
      const p = [...prefixes.keys()].find((k) => name.startsWith(k));
      if (p !== undefined) err = check(name, prefixes.get(p)!);
    }
    if (err) return { reason: 'SysctlForbidden', message: `forbidden sysctl: ${err}` };
  }
  return undefined;
}

/** A pod for another OS than this node's (linux) is refused. */
export function osRejection(pod: Pod): Rejection | undefined {
  const os = pod.spec.os?.name;
  if (os === undefined || os === 'linux') return undefined;
  return { reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" };
}
