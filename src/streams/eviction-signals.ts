// The eviction manager's eyes: every housekeeping interval (upstream 10 s) the node's signals are
// read and compared with evictionHard. Only what matters is logged: an EvictionSignalsObserved
// entry while a threshold is met (each one may evict a pod), and for one transition period after
// (so the reducers can lift the pressure condition), and once at start-up (a condition the log
// left in force is re-checked); never while the node is comfortable.
// The reducers re-evaluate the thresholds from the entry; this stream only decides when to speak.
import { Observable } from 'rxjs';
import type { ObservationDraft } from '../model/entry.ts';
import { metThresholds, type EvictionSignalsData, type ObservedSignals, type PodUsage, type Threshold } from '../model/eviction.ts';

export type { EvictionSignalsData, PodUsage };
import type { Clock } from '../runtime/clock.ts';

export const EVICTION_SOURCE = 'eviction';

export interface EvictionSignalsOptions {
  thresholds: Threshold[];
  transitionMs: number;
  intervalMs?: number;
  clock: Clock;
  readSignals: () => Promise<ObservedSignals>;
  podUsage: () => Promise<PodUsage>;
}


export function evictionSignals$(o: EvictionSignalsOptions): Observable<ObservationDraft<EvictionSignalsData>> {
  return new Observable((sub) => {
    if (o.thresholds.length === 0) return undefined;
    const stop = new AbortController();
    const interval = o.intervalMs ?? 10_000;
    let lastMetMs: number | undefined;
    let first = true;
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          const observed = await o.readSignals();
          const now = o.clock.now().getTime();
          const met = metThresholds(o.thresholds, observed);
          if (met.length) lastMetMs = now;
          const afterglow = lastMetMs !== undefined && now - lastMetMs <= o.transitionMs + interval;
          if (met.length || afterglow || first) {
            first = false;
            const pods = met.length ? await o.podUsage().catch(() => undefined) : undefined;
            sub.next({ type: 'EvictionSignalsObserved', source: EVICTION_SOURCE, data: { observed, thresholds: o.thresholds, transitionMs: o.transitionMs, ...(pods ? { pods } : {}) } });
          } else lastMetMs = undefined;
        } catch {
          // An unreadable signal this round is read again next round.
        }
        await o.clock.sleep(interval, stop.signal).catch(() => undefined);
      }
    })();
    return () => stop.abort();
  });
}
