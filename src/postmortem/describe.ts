// What each entry type means, in an operator's words: one line per type, so a new type is one
// more line here. Decisions read as what the node did ("killed container web"), observations and
// outcomes as what it saw or heard back. Unknown types fall back to their name and reason.
import type { Entry } from '../model/entry.ts';

type D = Record<string, any>;
type Describe = (d: D, e: Entry) => string;

const short = (id: unknown) => (typeof id === 'string' && id ? id.slice(0, 12) : '?');
const secs = (ms: number) => `${(ms / 1000).toFixed(1)}s`;
/** "after running 2.0s" from a runtime container's start and finish times. */
export function ranFor(c: { startedAt?: string; finishedAt?: string }): string {
  if (!c.startedAt || !c.finishedAt) return '';
  const ms = Date.parse(c.finishedAt) - Date.parse(c.startedAt);
  return Number.isFinite(ms) && ms >= 0 ? ` after running ${secs(ms)}` : '';
}
const exited = (c: D) => `exited with code ${c.exitCode ?? '?'}${c.reason ? ` (${c.reason})` : ''}${ranFor(c)}`;
const hook = (h: D | undefined) => (!h ? '' : h.ok ? `; preStop ${h.handler ?? ''} hook ran` : `; preStop ${h.handler ?? ''} hook FAILED: ${h.detail ?? ''}`);
const handlerOf = (h: D | undefined) => (!h ? 'none' : h.exec ? `exec ${JSON.stringify((h.exec.command ?? []).join(' '))}` : h.httpGet ? `http GET :${h.httpGet.port}${h.httpGet.path ?? '/'}` : h.tcpSocket ? `tcp :${h.tcpSocket.port}` : h.sleep ? `sleep ${h.sleep.seconds}s` : 'unknown');
const ready = (d: D) => (d.status?.conditions as D[] | undefined)?.find((c) => c.type === 'Ready')?.status ?? '?';
const restarts = (d: D) => ((d.status?.containerStatuses as D[] | undefined) ?? []).map((c) => `${c.name}:${c.restartCount}`).join(' ');

export const DESCRIBE: Record<string, Describe> = {
  // observations: the agent and its sources
  AgentStarted: (d) => `agent started${d.resumedFromSeq ? ` (log resumed after #${d.resumedFromSeq})` : ''}${d.unfinished?.length ? `, ${d.unfinished.length} decisions unfinished` : ''}`,
  LogMovedAside: (d) => `the previous log was damaged and moved aside to ${d.forensicCopy}; this log starts anew (${d.error})`,
  LogEntriesLost: (d) => `entries #${d.fromSeq}..#${d.toSeq} were lost to damage before a salvage${d.salvagedFrom ? ` of ${d.salvagedFrom}` : ''}: ${d.error}`,
  AgentConfigured: (d) => `agent configured as node ${d.nodeName}${d.standalone ? ' (standalone)' : ''}`,
  PodObserved: (d) => {
    const m = d.pod?.metadata ?? {};
    const src = d.origin === 'file' ? `static pod manifest ${d.file ?? ''}` : `API server sent the pod (resourceVersion ${m.resourceVersion ?? d.resourceVersion ?? '?'})`;
    return m.deletionTimestamp ? `${src}: marked for deletion at ${m.deletionTimestamp}, grace ${m.deletionGracePeriodSeconds ?? '?'}s` : src;
  },
  PodDeletedFromApi: () => 'the pod object is gone from the API server',
  PodsRelisted: (d) => `API server listed ${d.uids?.length ?? '?'} pods for this node`,
  ServiceObserved: (d) => `service ${d.service?.namespace}/${d.service?.name}: cluster IP ${d.service?.clusterIP ?? 'none'}, ports ${((d.service?.ports ?? []) as D[]).map((p) => p.port).join(',')}`,
  ServiceRemoved: (d) => `service ${d.namespace}/${d.name} is gone`,
  ServicesListed: (d) => `API server listed ${d.count} services`,
  StaticPodsListed: (d) => `static pod manifests listed: ${d.uids?.length ?? '?'} pods`,
  StaticPodRemoved: (d) => `static pod manifest ${d.file ?? ''} removed`,
  StaticPodPathUnreadable: (d) => `static pod directory ${d.dir} unreadable: ${d.error}`,
  PodRejected: (d) => `API server sent a pod that cannot be decoded: ${(d.problems ?? [d.error ?? '']).join('; ')}`,
  PodVolumeContentUpdated: (d) => `volume ${d.volume} (${d.kind}) rewritten${d.resourceVersion ? ` from resourceVersion ${d.resourceVersion}` : ''}`,
  ManifestRejected: (d) => `manifest ${d.file} rejected: ${(d.problems ?? []).join('; ')}`,
  ApiServerReachable: () => 'API server reachable',
  ApiServerUnreachable: (d) => `API server unreachable${d.error ? `: ${d.error}` : ''}`,
  RuntimeRelisted: (d) => `runtime relisted: ${d.sandboxes?.length ?? 0} sandboxes, ${d.containers?.length ?? 0} containers`,
  RuntimeReachable: () => 'container runtime reachable',
  RuntimeUnreachable: (d) => `container runtime unreachable: ${d.error ?? ''}`,
  PlegHealthChanged: (d) => `PLEG ${d.healthy ? 'healthy' : 'unhealthy'} (last relist ${d.lastRelistAt ?? '?'})`,
  ContainerStateChanged: (d) => {
    const c = d.container ?? {};
    return `runtime: container ${c.name} (attempt ${c.attempt}) ${c.state === 'exited' ? exited(c) : c.state}`;
  },
  ContainerRemovedFromRuntime: (d) => `runtime: container ${d.name} ${short(d.id)} removed`,
  PodSandboxStateChanged: (d) => `runtime: pod sandbox ${short(d.sandbox?.id)} ${d.sandbox?.state}`,
  PodSandboxRemovedFromRuntime: (d) => `runtime: pod sandbox ${short(d.id)} removed`,
  ProbeFailed: (d) => `${d.probe} probe of ${d.container} failed (${d.consecutiveFailures}/${d.failureThreshold}): ${d.detail}`,
  ProbeResultChanged: (d) => `${d.probe} probe of ${d.container}: ${d.previous} → ${d.result}${d.detail ? ` (${d.detail})` : ''}`,
  NodeHeartbeatFailed: (d) => `node heartbeat failed: ${d.error ?? ''}`,
  NodeHeartbeatRecovered: () => 'node heartbeat recovered',
  EvictionSignalsObserved: (d) => {
    const parts = Object.entries((d.observed ?? {}) as D).map(([k, v]) => `${k} ${v.available}/${v.capacity}`);
    return `eviction signals: ${parts.join(', ')} (thresholds ${((d.thresholds ?? []) as D[]).map((t) => `${t.signal}<${t.value}`).join(', ')})`;
  },
  ImagesObserved: (d) => `images: ${d.images?.length ?? '?'} on the runtime, ${d.inUse?.length ?? '?'} in use; image filesystem ${d.imageFs?.availableBytes}/${d.imageFs?.capacityBytes} bytes available (GC at ${d.policy?.highThresholdPercent}% down to ${d.policy?.lowThresholdPercent}%)`,
  ImageRemoved: (d) => `image ${short(String(d.id ?? '').replace(/^sha256:/, ''))} removed`,
  ImageRemoveFailed: (d) => `image ${short(String(d.id ?? '').replace(/^sha256:/, ''))} not removed: ${d.error}`,
  NodeShutdownRequested: (d) => `node shutdown announced (${d.trigger ?? '?'})`,

  // decisions: what the node did, and why is in the reason (see reasons.ts)
  ImageRemoveRequested: (d, e) => {
    const img = d.image ?? {};
    const name = `image ${(img.repoTags ?? [])[0] ?? short(String(img.id ?? '').replace(/^sha256:/, ''))} (${img.size} bytes, last used ${d.lastUsed ?? 'never'})`;
    if (e.reason === 'ImageUnusedBeyondMaximumAge') return `removed ${name}: unused longer than imageMaximumGCAge`;
    if (e.reason === 'DiskPressure') return `removed ${name} before evicting: ${d.signal} below ${d.threshold} (${d.usagePercent}% used)`;
    return `removed ${name}: image filesystem ${d.usagePercent}% used >= ${d.highThresholdPercent}%, ${d.bytesToFree} bytes to free to reach ${d.lowThresholdPercent}% (${d.freedBefore} freed before it)`;
  },
  NodeShutdownGroupStarted: (d) => `node shutdown: stopping ${d.pods?.length ?? '?'} pods of group ${d.index} (priority from ${d.priority}) within ${d.gracePeriodSeconds}s, until ${d.until}`,
  PodShutdownKilled: (d) => `stopping the pod for the node's shutdown (grace ${d.gracePeriodSeconds}s, group ${d.group})`,
  NodeShutdownGroupEnded: (d) => `node shutdown: group ${d.index}'s grace period is over`,
  ContainerStartRequested: (d, e) => {
    const name = d.plan?.name;
    if (e.reason === 'ContainerNotStarted') return `started container ${name} (attempt ${d.plan?.attempt})`;
    // created before the agent restarted, never started: its first start, not a restart
    if (e.reason === 'ContainerCreatedNotStarted') return `started container ${name}, created but not started before the agent restarted (attempt ${d.plan?.attempt})`;
    return `restarted container ${name} (restart ${d.restartCount ?? d.plan?.attempt})`;
  },
  ContainerKilled: (d) => `killed container ${d.name} (grace ${d.gracePeriodSeconds}s, preStop ${handlerOf(d.preStop)})`,
  RestartBackedOff: (d) =>
    d.which === 'status' ? `waiting until ${d.until} to re-send the pod status the API server refused` : d.which === 'pull' ? `backed off pulling the image of ${d.name} until ${d.until}` : d.which === 'sandbox' ? `backed off re-creating the pod sandbox until ${d.until}` : d.which === 'volumes' ? `backed off setting up volumes until ${d.until}` : `backed off restarting container ${d.name} until ${d.until} (${String(d.message ?? '').replace(/ restarting failed.*$/, '')})`,
  PodSandboxRequested: (d) => `created the pod sandbox (attempt ${d.attempt})`,
  PodSandboxKilled: (d) => `stopped the pod sandbox ${short(d.sandboxId)}`,
  PodEvicted: (d) => `evicted the pod (${d.signal} below ${d.threshold})`,
  PodVolumesSetUpRequested: (d) => `set up the pod's volumes (${((d.plan?.volumes ?? []) as D[]).map((v) => v.name).join(', ')})`,
  PodVolumesTearDownRequested: () => "tore down the pod's volumes",
  PodObjectDeleteRequested: () => 'deleted the pod object from the API server',
  PodRuntimeCleanupRequested: () => "removed the pod's containers and sandboxes from the runtime",
  OrphanPodKilled: (d) => `removed runtime objects of unknown pod ${d.podUid} (${d.containerIds?.length ?? 0} containers, ${d.sandboxIds?.length ?? 0} sandboxes)`,
  PodStatusChanged: (d) => `reported pod status: ${d.status?.phase}, Ready=${ready(d)}${restarts(d) ? `, restarts ${restarts(d)}` : ''}`,
  MirrorPodCreateRequested: () => 'created the mirror pod of this static pod on the API server',
  MirrorPodDeleteRequested: () => 'deleted the mirror pod of this static pod from the API server',
  NodeRegistrationRequested: (d) => `registered node ${d.nodeName} with the API server`,
  NodeStatusChanged: (d) => `reported node conditions: ${((d.conditions ?? []) as D[]).map((c) => `${c.type}=${c.status}`).join(' ')}`,

  // outcomes: what the effects reported back
  ContainerStarted: (d) => `container ${d.name} started (attempt ${d.attempt}, id ${short(d.containerId)}${d.pulled ? ', image pulled' : ''})`,
  ContainerStartFailed: (d) => `container ${d.name} failed to start at ${d.stage ?? '?'}: ${d.reason ?? ''} ${d.message ?? ''}`.trim(),
  ContainerStopped: (d) => `container ${d.name} stopped (exit code ${d.exitCode ?? '?'}${d.reason ? `, ${d.reason}` : ''})${hook(d.preStop)}`,
  ContainerStopFailed: (d) => `container ${d.name} could not be stopped: ${d.error}`,
  PostStartHookFailed: (d) => `postStart hook of ${d.name} failed: ${d.detail}`,
  PodSandboxStarted: (d) => `pod sandbox ${short(d.sandboxId)} ready${d.ip ? `, IP ${d.ip}` : ''}`,
  PodSandboxStartFailed: (d) => `pod sandbox failed to start: ${d.error}`,
  PodSandboxStopped: (d) => `pod sandbox ${short(d.sandboxId)} stopped`,
  PodSandboxStopFailed: (d) => `pod sandbox could not be stopped: ${d.error}`,
  PodVolumesSetUp: (d) => `volumes set up: ${Object.keys(d.mounts ?? {}).join(', ') || 'none'}`,
  PodVolumesSetUpFailed: (d) => `volume ${d.volume} could not be set up: ${d.reason ?? ''} ${d.message ?? ''}`.trim(),
  PodVolumesTornDown: () => 'volumes torn down',
  PodStatusPatched: (d) => `pod status patched (${d.phase})`,
  PodStatusPatchFailed: (d) => `pod status patch failed: ${d.error ?? ''}`,
  PodObjectDeleted: (d) => `pod object deleted${d.alreadyGone ? ' (already gone)' : ''}`,
  PodObjectDeleteFailed: (d) => `pod object delete failed: ${d.error ?? ''}`,
  PodRuntimeCleanedUp: (d) => `runtime cleaned up: ${d.removedContainers} containers, ${d.removedSandboxes} sandboxes removed`,
  PodRuntimeCleanupFailed: (d) => `runtime clean-up failed: ${d.error ?? ''}`,
  OrphanRemoved: (d) => `orphaned runtime objects of ${d.podUid ?? 'a pod'} removed`,
  OrphanRemoveFailed: (d) => `orphaned runtime objects could not be removed: ${d.error ?? ''}`,
  BackOffExpired: (d) => (d.which === 'sandbox' ? 'sandbox back-off ended' : `${d.which === 'pull' ? 'image pull' : 'restart'} back-off of ${d.name} ended`),
  EffectFailed: (d, e) => `effect of #${e.cause} (${d.decision}) failed: ${d.error}`,
  EffectCompleted: (_d, e) => `effect of #${e.cause} completed`,
  MirrorPodCreated: () => 'mirror pod created',
  NodeRegistered: (d) => `node ${d.nodeName} registered${d.created ? ' (created)' : ''}`,
  NodeRegistrationFailed: (d) => `node registration failed: ${d.error ?? ''}`,
  NodeStatusPatched: (d) => `node status patched (Ready=${d.ready})`,
  NodeStatusPatchFailed: (d) => `node status patch failed: ${d.error ?? ''}`,
};

export function describe(e: Entry): string {
  const f = DESCRIBE[e.type];
  if (f) {
    try {
      return f((e.data ?? {}) as D, e);
    } catch {
      // A payload of an unexpected shape is still named, never a crash.
    }
  }
  return `${e.type}${e.reason ? ` (${e.reason})` : ''}`;
}

/** The container an entry is about, when it is about one. */
export function containerOf(e: Entry): string | undefined {
  const d = (e.data ?? {}) as D;
  if (typeof d.name === 'string' && e.type !== 'NodeRegistrationRequested' && e.type !== 'NodeRegistered') return d.name;
  if (typeof d.container === 'string') return d.container;
  if (typeof d.container?.name === 'string') return d.container.name;
  if (typeof d.plan?.name === 'string' && e.type === 'ContainerStartRequested') return d.plan.name;
  return undefined;
}
