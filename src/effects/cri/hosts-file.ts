// The kubelet-managed /etc/hosts of a container start (upstream makeHostsMount): written into the
// pod directory each time a container starts, from the decision's sandbox plan (hostname,
// subdomain, hostAliases) and the sandbox's IPs as the runtime reports them, then bind-mounted
// read-write at /etc/hosts.
import { rmdir } from 'node:fs/promises';
import { join } from 'node:path';
import { readNodeHostsFile, removePodHostsFile, writePodHostsFile } from '../../adapters/fs/pod-hosts-file.ts';
import { removeTerminationMessageFiles } from '../../adapters/fs/termination-message.ts';
import { managedHostsFileContent, nodeHostsFileContent, podDomain, type HostsFilePlan } from '../../model/hosts-file.ts';
import { podDir } from '../volumes/layout.ts';
import type { ContainerPlan, SandboxPlan } from '../../reducers/pods/plans.ts';
import type { RuntimeMount } from './container-mounts.ts';

/** A pod uid names one directory under pods/, never a path of its own. */
export function podDirOf(rootDir: string, uid: string): string {
  if (!/^[A-Za-z0-9][A-Za-z0-9._-]*$/.test(uid) || uid === '..') throw new Error(`pod uid ${JSON.stringify(uid)} cannot name a pod directory`);
  return podDir(rootDir, uid);
}

/** What the hosts file says, from the decision's sandbox plan and the sandbox's IPs (upstream: the pod IPs of the sync). */
export function hostsFilePlan(sandbox: SandboxPlan, podIPs: string[]): HostsFilePlan {
  return {
    podIPs,
    hostname: sandbox.hostname,
    ...(sandbox.subdomain ? { subdomain: sandbox.subdomain } : {}),
    hostNetwork: sandbox.hostNetwork,
    ...(sandbox.hostAliases ? { hostAliases: sandbox.hostAliases } : {}),
  };
}

/**
 * Upstream's shouldMountHostsFile and makeMounts: not for a pod on the pod network without an IP
 * yet, not over a volume the container mounts at /etc/hosts itself.
 */
export function wantsHostsFile(plan: ContainerPlan, sandbox: SandboxPlan, podIPs: string[]): boolean {
  return (podIPs.length > 0 || sandbox.hostNetwork) && !plan.mounts.some((m) => m.containerPath === '/etc/hosts');
}

export async function hostsFileMount(rootDir: string, sandbox: SandboxPlan, podIPs: string[], clusterDomain: string, nodeHosts = readNodeHostsFile): Promise<RuntimeMount> {
  const plan = hostsFilePlan(sandbox, podIPs);
  const content = plan.hostNetwork
    ? nodeHostsFileContent(await nodeHosts(), plan.hostAliases)
    : managedHostsFileContent(plan, podDomain(sandbox.namespace, plan.subdomain, clusterDomain));
  const hostPath = await writePodHostsFile(podDirOf(rootDir, sandbox.uid), content);
  return { containerPath: '/etc/hosts', hostPath, readonly: false };
}

/**
 * At pod clean-up (after the volumes' teardown): the hosts file and the termination message files, then the pod directory if nothing
 * else is left in it (rmdir only, as the volumes' teardown; a pod without volumes still has the
 * empty volumes/ its hosts file's write made).
 */
export async function removePodFiles(rootDir: string, podUid: string): Promise<void> {
  const dir = podDirOf(rootDir, podUid);
  await removePodHostsFile(dir);
  await removeTerminationMessageFiles(rootDir, podUid);
  await rmdir(join(dir, 'volumes')).catch(() => undefined);
  await rmdir(dir).catch(() => undefined);
}
