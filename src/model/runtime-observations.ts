// Payloads of what the runtime side reports: PLEG relist differences and static pod manifests.
// Sources (src/streams) emit these; the pod reducers consume them.
import * as t from 'io-ts';
import { Pod } from './pod.ts';

export const ContainerState = t.keyof({ created: null, running: null, exited: null, unknown: null });
export type ContainerState = t.TypeOf<typeof ContainerState>;

/** One container as the runtime reports it, keyed to its pod by the io.kubernetes.* labels. */
export const RuntimeContainer = t.intersection([
  t.type({
    id: t.string,
    podUid: t.string,
    sandboxId: t.string,
    name: t.string,
    attempt: t.number,
    state: ContainerState,
  }),
  t.partial({
    image: t.string,
    imageRef: t.string,
    createdAt: t.string,
    startedAt: t.string,
    finishedAt: t.string,
    exitCode: t.number,
    reason: t.string,
    message: t.string,
    /** ledgerlet's spec hash label, to tell an outdated container from a current one. */
    specHash: t.string,
  }),
], 'RuntimeContainer');
export type RuntimeContainer = t.TypeOf<typeof RuntimeContainer>;

export const SandboxState = t.keyof({ ready: null, notready: null });
export const RuntimeSandbox = t.intersection([
  t.type({ id: t.string, podUid: t.string, name: t.string, namespace: t.string, attempt: t.number, state: SandboxState }),
  t.partial({ ip: t.string, ips: t.array(t.string), createdAt: t.string }),
], 'RuntimeSandbox');
export type RuntimeSandbox = t.TypeOf<typeof RuntimeSandbox>;

/**
 * PLEG observations (source `pleg`):
 * - `RuntimeRelisted` {sandboxes, containers}: the FIRST relist after start-up, the full picture,
 *   so the reducers can reconcile with what the log believed.
 * - `ContainerStateChanged` {container: RuntimeContainer, previous?: ContainerState}
 * - `ContainerRemovedFromRuntime` {id, podUid, name}
 * - `PodSandboxStateChanged` {sandbox: RuntimeSandbox, previous?}
 * - `PodSandboxRemovedFromRuntime` {id, podUid}
 * - `PlegHealthChanged` {healthy: boolean, lastRelistAt, relistDurationMs}  (unhealthy after 3 min without a relist, as upstream)
 * - `RuntimeUnreachable` {error} / `RuntimeReachable` {}
 */
export const RuntimeRelisted = t.type({ sandboxes: t.array(RuntimeSandbox), containers: t.array(RuntimeContainer) });
export const ContainerStateChanged = t.intersection([t.type({ container: RuntimeContainer }), t.partial({ previous: ContainerState })]);
export const ContainerRemovedFromRuntime = t.type({ id: t.string, podUid: t.string, name: t.string });
export const PodSandboxStateChanged = t.intersection([t.type({ sandbox: RuntimeSandbox }), t.partial({ previous: SandboxState })]);
export const PodSandboxRemovedFromRuntime = t.type({ id: t.string, podUid: t.string });
export const PlegHealthChanged = t.type({ healthy: t.boolean, lastRelistAt: t.string, relistDurationMs: t.number });

/**
 * Static pod observations (source `static-pods`):
 * - `PodObserved` {pod, origin: 'file', file}: the pod's metadata.uid is set by the source as upstream
 *   does (a hash of the manifest, the node name and the source), namespace defaults to `default`,
 *   and metadata.name is suffixed with `-<nodeName>`; annotations kubernetes.io/config.source=file,
 *   kubernetes.io/config.hash=<uid>, kubernetes.io/config.seen.
 * - `StaticPodRemoved` {uid, file}
 * - `StaticPodsListed` {uids: string[]}: the full set after the initial scan and each resync.
 * - `ManifestRejected` {file, problems: string[]}
 */
export const StaticPodObserved = t.type({ pod: Pod, origin: t.literal('file'), file: t.string });
export const StaticPodRemoved = t.type({ uid: t.string, file: t.string });
export const StaticPodsListed = t.type({ uids: t.array(t.string) });
export const ManifestRejected = t.type({ file: t.string, problems: t.array(t.string) });

/** Labels ledgerlet puts on every sandbox and container (the upstream names, so tools agree). */
export const Labels = {
  podName: 'io.kubernetes.pod.name',
  podNamespace: 'io.kubernetes.pod.namespace',
  podUid: 'io.kubernetes.pod.uid',
  containerName: 'io.kubernetes.container.name',
  specHash: 'ledgerlet.io/spec-hash',
  attempt: 'ledgerlet.io/attempt',
} as const;
