// The Pod Lifecycle Event Generator, as upstream's generic PLEG (pkg/kubelet/pleg/generic.go):
// relist the runtime's sandboxes and containers every `periodMs`, compare with the previous relist
// and turn the differences into observations (contract: src/model/runtime-observations.ts):
//
//   RuntimeRelisted {sandboxes, containers}     the first successful relist: the full picture
//   PodSandboxStateChanged {sandbox, previous?}  a new sandbox, or its state changed
//   ContainerStateChanged {container, previous?} a new container, or its state changed; exited
//                                                containers carry exitCode, reason, finishedAt
//   ContainerRemovedFromRuntime {id, podUid, name}
//   PodSandboxRemovedFromRuntime {id, podUid}
//   PlegHealthChanged {healthy, lastRelistAt, relistDurationMs}   on transitions only
//   RuntimeUnreachable {error} / RuntimeReachable {}               on transitions only
//
// A steady node produces no observations: relist timing goes to the stats object, not the log.
// Details (exit code, reason, times, sandbox IPs) come from the optional per-object status calls,
// made only for objects that are new or changed state, as upstream inspects only the pods that
// had events. If such a call fails, the object is left as it was in the previous relist so the
// next relist sees the change again and retries (upstream's podsToReinspect).
//
// Health: as upstream's Healthy(), the PLEG is unhealthy when no relist has succeeded for
// `unhealthyAfterMs` (3 minutes) — counted from start-up when none has ever succeeded. It is
// checked every `periodMs` independently of the relist, so a relist that hangs still turns it
// unhealthy. A PLEG that has never been declared unhealthy says nothing on its first success.
import { Observable } from 'rxjs';
import type { ObservationDraft, PodRef } from '../model/entry.ts';
import type { ContainerState, RuntimeContainer, RuntimeSandbox } from '../model/runtime-observations.ts';
import type { Clock } from '../runtime/clock.ts';

export const PLEG_SOURCE = 'pleg';

/** What the PLEG needs from a container runtime; src/streams/pleg-cri.ts backs it with CRI. */
export interface PlegRuntime {
  /** Every pod sandbox the agent manages (those labelled with a pod uid). */
  listSandboxes(): Promise<RuntimeSandbox[]>;
  /** Every container the agent manages; details such as exit codes may be missing. */
  listContainers(): Promise<RuntimeContainer[]>;
  /** Full status of one container (startedAt, finishedAt, exitCode, reason...); null when it is gone. */
  containerStatus?(id: string): Promise<RuntimeContainer | null>;
  /** Full status of one sandbox (IPs); null when it is gone. */
  sandboxStatus?(id: string): Promise<RuntimeSandbox | null>;
}

/** For metrics (relist duration and interval histograms upstream); never logged per relist. */
export interface PlegStats {
  relists: number;
  failures: number;
  lastRelistAt?: Date;
  lastRelistDurationMs?: number;
  /** containers and sandboxes seen by the last successful relist */
  containers: number;
  sandboxes: number;
  healthy: boolean;
  reachable: boolean;
}

export function createPlegStats(): PlegStats {
  return { relists: 0, failures: 0, containers: 0, sandboxes: 0, healthy: true, reachable: true };
}

export interface PlegOptions {
  runtime: PlegRuntime;
  clock: Clock;
  /** relist period (upstream: 1 s) */
  periodMs?: number;
  /** no successful relist for this long → unhealthy (upstream: 3 min) */
  unhealthyAfterMs?: number;
  /** updated in place after every relist attempt */
  stats?: PlegStats;
}

export interface PlegHealthChanged {
  healthy: boolean;
  lastRelistAt: string;
  relistDurationMs: number;
}

const byKey = <T>(key: (x: T) => string) => (a: T, b: T) => {
  const ka = key(a);
  const kb = key(b);
  return ka < kb ? -1 : ka > kb ? 1 : 0;
};
const containerOrder = byKey<RuntimeContainer>((c) => `${c.podUid}\u0000${c.sandboxId}\u0000${c.name}\u0000${String(c.attempt).padStart(10, '0')}\u0000${c.id}`);
const sandboxOrder = byKey<RuntimeSandbox>((s) => `${s.podUid}\u0000${String(s.attempt).padStart(10, '0')}\u0000${s.id}`);

const errText = (e: unknown): string => (e instanceof Error ? e.message : String(e));

/** Merge a status call's details into the listed object; the status's state wins (it is newer). */
function mergeContainer(listed: RuntimeContainer, status: RuntimeContainer | null): RuntimeContainer {
  if (!status) return listed;
  const merged: RuntimeContainer = { ...listed };
  for (const [k, v] of Object.entries(status)) if (v !== undefined && v !== '') (merged as Record<string, unknown>)[k] = v;
  return merged;
}

function mergeSandbox(listed: RuntimeSandbox, status: RuntimeSandbox | null): RuntimeSandbox {
  if (!status) return listed;
  const merged: RuntimeSandbox = { ...listed };
  for (const [k, v] of Object.entries(status)) if (v !== undefined && v !== '') (merged as Record<string, unknown>)[k] = v;
  return merged;
}

interface Snapshot {
  sandboxes: Map<string, RuntimeSandbox>;
  containers: Map<string, RuntimeContainer>;
}

/**
 * The relist-and-diff state machine, one relist per call; the Observable below adds the timers.
 * Exposed for callers that want to drive relists themselves.
 */
export class Pleg {
  private prev: Snapshot | undefined;
  private everFailed = false;
  private lastSuccessAt: Date | undefined;
  private readonly startedAt: Date;
  readonly stats: PlegStats;

  constructor(
    private readonly runtime: PlegRuntime,
    private readonly clock: Clock,
    private readonly unhealthyAfterMs = 180_000,
    stats?: PlegStats,
  ) {
    this.stats = stats ?? createPlegStats();
    this.startedAt = clock.now();
  }

  private async inspectContainer(c: RuntimeContainer): Promise<RuntimeContainer | undefined> {
    if (!this.runtime.containerStatus) return c;
    try {
      return mergeContainer(c, await this.runtime.containerStatus(c.id));
    } catch {
      return undefined;
    }
  }

  private async inspectSandbox(s: RuntimeSandbox): Promise<RuntimeSandbox | undefined> {
    if (!this.runtime.sandboxStatus) return s;
    try {
      return mergeSandbox(s, await this.runtime.sandboxStatus(s.id));
    } catch {
      return undefined;
    }
  }

  /** One relist. Returns the observations it produced; never throws. */
  async relist(): Promise<ObservationDraft[]> {
    const out: ObservationDraft[] = [];
    const t0 = this.clock.now();
    let sandboxes: RuntimeSandbox[];
    let containers: RuntimeContainer[];
    try {
      [sandboxes, containers] = await Promise.all([this.runtime.listSandboxes(), this.runtime.listContainers()]);
    } catch (e) {
      this.stats.failures++;
      if (this.stats.reachable || !this.everFailed) {
        out.push({ type: 'RuntimeUnreachable', source: PLEG_SOURCE, data: { error: errText(e) } });
      }
      this.everFailed = true;
      this.stats.reachable = false;
      out.push(...this.checkHealth());
      return out;
    }
    if (!this.stats.reachable) {
      this.stats.reachable = true;
      out.push({ type: 'RuntimeReachable', source: PLEG_SOURCE, data: {} });
    }

    const prev = this.prev;
    const refs = new Map<string, PodRef>();
    for (const s of [...(prev?.sandboxes.values() ?? []), ...sandboxes]) refs.set(s.podUid, { uid: s.podUid, namespace: s.namespace, name: s.name });
    const pod = (uid: string): { pod?: PodRef } => (refs.has(uid) ? { pod: refs.get(uid) } : {});

    // Sandboxes: inspect the new and changed ones.
    const nextSandboxes = new Map<string, RuntimeSandbox>();
    const sandboxChanges: { sandbox: RuntimeSandbox; previous?: RuntimeSandbox['state'] }[] = [];
    for (const s of sandboxes) {
      const old = prev?.sandboxes.get(s.id);
      if (old && old.state === s.state) {
        nextSandboxes.set(s.id, old);
        continue;
      }
      const inspected = await this.inspectSandbox(s);
      if (!inspected) {
        if (old) nextSandboxes.set(s.id, old); // retry next relist
        continue;
      }
      nextSandboxes.set(s.id, inspected);
      if (!old || old.state !== inspected.state) sandboxChanges.push(old ? { sandbox: inspected, previous: old.state } : { sandbox: inspected });
    }

    // Containers: likewise; exited ones get their exit code from the status call.
    const nextContainers = new Map<string, RuntimeContainer>();
    const containerChanges: { container: RuntimeContainer; previous?: ContainerState }[] = [];
    for (const c of containers) {
      const old = prev?.containers.get(c.id);
      if (old && old.state === c.state) {
        nextContainers.set(c.id, old);
        continue;
      }
      const inspected = await this.inspectContainer(c);
      if (!inspected) {
        if (old) nextContainers.set(c.id, old);
        continue;
      }
      nextContainers.set(c.id, inspected);
      if (!old || old.state !== inspected.state) containerChanges.push(old ? { container: inspected, previous: old.state } : { container: inspected });
    }

    const now = this.clock.now();
    this.lastSuccessAt = now;
    this.stats.relists++;
    this.stats.lastRelistAt = now;
    this.stats.lastRelistDurationMs = now.getTime() - t0.getTime();
    this.stats.containers = nextContainers.size;
    this.stats.sandboxes = nextSandboxes.size;

    if (!prev) {
      out.push({
        type: 'RuntimeRelisted',
        source: PLEG_SOURCE,
        data: { sandboxes: [...nextSandboxes.values()].sort(sandboxOrder), containers: [...nextContainers.values()].sort(containerOrder) },
      });
    } else {
      for (const ch of sandboxChanges.sort((a, b) => sandboxOrder(a.sandbox, b.sandbox))) {
        out.push({ type: 'PodSandboxStateChanged', source: PLEG_SOURCE, data: ch, ...pod(ch.sandbox.podUid) });
      }
      for (const ch of containerChanges.sort((a, b) => containerOrder(a.container, b.container))) {
        out.push({ type: 'ContainerStateChanged', source: PLEG_SOURCE, data: ch, ...pod(ch.container.podUid) });
      }
      const listedContainers = new Set(containers.map((c) => c.id));
      for (const c of [...prev.containers.values()].filter((c) => !listedContainers.has(c.id)).sort(containerOrder)) {
        out.push({ type: 'ContainerRemovedFromRuntime', source: PLEG_SOURCE, data: { id: c.id, podUid: c.podUid, name: c.name }, ...pod(c.podUid) });
      }
      const listedSandboxes = new Set(sandboxes.map((s) => s.id));
      for (const s of [...prev.sandboxes.values()].filter((s) => !listedSandboxes.has(s.id)).sort(sandboxOrder)) {
        out.push({ type: 'PodSandboxRemovedFromRuntime', source: PLEG_SOURCE, data: { id: s.id, podUid: s.podUid }, ...pod(s.podUid) });
      }
    }
    this.prev = { sandboxes: nextSandboxes, containers: nextContainers };
    out.push(...this.checkHealth());
    return out;
  }

  /** Health transition, if any, as of the clock's now. */
  checkHealth(): ObservationDraft[] {
    const now = this.clock.now();
    const since = this.lastSuccessAt ?? this.startedAt;
    const healthy = now.getTime() - since.getTime() <= this.unhealthyAfterMs;
    if (healthy === this.stats.healthy) return [];
    this.stats.healthy = healthy;
    const data: PlegHealthChanged = {
      healthy,
      lastRelistAt: since.toISOString(),
      relistDurationMs: this.stats.lastRelistDurationMs ?? 0,
    };
    return [{ type: 'PlegHealthChanged', source: PLEG_SOURCE, data }];
  }
}

/**
 * The PLEG source: a relist now, then one `periodMs` after each relist ends (upstream's
 * wait.Until), plus a health check every `periodMs`. Never errors; unsubscribing stops both loops.
 */
export function pleg$(opts: PlegOptions): Observable<ObservationDraft> {
  const { runtime, clock, periodMs = 1000, unhealthyAfterMs = 180_000 } = opts;
  return new Observable<ObservationDraft>((subscriber) => {
    const pleg = new Pleg(runtime, clock, unhealthyAfterMs, opts.stats);
    const stop = new AbortController();
    const emit = (ds: ObservationDraft[]) => {
      for (const d of ds) {
        if (stop.signal.aborted) return;
        subscriber.next(d);
      }
    };
    // one short-lived signal per sleep, so a clock that leaves its abort listener behind does not
    // pile listeners onto the subscription-long signal
    const sleep = async (ms: number): Promise<boolean> => {
      if (stop.signal.aborted) return false;
      const one = new AbortController();
      const onStop = () => one.abort();
      stop.signal.addEventListener('abort', onStop, { once: true });
      try {
        await clock.sleep(ms, one.signal);
        return !stop.signal.aborted;
      } catch {
        return false;
      } finally {
        stop.signal.removeEventListener('abort', onStop);
      }
    };

    void (async () => {
      let lastGuard: string | undefined;
      while (!stop.signal.aborted) {
        try {
          emit(await pleg.relist());
          lastGuard = undefined;
        } catch (e) {
          // relist() catches runtime failures itself; this is a last guard against a bug in a
          // runtime view (a malformed object): report it once as an unreachable runtime, keep going
          const error = `relist failed: ${errText(e)}`;
          if (error !== lastGuard) emit([{ type: 'RuntimeUnreachable', source: PLEG_SOURCE, data: { error } }]);
          lastGuard = error;
        }
        if (!(await sleep(periodMs))) return;
      }
    })();
    void (async () => {
      while (await sleep(periodMs)) emit(pleg.checkHealth());
    })();

    return () => stop.abort();
  });
}
