// Pieces of NodeStatus that come straight from machine facts (pure). Conditions and allocatable
// reservations are the engine's decisions; these are the facts they start from.
import type { V1NodeAddress, V1NodeSystemInfo } from '@kubernetes/client-node';
import { formatBinaryQuantity, type NodeFacts } from '../fs/node-info.ts';

export const DEFAULT_MAX_PODS = 110;

/** capacity: cpu, memory, ephemeral-storage, pods, and zero hugepages (as upstream reports). */
export function nodeCapacity(facts: NodeFacts, opts: { maxPods?: number } = {}): Record<string, string> {
  return {
    cpu: String(facts.cpuCount),
    memory: formatBinaryQuantity(facts.memoryBytes),
    'ephemeral-storage': formatBinaryQuantity(facts.ephemeralStorageBytes),
    pods: String(opts.maxPods ?? DEFAULT_MAX_PODS),
    'hugepages-1Gi': '0',
    'hugepages-2Mi': '0',
  };
}

/** addresses: InternalIP (when known) then Hostname, the upstream order. */
export function nodeAddresses(facts: NodeFacts): V1NodeAddress[] {
  return [
    ...(facts.nodeIP ? [{ type: 'InternalIP', address: facts.nodeIP }] : []),
    { type: 'Hostname', address: facts.hostname },
  ];
}

export function nodeSystemInfo(
  facts: NodeFacts,
  versions: { containerRuntimeVersion: string; kubeletVersion: string },
): V1NodeSystemInfo {
  return {
    machineID: facts.machineID ?? '',
    systemUUID: facts.systemUUID ?? '',
    bootID: facts.bootID,
    kernelVersion: facts.kernelVersion,
    osImage: facts.osImage,
    containerRuntimeVersion: versions.containerRuntimeVersion,
    kubeletVersion: versions.kubeletVersion,
    kubeProxyVersion: '',
    operatingSystem: facts.operatingSystem,
    architecture: facts.architecture,
  };
}
