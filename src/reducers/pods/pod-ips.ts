// The pod's IPs as status and the downward API report them: a hostNetwork pod has the node's IP
// (upstream: "HostNetwork Pods inherit the node IPs as PodIPs"), any other the sandbox's.
import type { PodRecord } from './state.ts';

export function podIPsOf(rec: PodRecord, hostIP: string | undefined): { podIP?: string; podIPs: string[] } {
  if (rec.pod.spec.hostNetwork) return hostIP ? { podIP: hostIP, podIPs: [hostIP] } : { podIPs: [] };
  const ip = rec.sandbox.ip;
  return { podIP: ip, podIPs: rec.sandbox.ips?.length ? rec.sandbox.ips : ip ? [ip] : [] };
}
