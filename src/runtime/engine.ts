// The reconciliation engine: observations in, one write-ahead batch per burst, decisions out to
// effect handlers, outcomes back in. All reducer work happens on one serial path, so state and the
// log order always agree; effects run concurrently beside it (see effect-runner.ts).
import { Observable, Subject, Subscription } from 'rxjs';
import type { AppendDraft, Entry, ObservationDraft, OutcomeDraft } from '../model/entry.ts';
import type { Decider } from '../reducers/decider.ts';
import type { EffectHandlers } from '../effects/effect.ts';
import type { LogStore, SnapshotInput } from '../adapters/store/log-store.ts';
import { encodeEntry } from '../model/entry-codec.ts';
import type { Clock } from './clock.ts';
import { EffectRunner } from './effect-runner.ts';
import { decideOn, decisionDraftFor, evolveEntry } from './fold.ts';
import { replayLog } from './replay.ts';
import { AGENT_STARTED, describeInterrupted, UnfinishedDecisions } from './unfinished.ts';

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
}

interface Pending {
  draft: AppendDraft;
  resolve: (e: Entry) => void;
  reject: (err: Error) => void;
}

export class EngineStoppedError extends Error {
  override name = 'EngineStoppedError';
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
  private readonly log: EngineLogger;
  private readonly keyOf: (d: Entry) => string;

  /** Every appended entry, in seq order, after its batch is written. */
  readonly entries$: Observable<Entry> = this.entriesSubject.asObservable();

  private constructor(private readonly opts: EngineOptions<S>, state: S, unfinished: UnfinishedDecisions) {
    this.current = state;
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
    const engine = new Engine(opts, r.state, r.unfinished);
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
      },
    });
    engine.log.info({ lastSeq: opts.store.lastSeq, snapshotSeq: r.snapshotSeq, folded: r.folded, interrupted: interrupted.length }, 'engine started');
    return engine;
  }

  /** Merge a source into the loop; its observations are appended in arrival order. */
  attach(source$: Observable<ObservationDraft>): Subscription {
    const sub = source$.subscribe({
      next: (d) => {
        this.submit(d).catch((err: Error) => {
          if (!(err instanceof EngineStoppedError)) this.log.error({ err: err.message, type: d.type }, 'observation not appended');
        });
      },
      error: (err: Error) => this.log.error({ err: err.message }, 'source failed'),
    });
    this.sources.add(sub);
    return sub;
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
   * Stop sources, wait up to timeoutMs (real time; an operator's bound) for effects in flight,
   * abort the rest, write what is queued, and stop accepting input. The store stays open.
   */
  async stop(opts: { timeoutMs?: number } = {}): Promise<void> {
    if (!this.accepting && this.queue.length === 0 && !this.draining) return;
    this.sources.unsubscribe();
    const timeoutMs = opts.timeoutMs ?? 5000;
    if (!(await within(this.runner.idle(), timeoutMs))) {
      this.log.warn({ pending: this.runner.queued }, 'effects still running at stop; aborting them');
      this.abort.abort(new EngineStoppedError('agent stopping'));
      await within(this.runner.idle(), Math.min(1000, timeoutMs));
    }
    this.accepting = false;
    if (this.draining) await this.draining;
    this.entriesSubject.complete();
  }

  private enqueue(draft: AppendDraft): Promise<Entry> {
    if (!this.accepting) return Promise.reject(new EngineStoppedError('engine stopped'));
    if (this.fatal) return Promise.reject(this.fatal);
    return new Promise<Entry>((resolve, reject) => {
      this.queue.push({ draft, resolve, reject });
      if (!this.draining) this.draining = this.drain();
    });
  }

  private async drain(): Promise<void> {
    // Yield once so that inputs submitted in the same tick share a batch.
    await Promise.resolve();
    while (this.queue.length > 0) {
      const batch = this.queue.splice(0, this.opts.maxBatch ?? 2000);
      await this.processBatch(batch);
    }
    this.draining = undefined;
  }

  /** Fold a burst of inputs in memory, write them and their decisions as ONE batch, then dispatch. */
  private async processBatch(batch: Pending[]): Promise<void> {
    const { store, decider, effects } = this.opts;
    const entries: Entry[] = [];
    const encoded: string[] = [];
    const inputs: Entry[] = [];
    const toDispatch: Entry[] = [];
    let state = this.current;
    const add = (e0: Entry): Entry => {
      // Fold the entry exactly as it will read back (plain JSON), so replay is byte-identical.
      const text = encodeEntry(e0);
      const e = JSON.parse(text) as Entry;
      entries.push(e);
      encoded.push(text);
      const step = evolveEntry(decider, state, e);
      if (step.error) this.log.error({ seq: e.seq, error: step.error }, 'reducer failed');
      state = step.state;
      return e;
    };
    for (const p of batch) {
      const input = add(store.stamp([p.draft])[0]);
      inputs.push(input);
      const decided = decideOn(decider, state, input);
      if (decided.error) this.log.error({ seq: input.seq, error: decided.error }, 'reducer failed');
      if (decided.decisions.length === 0) continue;
      for (const d of store.stamp(decided.decisions.map((dd) => decisionDraftFor(input, dd)))) {
        const decision = add(d);
        if (Object.prototype.hasOwnProperty.call(effects, decision.type)) toDispatch.push(decision);
      }
    }
    this.sinceSnapshot += entries.length;
    const every = this.opts.snapshotEvery ?? 10_000;
    const snapshotDue = this.sinceSnapshot >= every;
    let snapshot: SnapshotInput | undefined;
    if (snapshotDue) {
      const after = new UnfinishedDecisions((t) => Object.prototype.hasOwnProperty.call(effects, t), this.unfinished.list());
      for (const e of entries) after.observe(e);
      snapshot = { state, unfinished: after.list() };
    }
    try {
      // A kill or delete must not happen unless the log that explains it survives power loss.
      const sync = this.opts.isDestructive !== undefined && toDispatch.some(this.opts.isDestructive);
      await store.write(entries, { encoded, snapshot, sync });
    } catch (err) {
      // The log is the source of truth: if it cannot be written, nothing may be acted on.
      this.fatal = new Error(`log write failed, engine halted: ${(err as Error).message}`);
      this.log.error({ err: (err as Error).message }, 'log write failed; engine halted');
      for (const p of batch) p.reject(this.fatal);
      for (const p of this.queue.splice(0)) p.reject(this.fatal);
      this.accepting = false;
      this.sources.unsubscribe();
      return;
    }
    if (snapshotDue) this.sinceSnapshot = 0;
    this.current = state;
    for (const e of entries) {
      this.unfinished.observe(e);
      this.entriesSubject.next(e);
    }
    for (let i = 0; i < batch.length; i++) batch[i].resolve(inputs[i]);
    for (const d of toDispatch) this.dispatch(d);
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
