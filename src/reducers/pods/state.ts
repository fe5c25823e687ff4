// What the node believes about each pod: folded from observations, decisions and outcomes.
import type { ServiceLink } from '../../model/service.ts';
import type { PressureCondition } from '../../model/eviction.ts';
import type { ShutdownGroup } from '../../model/node-shutdown.ts';
import type { PodRef } from '../../model/entry.ts';
import type { Pod } from '../../model/pod.ts';
import type { ContainerState } from '../../model/runtime-observations.ts';
import type { PodStatus } from './status-types.ts';

export type ContainerKind = 'init' | 'sidecar' | 'app';

/** The runtime's container currently standing for a spec container (highest attempt). */
export interface RuntimeInstance {
  id: string;
  attempt: number;
  state: ContainerState;
  image?: string;
  imageRef?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  message?: string;
  specHash?: string;
}

export interface Backoff {
  /** Delay applied to the next failure (0 means restart at once). */
  nextDelayMs: number;
  /** Not before this time (RFC 3339). */
  until?: string;
  /** seq of the timer decision waiting for `until`, while it runs. */
  timerSeq?: number;
}

export interface ContainerRecord {
  name: string;
  kind: ContainerKind;
  restartCount: number;
  /** The attempt number the next start will use (CRI metadata.attempt). */
  nextAttempt: number;
  current?: RuntimeInstance;
  /** The previous terminated instance (status.lastState). */
  last?: RuntimeInstance;
  /** A decision in flight for this container. */
  pending?: { action: 'start' | 'kill'; seq: number; reason: string };
  /** Why it is not running, as status.state.waiting shows. */
  waiting?: { reason: string; message?: string };
  crashBackoff: Backoff;
  pullBackoff: Backoff;
  /** A kill was decided for this reason; cleared when the instance is replaced. */
  killReason?: string;
  /** Probe results of the current instance (reset when a new instance starts). */
  probes?: ProbeState;
}

export interface ProbeState {
  containerId: string;
  liveness?: 'success' | 'failure';
  readiness?: 'success' | 'failure';
  startup?: 'success' | 'failure';
  /** seqs of the ProbeFailed entries counting towards the current failure, per probe. */
  failures: { liveness: number[]; readiness: number[]; startup: number[] };
}

export interface SandboxRecord {
  attempt: number;
  id?: string;
  state: 'none' | 'ready' | 'notready' | 'stopped';
  ip?: string;
  ips?: string[];
  pending?: { action: 'start' | 'kill'; seq: number };
  lastError?: string;
  backoff: Backoff;
}

export interface VolumesRecord {
  state: 'none' | 'ready' | 'tornDown';
  pending?: { action: 'setup' | 'teardown'; seq: number };
  mounts?: Record<string, { hostPath: string; readOnly?: boolean }>;
  lastError?: { volume: string; reason: string; message: string };
  backoff: Backoff;
}

export interface Termination {
  since: string;
  reason: string;
  gracePeriodSeconds: number;
}

export interface PodRecord {
  ref: PodRef;
  origin: 'api' | 'file';
  file?: string;
  pod: Pod;
  firstSeenAt: string;
  startTime?: string;
  sandbox: SandboxRecord;
  containers: Record<string, ContainerRecord>;
  volumes: VolumesRecord;
  terminating?: Termination;
  /** The source no longer has the pod (deleted from the API, manifest removed). */
  goneFromSource?: boolean;
  apiDelete?: { seq: number; done?: boolean };
  cleanup?: { seq: number };
  /** Last status handed to the status effect, to patch only changes. */
  lastStatus?: PodStatus;
  /** uid of the API object the last status went to (the mirror pod's, for static pods). */
  lastStatusTarget?: string;
  /** A status patch failed; re-send at the next chance. */
  statusDirty?: boolean;
  /** After failed patches: not before `after` (10 s doubling to 5 min), woken by a timer. */
  statusRetry?: { after: string; failures: number; timerSeq?: number };
  /**
   * After an effect of this pod threw (EffectFailed): outcomes decide nothing for the pod before
   * `after` (10 s doubling to 5 min); a timer wakes it, an observation about it may retry earlier.
   */
  effectRetry?: { after: string; failures: number; timerSeq?: number };
  /** Admission refused the pod (reason, message): it never runs and reports Failed, as upstream. */
  rejected?: { reason: string; message: string };
  /** The eviction manager evicted the pod: it stops and reports Failed with this reason, as upstream. */
  evicted?: { reason: 'Evicted' | 'Terminated'; message: string };
  /** spec.activeDeadlineSeconds passed: the pod stops and reports Failed (DeadlineExceeded), as upstream. */
  deadlineExceeded?: { reason: string; message: string };
  /** The timer waking the pod at its active deadline (seq of its decision, and the time it waits for). */
  deadlineTimer?: { seq: number; until: string };
  /** seq of a mirror pod create/delete in flight (static pods only). */
  mirrorPending?: number;
}

/** Runtime objects carrying our labels but belonging to no pod we know (after a relist). */
export interface Orphan {
  podUid: string;
  sandboxIds: string[];
  containerIds: string[];
}

export interface PodsState {
  pods: Record<string, PodRecord>;
  orphans: Record<string, Orphan>;
  nodeName: string;
  standalone: boolean;
  /** Set by AgentStarted; nothing is decided for pods until the runtime has been relisted. */
  runtimeSynced: boolean;
  /** Sources that have delivered a full list since start-up (api, file). */
  sourcesSynced: { api: boolean; file: boolean };
  apiReachable: boolean;
  hostIP?: string;
  allocatable?: Record<string, string>;
  podLogsDir?: string;
  maxPods?: number;
  /** KubeletConfiguration allowedUnsafeSysctls: allowed at admission besides the safe ones. */
  allowedUnsafeSysctls?: string[];
  /** Mirror pods seen in the API, by the uid of the static pod they mirror. */
  mirrors: Record<string, { uid: string; namespace: string; name: string }>;
  /** Services by namespace/name, for the service-link environment variables. */
  services?: Record<string, ServiceLink>;
  /** When each pressure condition's eviction thresholds were last met, and what is in force. */
  pressureLastMet?: Partial<Record<PressureCondition, string>>;
  pressure?: PressureCondition[];
  /** The entry (seq) of the first disk-pressure round of an episode: it reclaims images instead of evicting. */
  diskReclaimSeq?: number;
  /** A node shutdown in progress: its groups, the next group to start, when the current one ends, the pods killed. */
  shutdown?: { at: string; groups: ShutdownGroup[]; next: number; until?: string; killed: string[] };
}

export const initialPodsState = (): PodsState => ({
  pods: {},
  orphans: {},
  mirrors: {},
  nodeName: '',
  standalone: true,
  runtimeSynced: false,
  sourcesSynced: { api: false, file: false },
  apiReachable: false,
});

export const emptyBackoff = (): Backoff => ({ nextDelayMs: 0 });
