// The eviction manager's eyes: every housekeeping interval (upstream 10 s) the node's signals are
// read and compared with evictionHard. Only what matters is logged: an EvictionSignalsObserved
// entry while a threshold is met (each one may evict a pod), while the node's state still has a
// pressure condition in force (so the reducers can lift it once the transition period is over,
// also after a restart), and once at start-up; never while the node is comfortable.
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
  /** Whether the node's state has a pressure condition in force (read, never changed, here). */
  pressureInForce: () => boolean;
  podUsage: () => Promise<PodUsage>;
}


export function evictionSignals$(o: EvictionSignalsOptions): Observable<ObservationDraft<EvictionSignalsData>> {
  return new Observable((sub) => {
    if (o.thresholds.length === 0) return undefined;
    const stop = new AbortController();
    const interval = o.intervalMs ?? 10_000;
    let first = true;
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          const observed = await o.readSignals();
          const met = metThresholds(o.thresholds, observed);
          if (met.length || o.pressureInForce() || first) {
            first = false;
            const pods = met.length ? await o.podUsage().catch(() => undefined) : undefined;
            sub.next({ type: 'EvictionSignalsObserved', source: EVICTION_SOURCE, data: { observed, thresholds: o.thresholds, transitionMs: o.transitionMs, ...(pods ? { pods } : {}) } });
          }
        } catch {
          // An unreadable signal this round is read again next round.
        }
        await o.clock.sleep(interval, stop.signal).catch(() => undefined);
      }
    })();
    return () => stop.abort();
  });
}
