// RestartBackedOff → wait until the backoff ends, then report BackOffExpired so the pod is synced
// again. The wait is on the injected clock, so tests run it in virtual time.
import type { Entry, OutcomeDraft } from '../model/entry.ts';
import type { Clock } from '../runtime/clock.ts';

export async function waitBackoff(clock: Clock, d: Entry, signal?: AbortSignal): Promise<OutcomeDraft[]> {
  const { until, name, which } = d.data as { until: string; name?: string; which: string };
  const ms = Date.parse(until) - clock.now().getTime();
  if (ms > 0) await clock.sleep(ms, signal);
  return [{ type: 'BackOffExpired', pod: d.pod, data: { name, which } }];
}
