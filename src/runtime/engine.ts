// The reconciliation engine: observations in, one write-ahead batch per burst, decisions out to
// effect handlers, outcomes back in. All reducer work happens on one serial path, so state and the
// log order always agree; effects run concurrently beside it (see effect-runner.ts).
//
// When the log cannot be written (disk full, I/O error) the engine is *blocked*: it keeps the
// failed batch and retries it with backoff (reopening LevelDB first), pauses its sources (they
// list afresh when resumed: level-triggered), keeps outcomes of effects in flight, bounds what
// else it queues, and reports it (logStatus$). Nothing is decided or acted on until the batch is
// written; if it cannot be for maxWriteOutageMs the engine halts so the agent can exit.
import { BehaviorSubject, defer, distinctUntilChanged, EMPTY, Observable, retry, Subject, Subscription, switchMap } from 'rxjs';
import type { AppendDraft, Entry, ObservationDraft, OutcomeDraft } from '../model/entry.ts';
import type { Decider } from '../reducers/decider.ts';
import type { EffectHandlers } from '../effects/effect.ts';
import type { LogStore, SnapshotInput } from '../adapters/store/log-store.ts';
import { encodeEntry } from '../model/entry-codec.ts';
import type { Clock } from './clock.ts';
import { EffectRunner } from './effect-runner.ts';
import { decideOn, decisionDraftFor, evolveEntry, stoppingAfter } from './fold.ts';
import { replayLog } from './replay.ts';
import { deciderAt, deciderFor } from './rules-stretch.ts';
import { AGENT_STARTED, describeInterrupted, UnfinishedDecisions } from './unfinished.ts';
import { backoffDelay, type BackoffConfig } from './backoff.ts';
import { AGENT_STOPPING, ENGINE_SOURCE, LOG_WRITE_RECOVERED, SOURCE_RESTARTED, type AgentStopping, type LogWriteRecovered, type SourceRestarted } from '../model/engine-observations.ts';

/** The subset of pino's logger the engine uses. */
export interface EngineLogger {
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
}

const silentLogger: EngineLogger = { info() {}, warn() {}, error() {} };

export interface EngineOptions<S> {
  store: LogStore;
  decider: Decider<S>;
  effects: EffectHandlers;
  clock: Clock;
  logger?: EngineLogger;
  /** Effect handlers in flight across all keys (default 16). */
  maxConcurrentEffects?: number;
  /** Write a snapshot with the batch that crosses every N entries (default 10,000). */
  snapshotEvery?: number;
  /** Effects with the same key run one at a time in order (default: pod uid, else 'node'). */
  keyOf?: (decision: Entry) => string;
  /** Decisions whose effect only waits (timers); they run outside the global in-flight limit. */
  isWait?: (decision: Entry) => boolean;
  /** Most inputs folded into one batch (default 2,000). */
  maxBatch?: number;
  /** Decisions whose batch is synced to disk before their effect runs (what cannot be undone). */
  isDestructive?: (decision: Entry) => boolean;
  /** Retry delays while the log cannot be written (default 0.5 s doubling to 10 s). */
  writeRetry?: BackoffConfig;
  /** Give up (halt; the agent exits non-zero) after the log failed writes this long (default 5 min). */
  maxWriteOutageMs?: number;
  /** Observations queued while the log cannot be written before new ones are refused (default 10,000). */
  maxQueuedWhileBlocked?: number;
}

export const DEFAULT_WRITE_RETRY: BackoffConfig = { initialMs: 500, factor: 2, maxMs: 10_000 };
export const DEFAULT_MAX_WRITE_OUTAGE_MS = 300_000;
/** Restart delays of a failed source: 1 s doubling to 60 s. */
export const SOURCE_RESTART_BACKOFF: BackoffConfig = { initialMs: 1000, factor: 2, maxMs: 60_000 };

/** Whether the node log accepts writes; while not, nothing is decided or acted on. */
export type LogWriteStatus =
  | { writable: true }
  | { writable: false; since: Date; error: string; attempts: number; gaveUp: boolean };

export interface AttachOptions {
  /** The source's name in SourceRestarted entries and log lines. */
  name?: string;
  /**
   * 'pause' (default): unsubscribed while the log cannot be written and subscribed again after,
   * for sources that list the full picture when subscribed. 'run': keeps running (heartbeats).
   */
  whileLogBlocked?: 'pause' | 'run';
  /** Restart delays after the source errors (default SOURCE_RESTART_BACKOFF). */
  restart?: BackoffConfig;
}

interface Pending {
  draft: AppendDraft;
  resolve: (e: Entry) => void;
  reject: (err: Error) => void;
}

export class EngineStoppedError extends Error {
  override name = 'EngineStoppedError';
}

/** An observation refused because the log is not writable and the queue is at its bound. */
export class EngineBlockedError extends Error {
  override name = 'EngineBlockedError';
}

/** The log could not be written for maxWriteOutageMs: the engine halted. */
export class LogWriteOutageError extends Error {
  override name = 'LogWriteOutageError';
}

export class Engine<S> {
  private current: S;
  private readonly queue: Pending[] = [];
  private draining: Promise<void> | undefined;
  private readonly entriesSubject = new Subject<Entry>();
  private readonly sources = new Subscription();
  private readonly runner: EffectRunner;
  private readonly abort = new AbortController();
  private readonly unfinished: UnfinishedDecisions;
  private sinceSnapshot = 0;
  private accepting = true;
  private fatal: Error | undefined;
  /** Set once an AgentStopping entry is written: no decision is folded until the next AgentStarted. */
  private decisionsSuspended = false;
  private stopping: Promise<void> | undefined;
  private readonly stopRetry = new AbortController();
  private outage: { since: Date; firstError: string; attempts: number } | undefined;
  private queuedObservations = 0;
  private readonly status = new BehaviorSubject<LogWriteStatus>({ writable: true });
  private readonly writable$ = new BehaviorSubject<boolean>(true);
  private readonly log: EngineLogger;
  private readonly keyOf: (d: Entry) => string;
  /** opts.decider under the rules of the stretch being written (the current ones once AgentStarted is). */
  private rules: Decider<S>;

  /** Every appended entry, in seq order, after its batch is written. */
  readonly entries$: Observable<Entry> = this.entriesSubject.asObservable();
  /** The log's write health, for /healthz, the node condition and the agent's exit on give-up. */
  readonly logStatus$: Observable<LogWriteStatus> = this.status.asObservable();

  private constructor(private readonly opts: EngineOptions<S>, state: S, unfinished: UnfinishedDecisions, rulesVersion: number | undefined) {
    this.current = state;
    this.rules = deciderAt(opts.decider, rulesVersion).decider;
    this.unfinished = unfinished;
    this.runner = new EffectRunner(opts.maxConcurrentEffects ?? 16);
    this.log = opts.logger ?? silentLogger;
    this.keyOf = opts.keyOf ?? ((d) => d.pod?.uid ?? 'node');
  }

  /**
   * Load the newest snapshot, fold the tail, then append AgentStarted listing the decisions that
   * never got an outcome, so reducers can decide to re-check them (never blindly repeat them).
   */
  static async start<S>(opts: EngineOptions<S>): Promise<Engine<S>> {
    const hasEffect = (type: string) => Object.prototype.hasOwnProperty.call(opts.effects, type);
    const r = await replayLog(opts.store, opts.decider, { useSnapshot: true, hasEffect });
    const engine = new Engine(opts, r.state, r.unfinished, r.rulesVersion);
    for (const p of r.problems) engine.log.warn({ seq: p.seq, error: p.error }, 'log entry skipped during start-up replay');
    const interrupted = r.unfinished.list();
    engine.sinceSnapshot = r.folded;
    await engine.enqueue({
      kind: 'observation',
      type: AGENT_STARTED,
      source: 'engine',
      at: opts.clock.now(),
      data: {
        resumedFromSeq: r.lastSeq,
        snapshotSeq: r.snapshotSeq ?? null,
        unfinished: interrupted.map(describeInterrupted),
        unreadable: r.problems.slice(0, 100),
        // What this agent decides with from here on: verify folds the stretch with these rules.
        ...(opts.decider.rules ? { rulesVersion: opts.decider.rules.version } : {}),
      },
    });
    engine.log.info({ lastSeq: opts.store.lastSeq, snapshotSeq: r.snapshotSeq, folded: r.folded, interrupted: interrupted.length }, 'engine started');
    return engine;
  }

  /**
   * Merge a source into the loop; its observations are appended in arrival order. A source that
   * errors is subscribed again after a backoff (reset once it emits), each restart a
   * SourceRestarted entry, as NgRx's effect error handler resubscribes an effect.
   */
  attach(source$: Observable<ObservationDraft>, opts: AttachOptions = {}): Subscription {
    const name = opts.name ?? 'unnamed';
    const restartBackoff = opts.restart ?? SOURCE_RESTART_BACKOFF;
    const restarting = source$.pipe(
      retry({
        resetOnSuccess: true,
        delay: (err: unknown, attempt: number) => {
          const error = (err as Error)?.message ?? String(err);
          const delayMs = backoffDelay(attempt, restartBackoff);
          this.log.error({ source: name, err: error, attempt, delayMs }, 'source failed; restarting it');
          return defer(() => this.opts.clock.sleep(delayMs)).pipe(
            switchMap(() => {
              this.submitRestart({ source: name, reason: 'SourceFailed', attempt, delayMs, error });
              return [0];
            }),
          );
        },
      }),
    );
    const gated = opts.whileLogBlocked === 'run'
      ? restarting
      : this.writable$.pipe(
          distinctUntilChanged(),
          switchMap((writable, i) => {
            if (!writable) return EMPTY;
            if (i === 0) return restarting;
            return defer(() => {
              this.submitRestart({ source: name, reason: 'LogWritableAgain', attempt: 0, delayMs: 0 });
              return restarting;
            });
          }),
        );
    const sub = gated.subscribe({
      next: (d) => {
        this.submit(d).catch((err: Error) => {
          if (!(err instanceof EngineStoppedError)) this.log.error({ err: err.message, type: d.type, source: name }, 'observation not appended');
        });
      },
      error: (err: Error) => this.log.error({ err: err.message, source: name }, 'source failed'),
    });
    this.sources.add(sub);
    return sub;
  }

  private submitRestart(data: SourceRestarted): void {
    this.submit({ type: SOURCE_RESTARTED, source: ENGINE_SOURCE, data }).catch((err: Error) => {
      if (!(err instanceof EngineStoppedError)) this.log.warn({ err: err.message, source: data.source }, 'source restart not recorded');
    });
  }

  /** Append one observation; resolves with the entry once its batch is written. */
  submit(draft: ObservationDraft): Promise<Entry> {
    const d: AppendDraft = { kind: 'observation', type: draft.type, source: draft.source, data: draft.data, at: this.opts.clock.now() };
    if (draft.pod) d.pod = draft.pod;
    if (draft.cause !== undefined) d.cause = draft.cause;
    return this.enqueue(d);
  }

  state(): S {
    return this.current;
  }

  /** Whether the log accepts writes right now (see logStatus$). */
  get logStatus(): LogWriteStatus {
    return this.status.value;
  }

  unfinishedDecisions(): Entry[] {
    return this.unfinished.list();
  }

  /** Handlers running or queued. */
  get effectsPending(): number {
    return this.runner.queued;
  }

  /** Resolves when no input is waiting to be written and no effect is running or queued. */
  async settled(): Promise<void> {
    for (;;) {
      if (this.draining) await this.draining;
      await this.runner.idle();
      if (!this.draining && this.queue.length === 0 && this.runner.queued === 0) return;
    }
  }

  /**
   * Stop sources, append AgentStopping (no decision follows it), wait up to timeoutMs (real time;
   * an operator's bound) for effects in flight, abort the rest (their decisions stay unfinished
   * and are listed by the next AgentStarted), write what is queued, and stop accepting input.
   * The store stays open.
   */
  stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    this.stopping ??= this.stopOnce(opts.timeoutMs ?? 5000);
    return this.stopping;
  }

  private async stopOnce(timeoutMs: number): Promise<void> {
    this.sources.unsubscribe();
    if (this.accepting && !this.fatal) {
      const data: AgentStopping = { effectsInFlight: this.runner.queued };
      this.enqueue({ kind: 'observation', type: AGENT_STOPPING, source: ENGINE_SOURCE, at: this.opts.clock.now(), data }).catch(() => undefined);
    }
    if (!(await within(this.runner.idle(), timeoutMs))) {
      this.log.warn({ pending: this.runner.queued }, 'effects still running at stop; aborting them');
      this.abort.abort(new EngineStoppedError('agent stopping'));
      await within(this.runner.idle(), Math.min(1000, timeoutMs));
    }
    this.accepting = false;
    // A blocked log gets one more attempt, then what is queued is dropped (sources re-observe it).
    this.stopRetry.abort();
    if (this.draining) await this.draining;
    this.entriesSubject.complete();
  }

  private enqueue(draft: AppendDraft): Promise<Entry> {
    if (this.fatal) return Promise.reject(this.fatal);
    if (!this.accepting) return Promise.reject(new EngineStoppedError('engine stopped'));
    const observation = draft.kind === 'observation';
    if (observation && this.outage && this.queuedObservations >= (this.opts.maxQueuedWhileBlocked ?? 10_000)) {
      return Promise.reject(new EngineBlockedError(`node log not writable since ${this.outage.since.toISOString()}; observation refused`));
    }
    return new Promise<Entry>((resolve, reject) => {
      if (observation) this.queuedObservations++;
      this.queue.push({ draft, resolve, reject });
      if (!this.draining) this.draining = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Yield once so that inputs submitted in the same tick share a batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch ?? 2000);
      await this.writeWithRetry(batch);
    }
    this.draining = undefined;
  }

  /**
   * Write a batch, retrying with backoff while the log fails. The batch is refolded from the same
   * state each time, so the entries written are exactly those of the first attempt (same seqs,
   * same decisions): nothing lost, nothing twice.
   */
  private async writeWithRetry(batch: Pending[]): Promise<void> {
    const retryCfg = this.opts.writeRetry ?? DEFAULT_WRITE_RETRY;
    const maxOutageMs = this.opts.maxWriteOutageMs ?? DEFAULT_MAX_WRITE_OUTAGE_MS;
    let reopenFailed: Error | undefined;
    for (let attempt = 1; ; attempt++) {
      const err = reopenFailed ?? (await this.processBatch(batch));
      if (!err) {
        if (this.outage) this.recovered();
        return;
      }
      const now = this.opts.clock.now();
      if (!this.outage) {
        this.outage = { since: now, firstError: err.message, attempts: 0 };
        this.log.error({ err: err.message }, 'node log write failed; decisions suspended, retrying');
        this.writable$.next(false);
      }
      this.outage.attempts++;
      const elapsed = now.getTime() - this.outage.since.getTime();
      const giveUp = elapsed >= maxOutageMs || this.stopRetry.signal.aborted;
      this.status.next({ writable: false, since: this.outage.since, error: err.message, attempts: this.outage.attempts, gaveUp: giveUp });
      if (giveUp) return this.halt(err, batch, elapsed);
      const delayMs = Math.min(backoffDelay(attempt, retryCfg), maxOutageMs - elapsed);
      if ((attempt & (attempt - 1)) === 0) this.log.warn({ err: err.message, attempt, retryInMs: delayMs }, 'node log still not writable');
      await this.opts.clock.sleep(delayMs, this.stopRetry.signal).catch(() => undefined);
      // LevelDB must be reopened after a failed write before it is written again.
      reopenFailed = await this.opts.store.reopen().then(() => undefined, (e: Error & { cause?: Error }) => new Error(`node log reopen failed: ${e.message}${e.cause?.message ? `: ${e.cause.message}` : ''}`));
    }
  }

  private recovered(): void {
    const o = this.outage!;
    this.outage = undefined;
    const data: LogWriteRecovered = { since: o.since.toISOString(), attempts: o.attempts, error: o.firstError };
    this.log.info({ ...data }, 'node log writable again; resuming');
    // Next in the log, ahead of what queued during the outage.
    this.queue.unshift({ draft: { kind: 'observation', type: LOG_WRITE_RECOVERED, source: ENGINE_SOURCE, at: this.opts.clock.now(), data }, resolve: () => undefined, reject: () => undefined });
    this.queuedObservations++;
    this.status.next({ writable: true });
    this.writable$.next(true);
  }

  /** The log stayed unwritable too long (or the agent is stopping): refuse everything from now on. */
  private halt(err: Error, batch: Pending[], elapsedMs: number): void {
    this.fatal = new LogWriteOutageError(`node log not writable for ${Math.round(elapsedMs / 1000)} s (${this.outage?.attempts ?? 1} attempts): ${err.message}`);
    this.log.error({ err: err.message, elapsedMs }, 'node log not writable; engine halted');
    for (const p of batch) p.reject(this.fatal);
    for (const p of this.queue.splice(0)) p.reject(this.fatal);
    this.queuedObservations = 0;
    this.accepting = false;
    this.sources.unsubscribe();
  }

  /**
   * Fold a burst of inputs in memory, write them and their decisions as ONE batch, then dispatch.
   * On a failed write nothing changes (state, snapshot count, waiting callers) and the error is returned.
   */
  private async processBatch(batch: Pending[]): Promise<Error | undefined> {
    const { store, decider, effects } = this.opts;
    const entries: Entry[] = [];
    const encoded: string[] = [];
    const inputs: Entry[] = [];
    const toDispatch: Entry[] = [];
    let state = this.current;
    let rules = this.rules;
    let suspended = this.decisionsSuspended;
    const add = (e0: Entry): Entry => {
      // Fold the entry exactly as it will read back (plain JSON), so replay is byte-identical.
      const text = encodeEntry(e0);
      const e = JSON.parse(text) as Entry;
      entries.push(e);
      encoded.push(text);
      const stretch = deciderFor(decider, rules, e);
      if (stretch.problem) this.log.error({ seq: e.seq, error: stretch.problem }, 'rules not known');
      rules = stretch.decider;
      const step = evolveEntry(rules, state, e);
      if (step.error) this.log.error({ seq: e.seq, error: step.error }, 'reducer failed');
      state = step.state;
      return e;
    };
    for (const p of batch) {
      const input = add(store.stamp([p.draft])[0]);
      inputs.push(input);
      suspended = stoppingAfter(suspended, input);
      if (suspended) continue;
      const decided = decideOn(rules, state, input);
      if (decided.error) this.log.error({ seq: input.seq, error: decided.error }, 'reducer failed');
      if (decided.decisions.length === 0) continue;
      for (const d of store.stamp(decided.decisions.map((dd) => decisionDraftFor(input, dd)))) {
        const decision = add(d);
        if (Object.prototype.hasOwnProperty.call(effects, decision.type)) toDispatch.push(decision);
      }
    }
    const every = this.opts.snapshotEvery ?? 10_000;
    // No snapshot inside a stop window: verify starting from one would not know decisions are off.
    const snapshotDue = this.sinceSnapshot + entries.length >= every && !suspended;
    let snapshot: SnapshotInput | undefined;
    if (snapshotDue) {
      const after = new UnfinishedDecisions((t) => Object.prototype.hasOwnProperty.call(effects, t), this.unfinished.list());
      for (const e of entries) after.observe(e);
      snapshot = { state, unfinished: after.list(), ...(rules.rules ? { rulesVersion: rules.rules.version } : {}) };
    }
    try {
      // A kill or delete must not happen unless the log that explains it survives power loss.
      const sync = this.opts.isDestructive !== undefined && toDispatch.some(this.opts.isDestructive);
      await store.write(entries, { encoded, snapshot, sync });
    } catch (err) {
      // The log is the source of truth: what is not written is not acted on. The caller retries.
      return err instanceof Error ? err : new Error(String(err));
    }
    this.sinceSnapshot = snapshotDue ? 0 : this.sinceSnapshot + entries.length;
    this.decisionsSuspended = suspended;
    this.current = state;
    this.rules = rules;
    for (const e of entries) {
      this.unfinished.observe(e);
      this.entriesSubject.next(e);
    }
    for (let i = 0; i < batch.length; i++) {
      if (batch[i].draft.kind === 'observation') this.queuedObservations--;
      batch[i].resolve(inputs[i]);
    }
    for (const d of toDispatch) this.dispatch(d);
    return undefined;
  }

  private dispatch(decision: Entry): void {
    const handler = this.opts.effects[decision.type];
    this.runner.run(this.keyOf(decision), async () => {
      let outcomes: OutcomeDraft[];
      try {
        outcomes = await handler(decision, { signal: this.abort.signal, now: () => this.opts.clock.now() });
        // Every effect closes its decision, so nothing looks unfinished after a clean run.
        if (outcomes.length === 0) outcomes = [{ type: 'EffectCompleted', data: { decision: decision.type } }];
      } catch (err) {
        if (this.abort.signal.aborted) {
          // Aborted by stop: not a failure of the effect. Left unfinished, it is listed by the next
          // AgentStarted and re-checked then, instead of being answered now.
          this.log.info({ seq: decision.seq, type: decision.type }, 'effect aborted by stop; left unfinished');
          return;
        }
        outcomes = [{ type: 'EffectFailed', data: { decision: decision.type, error: (err as Error)?.message ?? String(err) } }];
      }
      // The key's next effect starts only after these outcomes are in the log.
      await Promise.all(
        outcomes.map((o) => {
          const d: AppendDraft = { kind: 'outcome', type: o.type, source: o.source ?? `effect:${decision.type}`, data: o.data, cause: decision.seq, at: this.opts.clock.now() };
          const pod = o.pod ?? decision.pod;
          if (pod) d.pod = pod;
          return this.enqueue(d).catch((err: Error) => this.log.warn({ seq: decision.seq, err: err.message }, 'outcome not appended; the decision stays unfinished'));
        }),
      );
    }, !(this.opts.isWait?.(decision) ?? false));
  }
}

/** true if p settled within ms of real time. */
async function within(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((r) => { timer = setTimeout(() => r(false), ms); });
  try {
    return await Promise.race([p.then(() => true as const), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
