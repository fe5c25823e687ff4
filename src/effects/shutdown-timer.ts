// NodeShutdownGroupStarted → wait until the group's grace period is over, then report
// NodeShutdownGroupEnded so the reducer starts the next group if its pods have not stopped yet.
import type { Entry, OutcomeDraft } from '../model/entry.ts';
import { NodeShutdownGroupStarted } from '../model/node-shutdown.ts';
import type { Clock } from '../runtime/clock.ts';

export async function waitShutdownGroup(clock: Clock, d: Entry, signal?: AbortSignal): Promise<OutcomeDraft[]> {
  if (!NodeShutdownGroupStarted.is(d.data)) return [];
  const ms = Date.parse(d.data.until) - clock.now().getTime();
  if (ms > 0) await clock.sleep(ms, signal);
  return [{ type: 'NodeShutdownGroupEnded', data: { index: d.data.index } }];
}
