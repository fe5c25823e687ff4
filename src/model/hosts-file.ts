// The kubelet-managed /etc/hosts of a pod, as upstream writes it (pkg/kubelet/kubelet_pods.go
// managedHostsFileContent, nodeHostsFileContent, hostsEntriesFromHostAliases at v1.36.3). Pure:
// the start effect writes the text into the pod directory and bind-mounts it at /etc/hosts.
import { isIP } from 'node:net';
import { isDns1123Subdomain } from './pod.ts';

/** What a container start needs to write the pod's hosts file (part of the decision's plan). */
export interface HostsFilePlan {
  /** The pod's IPs (the sandbox's); for hostNetwork pods the host's file is copied instead. */
  podIPs: string[];
  hostname: string;
  /** spec.subdomain: the domain is `<subdomain>.<namespace>.svc.<clusterDomain>`. */
  subdomain?: string;
  hostNetwork: boolean;
  hostAliases?: { ip: string; hostnames?: string[] }[];
}

export const MANAGED_HOSTS_HEADER = '# Kubernetes-managed hosts file.\n';
export const MANAGED_HOSTS_HEADER_HOST_NETWORK = '# Kubernetes-managed hosts file (host network).\n';

/** A name or address that would add a field or a line (or is no name at all) is refused, never written. */
export class HostsFileError extends Error {}

function ip(v: string): string {
  if (!isIP(v)) throw new HostsFileError(`hosts file: ${JSON.stringify(v)} is not an IP address`);
  return v;
}

function name(v: string): string {
  if (!isDns1123Subdomain(v)) throw new HostsFileError(`hosts file: ${JSON.stringify(v)} is not a DNS-1123 subdomain`);
  return v;
}

export function hostsEntriesFromHostAliases(aliases: HostsFilePlan['hostAliases']): string {
  if (!aliases?.length) return '';
  // As upstream: all of one IP's names on one line, tab separated.
  return '\n# Entries added by HostAliases.\n' + aliases.map((a) => `${ip(a.ip)}\t${(a.hostnames ?? []).map(name).join('\t')}\n`).join('');
}

export function managedHostsFileContent(plan: HostsFilePlan, domain: string | undefined): string {
  let out = MANAGED_HOSTS_HEADER
    + '127.0.0.1\tlocalhost\n'
    + '::1\tlocalhost ip6-localhost ip6-loopback\n'
    + 'fe00::0\tip6-localnet\n'
    + 'fe00::0\tip6-mcastprefix\n'
    + 'fe00::1\tip6-allnodes\n'
    + 'fe00::2\tip6-allrouters\n';
  const host = name(plan.hostname);
  for (const a of plan.podIPs) out += domain ? `${ip(a)}\t${host}.${name(domain)}\t${host}\n` : `${ip(a)}\t${host}\n`;
  return out + hostsEntriesFromHostAliases(plan.hostAliases);
}

/** A hostNetwork pod's file: the node's /etc/hosts as it is, then the pod's hostAliases. */
export function nodeHostsFileContent(nodeHosts: string, aliases: HostsFilePlan['hostAliases']): string {
  return MANAGED_HOSTS_HEADER_HOST_NETWORK + nodeHosts + hostsEntriesFromHostAliases(aliases);
}

/** Upstream's hostDomain: `<subdomain>.<namespace>.svc.<clusterDomain>` when a subdomain is set. */
export const podDomain = (namespace: string, subdomain: string | undefined, clusterDomain: string) =>
  subdomain ? `${subdomain}.${namespace}.svc.${clusterDomain}` : undefined;
