// The prober, as upstream's (pkg/kubelet/prober): one worker per (container instance, probe kind)
// for the targets the engine's state lists (src/reducers/pods/probe-targets.ts), each ticking on
// the injected clock and running its handler (src/adapters/probe/). Contract:
// src/model/probe-observations.ts. Only what the engine needs goes out (source `prober`):
//
//   ProbeFailed {consecutiveFailures, failureThreshold, handler, detail, target}
//       each failure that counts towards failureThreshold while the reported result is not
//       already `failure` (so a failing probe is explained; a steady failure adds nothing);
//   ProbeResultChanged {result, previous, detail?}
//       when the result flips after successThreshold / failureThreshold consecutive results,
//       including the first success of readiness and startup (unknown → success).
//
// Worker semantics (upstream's worker.go), deterministic:
// - the first check runs initialDelaySeconds after the container's startedAt (at once if that is
//   already past), then every periodSeconds; no random jitter. A check that overruns its period
//   does not pile up ticks: the next one runs as soon as it ends at the latest.
// - initial results as upstream: liveness success, readiness and startup unknown (not ready,
//   not started). Nothing is reported for them.
// - while a startup probe has not succeeded, liveness and readiness do not run; when it
//   succeeds its worker stops and readiness runs at once (upstream's manual trigger).
// - a liveness or startup flip to failure puts the worker on hold until the container is
//   replaced (a new container id means a new target, hence new workers with fresh state).
// - a handler that rejects is a prober error: thrown away without counting, as upstream.
// - a handler that does not answer within timeoutSeconds + a grace is counted as a failure;
//   every worker runs on its own, so a slow handler never delays another worker.
// The Observable never errors; unsubscribing stops every worker and aborts checks in flight.
import { Observable, distinctUntilChanged, type MonoTypeOperatorFunction } from 'rxjs';
import type { ObservationDraft } from '../model/entry.ts';
import type { Probe } from '../model/pod.ts';
import {
  PROBE_DEFAULTS,
  type ProbeFailed,
  type ProbeKind,
  type ProbeResult,
  type ProbeResultChanged,
  type ProbeTarget,
} from '../model/probe-observations.ts';
import { handlerOf, probeHandlers, resolveProbePort, type ProbeHandlers, type ProbeOutcome } from '../adapters/probe/index.ts';
import type { CriClient } from '../adapters/cri/index.ts';
import type { Clock } from '../runtime/clock.ts';
import { probeWithHeaders } from '../runtime/withheld-headers.ts';

export const PROBER_SOURCE = 'prober';
const KINDS: ProbeKind[] = ['startup', 'liveness', 'readiness'];

/** Counters for metrics and benchmarks; never logged per check. */
export interface ProberStats {
  /** checks that ran to an answer */
  checks: number;
  successes: number;
  failures: number;
  /** handler rejections (thrown away) */
  errors: number;
  /** workers running now */
  workers: number;
}

export function createProberStats(): ProberStats {
  return { checks: 0, successes: 0, failures: 0, errors: 0, workers: 0 };
}

export interface ProberOptions {
  targets$: Observable<ProbeTarget[]>;
  handlers: ProbeHandlers;
  clock: Clock;
  /** how long past timeoutSeconds a handler may take before the worker counts a failure (default 5 s) */
  handlerGraceMs?: number;
  stats?: ProberStats;
  /** told of every check that ran (upstream's prober_probe_total); 'unknown' when the handler failed */
  onResult?: (r: ProbeCount) => void;
  /** results of containers whose targets went away, kept in case the same instance comes back (default 4096) */
  rememberMax?: number;
}

/** One check's result, for counting (never an entry). */
export interface ProbeCount {
  kind: ProbeKind;
  result: 'successful' | 'failed' | 'unknown';
  pod: { uid: string; namespace: string; name: string };
  container: string;
}

/** A probe with upstream's defaults applied. */
export interface EffectiveProbe {
  initialDelaySeconds: number;
  periodSeconds: number;
  timeoutSeconds: number;
  successThreshold: number;
  failureThreshold: number;
}

export function effectiveProbe(p: Probe): EffectiveProbe {
  const pos = (v: number | undefined, d: number) => (v !== undefined && v >= 1 ? Math.floor(v) : d);
  return {
    initialDelaySeconds: p.initialDelaySeconds !== undefined && p.initialDelaySeconds > 0 ? p.initialDelaySeconds : PROBE_DEFAULTS.initialDelaySeconds,
    periodSeconds: pos(p.periodSeconds, PROBE_DEFAULTS.periodSeconds),
    timeoutSeconds: pos(p.timeoutSeconds, PROBE_DEFAULTS.timeoutSeconds),
    successThreshold: pos(p.successThreshold, PROBE_DEFAULTS.successThreshold),
    failureThreshold: pos(p.failureThreshold, PROBE_DEFAULTS.failureThreshold),
  };
}

/** What a probe checks, for the log: the URL, host:port, or command. */
export function describeProbeTarget(p: Probe, t: ProbeTarget): string | undefined {
  if (p.exec) return (p.exec.command ?? []).join(' ');
  if (p.httpGet) {
    const port = resolveProbePort(p.httpGet.port, t.ports) ?? p.httpGet.port;
    const path = p.httpGet.path ? (p.httpGet.path.startsWith('/') ? p.httpGet.path : `/${p.httpGet.path}`) : '/';
    return `${(p.httpGet.scheme ?? 'HTTP').toLowerCase()}://${p.httpGet.host || t.podIP || ''}:${port}${path}`;
  }
  if (p.tcpSocket) return `${p.tcpSocket.host || t.podIP || ''}:${resolveProbePort(p.tcpSocket.port, t.ports) ?? p.tcpSocket.port}`;
  if (p.grpc) return `${t.podIP ?? ''}:${p.grpc.port}${p.grpc.service ? ` (service ${p.grpc.service})` : ''}`;
  return undefined;
}

// ---------------------------------------------------------------------------------------------
// keys: which targets are "the same" (operator for the agent's wiring, and the worker diff)

const specKeys = new WeakMap<object, string>();
function specKey(p: Probe | undefined): string {
  if (!p) return '-';
  let k = specKeys.get(p);
  if (k === undefined) {
    k = JSON.stringify(p);
    specKeys.set(p, k);
  }
  return k;
}

function targetKey(t: ProbeTarget): string {
  return [t.podUid, t.container, t.containerId, t.startedAt, t.podIP ?? '', JSON.stringify(t.ports), specKey(t.startup), specKey(t.liveness), specKey(t.readiness)].join('\u0000');
}

/** Lets a target list through only when a container id, probe spec, pod IP or port differs from the previous list. */
export function distinctTargets(): MonoTypeOperatorFunction<ProbeTarget[]> {
  return distinctUntilChanged((a: string, b: string) => a === b, (ts: ProbeTarget[]) => ts.map(targetKey).join('\u0001'));
}

// ---------------------------------------------------------------------------------------------
// workers

interface Remembered {
  reported: ProbeResult;
  onHold: boolean;
}

type Wake = 'time' | 'trigger' | 'stop';

interface Env {
  clock: Clock;
  handlers: ProbeHandlers;
  graceMs: number;
  stats: ProberStats;
  onResult?: (r: ProbeCount) => void;
  emit: (d: ObservationDraft) => void;
}

const INITIAL: Record<ProbeKind, ProbeResult> = { liveness: 'success', readiness: 'unknown', startup: 'unknown' };

class Worker {
  reported: ProbeResult;
  onHold: boolean;
  private lastResult: ProbeResult = 'unknown';
  private run = 0;
  private stopped = false;
  private readonly stop$ = new AbortController();
  private wake: ((w: Wake) => void) | undefined;
  private triggered = false;

  constructor(
    private readonly group: ContainerProbes,
    readonly kind: ProbeKind,
    readonly probe: Probe,
    private readonly env: Env,
    memory?: Remembered,
  ) {
    this.reported = memory?.reported ?? INITIAL[kind];
    this.onHold = memory?.onHold ?? false;
    env.stats.workers++;
    void this.loop();
  }

  stop(): void {
    if (this.stopped) return;
    this.stopped = true;
    this.env.stats.workers--;
    this.stop$.abort();
    this.wake?.('stop');
  }

  /** Run a check now (if the initial delay is past), without changing the schedule. */
  trigger(): void {
    this.triggered = true;
    this.wake?.('trigger');
  }

  memory(): Remembered {
    return { reported: this.reported, onHold: this.onHold };
  }

  private async waitUntil(atMs: number): Promise<Wake> {
    if (this.stopped) return 'stop';
    if (this.triggered) {
      this.triggered = false;
      return 'trigger';
    }
    const ms = atMs - this.env.clock.now().getTime();
    if (ms <= 0) return 'time';
    const one = new AbortController();
    const woken = new Promise<Wake>((resolve) => (this.wake = resolve));
    const slept = this.env.clock.sleep(ms, one.signal).then(
      () => 'time' as const,
      () => 'stop' as const,
    );
    const w = await Promise.race([woken, slept]);
    this.wake = undefined;
    one.abort();
    if (w === 'trigger') this.triggered = false;
    return this.stopped ? 'stop' : w;
  }

  private async loop(): Promise<void> {
    try {
      const e = effectiveProbe(this.probe);
      const periodMs = e.periodSeconds * 1000;
      const started = Date.parse(this.group.target.startedAt);
      const firstAt = (Number.isFinite(started) ? started : this.env.clock.now().getTime()) + e.initialDelaySeconds * 1000;
      let next = Math.max(firstAt, this.env.clock.now().getTime());
      for (;;) {
        const w = await this.waitUntil(next);
        if (w === 'stop') return;
        const now = this.env.clock.now().getTime();
        if (now < firstAt) continue; // a trigger before the initial delay is over
        if (w === 'time') next += periodMs;
        while (next <= now) next += periodMs;
        if (this.kind === 'startup' && this.group.started) return this.stop();
        if (this.onHold || (this.kind !== 'startup' && !this.group.started)) continue;
        await this.check(e);
        if (this.stopped) return;
        const after = this.env.clock.now().getTime();
        while (next < after) next += periodMs;
      }
    } catch {
      // a bug here must not take the source down; the worker simply ends
      this.stop();
    }
  }

  private async check(e: EffectiveProbe): Promise<void> {
    const { env, probe, kind } = this;
    const name = handlerOf(probe);
    if (!name) return;
    const target = this.group.target;
    const call = new AbortController();
    const deadline = new AbortController();
    // stopping aborts the handler's call and stops waiting for it, even if it ignores the signal
    const onStop = () => {
      call.abort();
      deadline.abort();
    };
    this.stop$.signal.addEventListener('abort', onStop, { once: true });
    let outcome: ProbeOutcome | undefined;
    try {
      const answer = Promise.resolve()
        .then(() => env.handlers[name]({ kind, probe, target, timeoutSeconds: e.timeoutSeconds, signal: call.signal }))
        .then((o): ProbeOutcome | 'error' => o, (): 'error' => 'error');
      const limitMs = e.timeoutSeconds * 1000 + env.graceMs;
      const late = env.clock.sleep(limitMs, deadline.signal).then(
        (): ProbeOutcome => ({ result: 'failure', detail: `timeout: probe did not complete within ${e.timeoutSeconds}s` }),
        () => undefined,
      );
      const r = await Promise.race([answer, late]);
      if (r === undefined) return;
      if (r === 'error') {
        env.stats.errors++;
        if (!this.stopped) env.onResult?.({ kind, result: 'unknown', pod: target.pod, container: target.container });
        return;
      }
      outcome = r;
    } finally {
      deadline.abort();
      call.abort();
      this.stop$.signal.removeEventListener('abort', onStop);
    }
    if (this.stopped || !outcome) return;
    env.stats.checks++;
    if (outcome.result === 'success') env.stats.successes++;
    else env.stats.failures++;
    env.onResult?.({ kind, result: outcome.result === 'success' ? 'successful' : 'failed', pod: target.pod, container: target.container });
    this.record(outcome, e, name);
  }

  private record(o: ProbeOutcome, e: EffectiveProbe, handler: NonNullable<ReturnType<typeof handlerOf>>): void {
    const { env, kind, group } = this;
    const r: ProbeResult = o.result === 'success' ? 'success' : 'failure';
    if (r === this.lastResult) this.run++;
    else {
      this.lastResult = r;
      this.run = 1;
    }
    const t = group.target;
    const pod = { uid: t.pod.uid, namespace: t.pod.namespace, name: t.pod.name };
    if (r === 'failure') {
      if (this.reported !== 'failure') {
        const data: ProbeFailed = {
          container: t.container,
          containerId: t.containerId,
          probe: kind,
          consecutiveFailures: this.run,
          failureThreshold: e.failureThreshold,
          handler,
          detail: o.detail,
        };
        const where = describeProbeTarget(this.probe, t);
        if (where) data.target = where;
        env.emit({ type: 'ProbeFailed', source: PROBER_SOURCE, pod, data });
      }
      if (this.run < e.failureThreshold) return;
    } else if (this.run < e.successThreshold) return;

    if (this.reported !== r) {
      const data: ProbeResultChanged = { container: t.container, containerId: t.containerId, probe: kind, result: r, previous: this.reported };
      const detail = r === 'failure' ? o.detail : o.warning;
      if (detail) data.detail = detail;
      this.reported = r;
      env.emit({ type: 'ProbeResultChanged', source: PROBER_SOURCE, pod, data });
    }
    if (r === 'failure' && kind !== 'readiness') {
      // the container will be killed: stop probing it until a new instance replaces it
      this.onHold = true;
      this.run = 0;
    }
    if (r === 'success' && kind === 'startup') group.onStarted();
  }
}

class ContainerProbes {
  started: boolean;
  readonly workers = new Map<ProbeKind, Worker>();

  constructor(
    public target: ProbeTarget,
    private readonly env: Env,
    private readonly remembered: Map<string, Remembered>,
  ) {
    const startup = remembered.get(`${target.containerId}/startup`);
    this.started = !target.startup || startup?.reported === 'success';
    this.sync(target);
  }

  /** Start, restart (spec changed) or stop workers to match the target. */
  sync(t: ProbeTarget): void {
    this.target = t;
    if (!t.startup && !this.started) this.onStarted();
    for (const kind of KINDS) {
      const probe = t[kind];
      const w = this.workers.get(kind);
      if (w && probe && specKey(w.probe) === specKey(probe)) continue;
      if (w) this.retire(w);
      if (!probe || (kind === 'startup' && this.started)) continue;
      const memory = this.remembered.get(`${t.containerId}/${kind}`);
      this.remembered.delete(`${t.containerId}/${kind}`);
      this.workers.set(kind, new Worker(this, kind, probe, this.env, memory));
    }
  }

  onStarted(): void {
    this.started = true;
    const s = this.workers.get('startup');
    if (s) this.retire(s);
    this.workers.get('readiness')?.trigger();
  }

  stopAll(): void {
    for (const w of [...this.workers.values()]) this.retire(w);
  }

  private retire(w: Worker): void {
    w.stop();
    if (this.workers.get(w.kind) === w) this.workers.delete(w.kind);
    this.remembered.set(`${this.target.containerId}/${w.kind}`, w.memory());
  }
}

/**
 * The prober source. Never errors: a failing targets$ leaves the current workers running until
 * unsubscribed.
 */
export function prober$(opts: ProberOptions): Observable<ObservationDraft> {
  return new Observable<ObservationDraft>((subscriber) => {
    let closed = false;
    const rememberMax = opts.rememberMax ?? 4096;
    const remembered = new Map<string, Remembered>();
    const groups = new Map<string, ContainerProbes>();
    const env: Env = {
      clock: opts.clock,
      handlers: opts.handlers,
      graceMs: opts.handlerGraceMs ?? 5000,
      stats: opts.stats ?? createProberStats(),
      onResult: opts.onResult,
      emit: (d) => {
        if (!closed) subscriber.next(d);
      },
    };

    const apply = (targets: ProbeTarget[]) => {
      const seen = new Set<string>();
      for (const t of targets) {
        if (seen.has(t.containerId)) continue;
        seen.add(t.containerId);
        const g = groups.get(t.containerId);
        if (g) g.sync(t);
        else groups.set(t.containerId, new ContainerProbes(t, env, remembered));
      }
      for (const [id, g] of groups) {
        if (seen.has(id)) continue;
        g.stopAll();
        groups.delete(id);
      }
      // forget the oldest remembered results beyond the bound
      while (remembered.size > rememberMax) remembered.delete(remembered.keys().next().value as string);
    };

    const sub = opts.targets$.subscribe({
      next: (ts) => {
        try {
          apply(ts);
        } catch {
          // a malformed target list must not end the source; the next list applies again
        }
      },
      error: () => undefined,
    });

    return () => {
      closed = true;
      sub.unsubscribe();
      for (const g of groups.values()) g.stopAll();
      groups.clear();
    };
  });
}

/** The real handlers (CRI exec, HTTP, TCP, gRPC health) for the agent's wiring. */
export function proberHandlers(cri: Pick<CriClient, 'execSync'>): ProbeHandlers {
  const base = probeHandlers(cri);
  // credential header values are withheld from the log and the state: put back for the request only
  return { ...base, httpGet: (req) => base.httpGet({ ...req, probe: probeWithHeaders(req.probe, req.target.podUid, req.target.container, req.kind) }) };
}
