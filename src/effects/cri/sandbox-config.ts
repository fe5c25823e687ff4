// SandboxPlan (what the reducer decided) → CRI PodSandboxConfig (what containerd is asked for).
import type { PodSandboxConfig } from '../../adapters/cri/index.ts';
import type { SandboxPlan } from '../../reducers/pods/plans.ts';
import { podDomain } from '../../model/hosts-file.ts';

export interface HostDns {
  servers: string[];
  searches: string[];
  options: string[];
}

export interface DnsSettings {
  clusterDNS: string[];
  clusterDomain: string;
  host: HostDns;
}

/** The one place for the cluster domain's fallback when KubeletConfiguration sets none. */
export const clusterDomainOf = (dns: DnsSettings) => dns.clusterDomain || 'cluster.local';

/** Upstream's GetNodenameForKernel: with setHostnameAsFQDN and a domain, `<hostname>.<domain>`, at most 64 characters. */
export function kernelHostname(plan: SandboxPlan, dns: DnsSettings): string {
  const domain = podDomain(plan.namespace, plan.subdomain, clusterDomainOf(dns));
  if (!plan.setHostnameAsFQDN || !domain || !plan.hostname) return plan.hostname;
  const fqdn = `${plan.hostname}.${domain}`;
  if (fqdn.length > 64) throw new Error(`failed to construct FQDN from pod hostname and cluster domain, FQDN ${fqdn} is too long (64 characters is the max, ${fqdn.length} characters requested)`);
  return fqdn;
}

/** DNS as upstream: ClusterFirst uses clusterDNS when set, else falls back to the host's (Default). */
export function dnsFor(plan: SandboxPlan, dns: DnsSettings): PodSandboxConfig['dnsConfig'] {
  let servers: string[] = [];
  let searches: string[] = [];
  let options: string[] = [];
  const policy = plan.hostNetwork && plan.dnsPolicy === 'ClusterFirst' ? 'Default' : plan.dnsPolicy;
  if ((policy === 'ClusterFirst' || policy === 'ClusterFirstWithHostNet') && dns.clusterDNS.length) {
    servers = dns.clusterDNS;
    const d = clusterDomainOf(dns);
    searches = [`${plan.namespace}.svc.${d}`, `svc.${d}`, d, ...dns.host.searches];
    options = ['ndots:5'];
  } else if (policy !== 'None') {
    ({ servers, searches, options } = dns.host);
  }
  const extra = plan.dnsConfig;
  if (extra) {
    servers = [...servers, ...(extra.nameservers ?? [])];
    searches = [...searches, ...(extra.searches ?? [])];
    options = [...options, ...(extra.options ?? []).map((o) => (o.value !== undefined ? `${o.name}:${o.value}` : o.name ?? ''))];
  }
  return { servers: [...new Set(servers)].slice(0, 3), searches: [...new Set(searches)].slice(0, 32), options: [...new Set(options)] };
}

export function sandboxConfig(plan: SandboxPlan, dns: DnsSettings): PodSandboxConfig {
  const ns = (b: boolean) => (b ? 'NODE' : 'POD') as 'NODE' | 'POD';
  return {
    metadata: { name: plan.name, uid: plan.uid, namespace: plan.namespace, attempt: plan.attempt },
    hostname: kernelHostname(plan, dns),
    logDirectory: plan.logDirectory,
    dnsConfig: dnsFor(plan, dns),
    portMappings: plan.portMappings.map((p) => ({ protocol: p.protocol as 'TCP' | 'UDP' | 'SCTP', containerPort: p.containerPort, hostPort: p.hostPort, hostIp: p.hostIp })),
    labels: plan.labels,
    annotations: plan.annotations,
    linux: {
      cgroupParent: plan.cgroupParent,
      sysctls: plan.sysctls,
      securityContext: {
        namespaceOptions: { network: ns(plan.hostNetwork), pid: plan.hostPID ? 'NODE' : 'CONTAINER', ipc: ns(plan.hostIPC) },
        ...(plan.runAsUser !== undefined ? { runAsUser: { value: plan.runAsUser } } : {}),
        ...(plan.runAsGroup !== undefined ? { runAsGroup: { value: plan.runAsGroup } } : {}),
        ...(plan.supplementalGroups ? { supplementalGroups: plan.supplementalGroups } : {}),
        ...(plan.privileged ? { privileged: true } : {}),
      },
    },
  };
}

/** Parse /etc/resolv.conf text (nameserver, search, options lines). */
export function parseResolvConf(text: string): HostDns {
  const out: HostDns = { servers: [], searches: [], options: [] };
  for (const line of text.split('\n')) {
    const [key, ...rest] = line.replace(/[#;].*$/, '').trim().split(/\s+/);
    if (key === 'nameserver' && rest[0]) out.servers.push(rest[0]);
    else if (key === 'search' || key === 'domain') out.searches = rest;
    else if (key === 'options') out.options.push(...rest);
  }
  return out;
}
