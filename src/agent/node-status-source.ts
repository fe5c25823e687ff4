// Everything in the Node's status except the conditions: capacity and allocatable (maxPods), the
// addresses and nodeInfo, read from the machine and the runtime when needed.
import type { V1NodeStatus } from '@kubernetes/client-node';
import type { CriClient } from '../adapters/cri/index.ts';
import { formatBinaryQuantity, readNodeFacts, type NodeFacts } from '../adapters/fs/node-info.ts';
import type { NodeStatusSource } from '../effects/api/node-api.ts';
import { KUBELET_VERSION } from '../model/version.ts';

export async function nodeStatusSource(opts: {
  nodeName: string; rootDir: string; nodeIP?: string; hostnameOverride?: string; maxPods: number; cri: CriClient;
  /** The kubelet API port the API server should dial (upstream reports the configured port). */
  kubeletPort: number;
  registerWithTaints?: { key: string; value?: string; effect: string }[];
}): Promise<NodeStatusSource & { facts: NodeFacts; allocatable: Record<string, string> }> {
  const { facts } = await readNodeFacts({ storageDir: opts.rootDir, nodeIPOverride: opts.nodeIP, hostnameOverride: opts.hostnameOverride });
  const capacity = {
    cpu: String(facts.cpuCount),
    memory: formatBinaryQuantity(facts.memoryBytes),
    'ephemeral-storage': formatBinaryQuantity(facts.ephemeralStorageBytes),
    pods: String(opts.maxPods),
  };
  return {
    facts,
    // The downward API's default for unset limits (upstream reads the Node's allocatable).
    allocatable: { cpu: capacity.cpu, memory: capacity.memory, 'ephemeral-storage': capacity['ephemeral-storage'] },
    nodeName: opts.nodeName,
    hostname: facts.hostname,
    os: facts.operatingSystem,
    arch: facts.architecture,
    taints: opts.registerWithTaints,
    async baseStatus(): Promise<V1NodeStatus> {
      const runtime = await opts.cri.version().catch(() => undefined);
      return {
        capacity,
        // No kube/system reservations are configured, so allocatable equals capacity (as upstream then).
        allocatable: capacity,
        addresses: [
          ...(facts.nodeIP ? [{ type: 'InternalIP', address: facts.nodeIP }] : []),
          { type: 'Hostname', address: facts.hostname },
        ],
        daemonEndpoints: { kubeletEndpoint: { Port: opts.kubeletPort } },
        nodeInfo: {
          machineID: facts.machineID ?? '',
          systemUUID: facts.systemUUID ?? '',
          bootID: facts.bootID,
          kernelVersion: facts.kernelVersion,
          osImage: facts.osImage,
          containerRuntimeVersion: runtime ? `${runtime.runtimeName}://${runtime.runtimeVersion}` : 'unknown',
          kubeletVersion: KUBELET_VERSION,
          kubeProxyVersion: '',
          operatingSystem: facts.operatingSystem,
          architecture: facts.architecture,
        },
      };
    },
  };
}
