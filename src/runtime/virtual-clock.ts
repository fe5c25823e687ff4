// A Clock whose time moves only when a test calls advance(), so timers, backoffs and probe periods
// run instantly and deterministically.
import type { Clock } from './clock.ts';

interface Timer {
  due: number;
  order: number;
  resolve: () => void;
}

export class VirtualClock implements Clock {
  private ms: number;
  private timers: Timer[] = [];
  private counter = 0;

  constructor(start: Date | string = '2024-01-01T00:00:00.000Z') {
    this.ms = new Date(start).getTime();
  }

  now(): Date {
    return new Date(this.ms);
  }

  sleep(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise((resolve, reject) => {
      if (signal?.aborted) return reject(signal.reason);
      const timer: Timer = { due: this.ms + Math.max(0, ms), order: this.counter++, resolve: () => resolve() };
      this.timers.push(timer);
      signal?.addEventListener('abort', () => {
        this.timers = this.timers.filter((t) => t !== timer);
        reject(signal.reason);
      }, { once: true });
    });
  }

  /** Pending sleeps (for tests that assert something is waiting). */
  get pendingTimers(): number {
    return this.timers.length;
  }

  /**
   * Move time forward by ms, firing due timers in order; each fired timer's continuation gets to
   * run (and schedule further timers) before the next one fires.
   */
  async advance(ms: number): Promise<void> {
    const target = this.ms + ms;
    for (;;) {
      this.timers.sort((a, b) => a.due - b.due || a.order - b.order);
      const next = this.timers[0];
      if (!next || next.due > target) break;
      this.timers.shift();
      this.ms = next.due;
      next.resolve();
      await settle();
    }
    this.ms = target;
    await settle();
  }
}

/** Let promise continuations and immediate callbacks run. */
async function settle(): Promise<void> {
  for (let i = 0; i < 3; i++) await new Promise<void>((r) => setImmediate(r));
}
