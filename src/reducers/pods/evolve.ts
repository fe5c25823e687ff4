// evolve for the pods concern: route each entry to the fold that understands it.
import type { Entry } from '../../model/entry.ts';
import { onPodGoneFromSource, onPodObserved, onSourceListed } from './evolve-sources.ts';
import { onContainerRemoved, onContainerStateChanged, onRuntimeRelisted, onSandboxRemoved, onSandboxStateChanged } from './evolve-runtime.ts';
import { onDecision, onOutcome } from './evolve-intents.ts';
import { onShutdownEntry } from './shutdown.ts';
import { onProbeFailed, onProbeResultChanged } from './evolve-probes.ts';
import type { PodsState } from './state.ts';
import { onEvictionSignals } from './eviction.ts';
import { onServiceChanged } from './services.ts';

export interface AgentConfigured {
  nodeName: string;
  standalone: boolean;
  staticPodPath: string;
  hostIP?: string;
  allocatable?: Record<string, string>;
  podLogsDir?: string;
  maxPods?: number;
  allowedUnsafeSysctls?: string[];
}

export function evolvePods(s: PodsState, e: Entry): PodsState {
  if (e.type === 'NodeShutdownRequested' || e.type === 'NodeShutdownGroupStarted') return onShutdownEntry(s, e);
  if (e.kind === 'decision') return onDecision(s, e);
  if (e.kind === 'outcome') return onOutcome(s, e);
  switch (e.type) {
    case 'AgentStarted': {
      // A shutdown does not outlive the agent: after a start (a reboot, most often) pods are admitted again.
      if (s.shutdown) s = { ...s, shutdown: undefined };
      // Everything in flight when the agent stopped is re-checked against a fresh relist.
      const listed = (e.data as { unfinished?: { seq: number; type?: string; pod?: { uid: string } }[] }).unfinished ?? [];
      const unfinished = new Set(listed.map((u) => u.seq));
      // A status patch cut short may never have reached the API server: send the status again.
      const statusLost = new Set(listed.filter((u) => u.type === 'PodStatusChanged' && u.pod).map((u) => u.pod!.uid));
      const pods = Object.fromEntries(Object.entries(s.pods).map(([uid, rec]) => {
        const cleared = clearInterrupted(rec, unfinished);
        return [uid, statusLost.has(uid) ? { ...cleared, statusDirty: true } : cleared];
      }));
      const mirrorsPending = Object.fromEntries(Object.entries(pods).map(([uid, rec]) => [uid, rec.mirrorPending !== undefined && unfinished.has(rec.mirrorPending) ? { ...rec, mirrorPending: undefined } : rec]));
      return { ...s, pods: mirrorsPending, runtimeSynced: false, sourcesSynced: { api: false, file: false }, apiReachable: false };
    }
    case 'AgentConfigured': {
      const d = e.data as AgentConfigured;
      return {
        ...s,
        nodeName: d.nodeName,
        standalone: d.standalone,
        hostIP: d.hostIP,
        allocatable: d.allocatable,
        podLogsDir: d.podLogsDir,
        maxPods: d.maxPods,
        allowedUnsafeSysctls: d.allowedUnsafeSysctls,
        sourcesSynced: { api: s.sourcesSynced.api || d.standalone, file: s.sourcesSynced.file || !d.staticPodPath },
      };
    }
    case 'PodObserved':
      return onPodObserved(s, e);
    case 'ServiceObserved':
    case 'ServiceRemoved':
      return onServiceChanged(s, e.data);
    case 'PodDeletedFromApi':
      return onPodGoneFromSource(s, (e.data as { uid: string }).uid, e.at, 'PodRemovedFromApi');
    case 'StaticPodRemoved':
      return onPodGoneFromSource(s, (e.data as { uid: string }).uid, e.at, 'StaticPodRemoved');
    case 'PodsRelisted':
      return onSourceListed(s, e, 'api');
    case 'StaticPodsListed':
      return onSourceListed(s, e, 'file');
    case 'ApiServerUnreachable':
      return { ...s, apiReachable: false };
    case 'ApiServerReachable':
      return { ...s, apiReachable: true };
    case 'RuntimeRelisted':
      return onRuntimeRelisted(s, e);
    case 'ContainerStateChanged':
      return onContainerStateChanged(s, e);
    case 'ContainerRemovedFromRuntime':
      return onContainerRemoved(s, e);
    case 'PodSandboxStateChanged':
      return onSandboxStateChanged(s, e);
    case 'PodSandboxRemovedFromRuntime':
      return onSandboxRemoved(s, e);
    case 'ProbeFailed':
      return onProbeFailed(s, e);
    case 'EvictionSignalsObserved':
      return onEvictionSignals(s, e);
    case 'ProbeResultChanged':
      return onProbeResultChanged(s, e);
    default:
      return s;
  }
}

function clearInterrupted<T extends { volumes: { pending?: { seq: number }; backoff: { timerSeq?: number } }; sandbox: { pending?: { seq: number }; backoff: { timerSeq?: number } }; containers: Record<string, { pending?: { seq: number }; crashBackoff: { timerSeq?: number }; pullBackoff: { timerSeq?: number } }>; apiDelete?: { seq: number; done?: boolean }; cleanup?: { seq: number } }>(rec: T, seqs: Set<number>): T {
  const hit = (p?: { seq: number }) => (p && seqs.has(p.seq) ? undefined : p);
  const hitTimer = (b: { timerSeq?: number }) => (b.timerSeq !== undefined && seqs.has(b.timerSeq) ? { ...b, timerSeq: undefined } : b);
  return {
    ...rec,
    sandbox: { ...rec.sandbox, pending: hit(rec.sandbox.pending), backoff: hitTimer(rec.sandbox.backoff) },
    volumes: { ...rec.volumes, pending: hit(rec.volumes.pending), backoff: hitTimer(rec.volumes.backoff) },
    containers: Object.fromEntries(Object.entries(rec.containers).map(([n, c]) => [n, { ...c, pending: hit(c.pending), crashBackoff: hitTimer(c.crashBackoff), pullBackoff: hitTimer(c.pullBackoff) }])),
    apiDelete: rec.apiDelete && !rec.apiDelete.done && seqs.has(rec.apiDelete.seq) ? undefined : rec.apiDelete,
    cleanup: rec.cleanup && seqs.has(rec.cleanup.seq) ? undefined : rec.cleanup,
  };
}
