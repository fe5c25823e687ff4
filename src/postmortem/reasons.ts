// Why a decision was taken, in words, from its machine-readable reason and the entries its cause
// chain leads to. One line per reason code; a code missing here is shown as itself.
import type { Entry } from '../model/entry.ts';
import { describe } from './describe.ts';
import { evictionMessage, metThresholds, type EvictionSignalsData } from '../model/eviction.ts';

type D = Record<string, any>;

export interface ReasonContext {
  decision: Entry;
  /** Entries of the cause chain, nearest first. */
  chain: Entry[];
  /** Extra entries the decision names in its data (a liveness kill's failed probes). */
  evidence: Entry[];
}

type Because = (c: ReasonContext) => string;

const root = (c: ReasonContext): Entry | undefined => c.chain[c.chain.length - 1];
const found = (c: ReasonContext, type: string) => c.chain.find((e) => e.type === type);
/** The observation that started the chain, in words (empty when the chain is empty). */
const seen = (c: ReasonContext) => {
  const r = root(c);
  return r ? describe(r) : '';
};
const withSeen = (words: string) => (c: ReasonContext) => (seen(c) ? `${words} — ${seen(c)}` : words);

/** After a back-off: how long the restart waited. */
function waited(c: ReasonContext): string {
  const b = found(c, 'RestartBackedOff');
  const m = /back-off (\d+s)/.exec(String((b?.data as D | undefined)?.message ?? ''));
  return m ? `, after a ${m[1]} back-off` : '';
}

function exitedWords(c: ReasonContext): string {
  const ex = c.chain.find((e) => e.type === 'ContainerStateChanged' && (e.data as D).container?.state === 'exited');
  if (!ex) return seen(c);
  const x = (ex.data as D).container;
  return `it exited with code ${x.exitCode ?? '?'}${x.reason ? ` (${x.reason})` : ''}${describe(ex).match(/ after running [\d.]+s/)?.[0] ?? ''}`;
}

/** "liveness probe http GET :8080/healthz failed 3 times in a row (500, 500, 500)" */
function probeFailures(kind: string): Because {
  return (c) => {
    const all = c.evidence.filter((e) => e.type === 'ProbeFailed');
    // "In a row" is the prober's own count: the run since its last first failure (1/N). Older
    // failures the decision also names stay visible in the chain lines.
    let start = 0;
    all.forEach((e, i) => {
      if ((e.data as D).consecutiveFailures === 1) start = i;
    });
    const fails = all.slice(start);
    if (!fails.length) return withSeen(`${kind} probe failed`)(c);
    const d = fails[fails.length - 1].data as D;
    const target = d.target ?? d.handler ?? '';
    const results = fails.map((f) => {
      const detail = String((f.data as D).detail ?? '');
      return /statuscode:? (\d{3})/i.exec(detail)?.[1] ?? detail;
    });
    return `${kind} probe ${target} failed ${fails.length} time${fails.length === 1 ? '' : 's'} in a row (${results.join(', ')})`.replace('  ', ' ');
  };
}

function deleted(c: ReasonContext): string {
  const obs = c.chain.find((e) => e.type === 'PodObserved' && (e.data as D).pod?.metadata?.deletionTimestamp);
  if (obs) {
    const m = (obs.data as D).pod.metadata;
    return `the pod was deleted through the API server (deletionTimestamp ${m.deletionTimestamp}, grace ${m.deletionGracePeriodSeconds ?? '?'}s)`;
  }
  return withSeen('the pod was deleted')(c);
}

export const BECAUSE: Record<string, Because> = {
  // starts and restarts
  ContainerNotStarted: withSeen('the pod sandbox is ready and the container has not run yet'),
  ContainerFailed: (c) => `${exitedWords(c)} and the restart policy restarts it${waited(c)}`,
  ContainerCompleted: (c) => `${exitedWords(c)} and the restart policy restarts it${waited(c)}`,
  CreateContainerError: withSeen('the previous attempt could not create the container'),
  RunContainerError: withSeen('the previous attempt could not run the container'),
  ErrImagePull: withSeen('the image could not be pulled'),
  RestartLivenessProbeFailed: withSeen('replacing the container killed by its liveness probe'),
  RestartStartupProbeFailed: withSeen('replacing the container killed by its startup probe'),
  RestartContainerSpecChanged: withSeen('replacing the container killed because its spec changed'),
  RestartSandboxChanged: withSeen('the pod sandbox was re-created'),
  // kills
  PodDeleted: deleted,
  LivenessProbeFailed: probeFailures('liveness'),
  StartupProbeFailed: probeFailures('startup'),
  ContainerSpecChanged: withSeen("the container's spec changed"),
  ContainerRemovedFromSpec: withSeen("the container is no longer in the pod's spec"),
  SandboxChanged: withSeen('the pod sandbox is gone and will be re-created'),
  PodCompleted: withSeen("all of the pod's containers have finished"),
  PodRemovedFromApi: withSeen('the pod disappeared from the API server'),
  StaticPodRemoved: withSeen('its static pod manifest was removed'),
  // back-offs
  CrashLoopBackOff: (c) => `${exitedWords(c)}; the container keeps failing, so its next start waits`,
  ImagePullBackOff: withSeen('pulling the image keeps failing, so the next pull waits'),
  StatusPatchRetry: withSeen('the API server refused the last status patch; the next attempt waits (10 s doubling to 5 min)'),
  // sandbox and pod object
  PodScheduled: withSeen('the pod is bound to this node'),
  PodTerminated: withSeen('its containers and sandbox are stopped'),
  PodNoLongerOnNode: withSeen('the runtime still runs it but no source lists the pod'),
  FailedMountRetry: withSeen('setting up a volume failed before; trying again'),
  StaticPodObserved: withSeen('a static pod needs its mirror pod on the API server'),
  MirrorPodMissing: withSeen('the mirror pod is missing from the API server'),
  // eviction
  EvictionThresholdMet: (c) => {
    const d = c.decision.data as D;
    return `the node was under ${d.condition}: ${String(d.message ?? '').trim()} This pod ranked first for eviction (using more than it requested, then lowest priority, then largest use).`;
  },
  Evicted: (c) => {
    const obs = found(c, 'EvictionSignalsObserved');
    const met = obs ? metThresholds((obs.data as EvictionSignalsData).thresholds, (obs.data as EvictionSignalsData).observed) : [];
    return met.length ? `the pod was evicted: ${evictionMessage(met[0]).trim()}` : withSeen('the pod was evicted')(c);
  },
  // node
  AgentStarted: withSeen('the agent started'),
  ApiServerReachable: withSeen('the API server became reachable'),
};

export function because(c: ReasonContext): string {
  const code = c.decision.reason ?? '';
  const f = BECAUSE[code];
  if (f) return f(c);
  return seen(c) ? `${code} — ${seen(c)}` : code;
}
