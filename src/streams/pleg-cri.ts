// The PLEG's view of a CRI runtime: ListPodSandbox / ListContainers for the relist, and
// ContainerStatus / PodSandboxStatus for the objects whose state changed. Only objects labelled
// with io.kubernetes.pod.uid (what ledgerlet — and upstream's kubelet — creates) are reported;
// everything else on the runtime is somebody else's.
import { isNotFound } from '../adapters/cri/errors.ts';
import type { ContainerState as CriContainerState, ContainerStatus, ContainerSummary, PodSandboxStatus, PodSandboxSummary } from '../adapters/cri/codecs.ts';
import { Labels, type ContainerState, type RuntimeContainer, type RuntimeSandbox } from '../model/runtime-observations.ts';
import type { PlegRuntime } from './pleg.ts';
import { terminationMessage } from './termination-message.ts';

/** The CRI calls the view makes; src/adapters/cri's CriClient has them. */
export interface CriListClient {
  listPodSandbox(): Promise<PodSandboxSummary[]>;
  listContainers(): Promise<ContainerSummary[]>;
  containerStatus(containerId: string): Promise<ContainerStatus>;
  podSandboxStatus(podSandboxId: string): Promise<PodSandboxStatus>;
}

const CONTAINER_STATES: Record<CriContainerState, ContainerState> = {
  CONTAINER_CREATED: 'created',
  CONTAINER_RUNNING: 'running',
  CONTAINER_EXITED: 'exited',
  CONTAINER_UNKNOWN: 'unknown',
};

const nonEmpty = (s: string | undefined): string | undefined => (s === undefined || s === '' ? undefined : s);

function attemptOf(metaAttempt: number, labels: Record<string, string>): number {
  if (metaAttempt) return metaAttempt;
  const l = Number(labels[Labels.attempt]);
  return Number.isInteger(l) && l >= 0 ? l : metaAttempt;
}

/** A CRI sandbox (summary or status) as the PLEG sees it; undefined when it is not a pod's. */
export function toRuntimeSandbox(s: PodSandboxSummary | PodSandboxStatus): RuntimeSandbox | undefined {
  const podUid = s.labels[Labels.podUid];
  if (!podUid) return undefined;
  const out: RuntimeSandbox = {
    id: s.id,
    podUid,
    name: s.labels[Labels.podName] || s.metadata.name,
    namespace: s.labels[Labels.podNamespace] || s.metadata.namespace,
    attempt: s.metadata.attempt,
    state: s.state === 'SANDBOX_READY' ? 'ready' : 'notready',
    createdAt: s.createdAt,
  };
  if ('ips' in s && s.ips.length > 0) {
    out.ip = s.ips[0];
    out.ips = [...s.ips];
  }
  return out;
}

/** A CRI container (summary or status) as the PLEG sees it; undefined when it is not a pod's. */
export function toRuntimeContainer(c: ContainerSummary | ContainerStatus, sandboxId?: string): RuntimeContainer | undefined {
  const podUid = c.labels[Labels.podUid];
  if (!podUid) return undefined;
  const state = CONTAINER_STATES[c.state] ?? 'unknown';
  const out: RuntimeContainer = {
    id: c.id,
    podUid,
    sandboxId: 'podSandboxId' in c ? c.podSandboxId : sandboxId ?? '',
    name: c.labels[Labels.containerName] || c.metadata.name,
    attempt: attemptOf(c.metadata.attempt, c.labels),
    state,
  };
  const opt: Partial<RuntimeContainer> = {
    image: nonEmpty(c.image),
    imageRef: nonEmpty(c.imageRef),
    createdAt: nonEmpty(c.createdAt),
    specHash: nonEmpty(c.labels[Labels.specHash]),
  };
  if ('exitCode' in c) {
    opt.startedAt = nonEmpty(c.startedAt);
    opt.finishedAt = nonEmpty(c.finishedAt);
    if (state === 'exited') opt.exitCode = c.exitCode;
    opt.reason = nonEmpty(c.reason);
    opt.message = nonEmpty(c.message);
  }
  for (const [k, v] of Object.entries(opt)) if (v !== undefined) (out as Record<string, unknown>)[k] = v;
  return out;
}

/** PlegRuntime backed by a CRI client. Status calls answer null for objects that are gone. */
/** `rootDir`: where the termination message files of exited containers are read from. */
export function criRuntimeView(client: CriListClient, opts: { rootDir?: string } = {}): PlegRuntime {
  return {
    async listSandboxes() {
      return (await client.listPodSandbox()).map((s) => toRuntimeSandbox(s)).filter((s): s is RuntimeSandbox => s !== undefined);
    },
    async listContainers() {
      return (await client.listContainers()).map((c) => toRuntimeContainer(c)).filter((c): c is RuntimeContainer => c !== undefined);
    },
    async containerStatus(id: string) {
      try {
        const status = await client.containerStatus(id);
        const c = toRuntimeContainer(status);
        if (!c || opts.rootDir === undefined) return c ?? null;
        const message = await terminationMessage(status, opts.rootDir);
        return message === undefined ? c : { ...c, message };
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
    async sandboxStatus(id: string) {
      try {
        return toRuntimeSandbox(await client.podSandboxStatus(id)) ?? null;
      } catch (e) {
        if (isNotFound(e)) return null;
        throw e;
      }
    },
  };
}
