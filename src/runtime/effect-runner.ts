// Runs effect handlers: one at a time and in order per key (a pod uid, or 'node'), different keys in
// parallel, never more than `limit` handlers in flight overall. Equivalent to
// groupBy(key) + concatMap with a global semaphore, but a key's queue is dropped when it empties,
// so pods that come and go leave nothing behind.
export class EffectRunner {
  private readonly queues = new Map<string, Array<() => Promise<void>>>();
  private inFlight = 0;
  private readonly waiting: Array<() => void> = [];
  private idleWaiters: Array<() => void> = [];
  private pending = 0;

  constructor(private readonly limit: number) {}

  /**
   * Queue work for a key; it starts after every earlier item of that key has finished.
   * `limited: false` is for work that only waits (timers): it must not hold a slot for minutes.
   */
  run(key: string, work: () => Promise<void>, limited = true): void {
    this.pending++;
    const item = limited ? work : Object.assign(work, { unlimited: true });
    const q = this.queues.get(key);
    if (q) {
      q.push(item);
      return;
    }
    this.queues.set(key, [item]);
    void this.drainKey(key);
  }

  get active(): number {
    return this.inFlight;
  }

  get queued(): number {
    return this.pending;
  }

  /** Resolves when nothing is queued or running. */
  idle(): Promise<void> {
    if (this.pending === 0) return Promise.resolve();
    return new Promise((r) => this.idleWaiters.push(r));
  }

  private async drainKey(key: string): Promise<void> {
    const q = this.queues.get(key)!;
    while (q.length > 0) {
      const work = q[0] as (() => Promise<void>) & { unlimited?: boolean };
      const limited = !work.unlimited;
      if (limited) await this.acquire();
      try {
        await work();
      } catch {
        // Work items report their own failures; a throw here must not stall the key.
      } finally {
        if (limited) this.release();
      }
      q.shift();
      this.pending--;
    }
    this.queues.delete(key);
    if (this.pending === 0) {
      const ws = this.idleWaiters;
      this.idleWaiters = [];
      for (const w of ws) w();
    }
  }

  private acquire(): Promise<void> {
    if (this.inFlight < this.limit) {
      this.inFlight++;
      return Promise.resolve();
    }
    return new Promise((r) => this.waiting.push(() => { this.inFlight++; r(); }));
  }

  private release(): void {
    this.inFlight--;
    const next = this.waiting.shift();
    if (next) next();
  }
}
