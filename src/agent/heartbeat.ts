// Node heartbeats as upstream: renew the Lease every leaseDuration/4 (10 s) and re-post the node
// status every nodeStatusReportFrequency. Beats are not log entries (a steady node must not grow
// its log); only a change between failing and succeeding is observed. `reportNow$` makes the next
// beat post the status at once (the node log's write health changed).
import { Observable } from 'rxjs';
import type { V1Lease } from '@kubernetes/client-node';
import type { KubeClients } from '../adapters/kube/connect.ts';
import { ensureLease } from '../adapters/kube/lease.ts';
import type { ObservationDraft } from '../model/entry.ts';
import type { Clock } from '../runtime/clock.ts';

export interface HeartbeatOptions {
  clients: KubeClients;
  nodeName: string;
  clock: Clock;
  leaseDurationSeconds: number;
  /** Re-posts the node status with fresh heartbeat times (conditions from the engine's state). */
  reportStatus: () => Promise<void>;
  reportEveryMs: number;
  nodeUid: () => string | undefined;
  /** Each emission wakes the loop and re-posts the node status now. */
  reportNow$?: Observable<unknown>;
}

export function heartbeat$(o: HeartbeatOptions): Observable<ObservationDraft> {
  return new Observable<ObservationDraft>((sub) => {
    const ctl = new AbortController();
    let lease: V1Lease | undefined;
    let failing = false;
    let lastReport = 0;
    let wake = new AbortController();
    const nudge = o.reportNow$?.subscribe(() => {
      lastReport = 0;
      wake.abort();
    });
    (async () => {
      while (!ctl.signal.aborted) {
        try {
          lease = await ensureLease(o.clients, { nodeName: o.nodeName, nodeUid: o.nodeUid(), clock: o.clock, leaseDurationSeconds: o.leaseDurationSeconds }, lease);
          if (o.clock.now().getTime() - lastReport >= o.reportEveryMs) {
            await o.reportStatus();
            lastReport = o.clock.now().getTime();
          }
          if (failing) sub.next({ type: 'NodeHeartbeatRecovered', source: 'heartbeat', data: {} });
          failing = false;
        } catch (e) {
          lease = undefined;
          if (!failing) sub.next({ type: 'NodeHeartbeatFailed', source: 'heartbeat', data: { error: (e as Error).message } });
          failing = true;
        }
        if (!wake.signal.aborted) await o.clock.sleep((o.leaseDurationSeconds * 1000) / 4, AbortSignal.any([ctl.signal, wake.signal])).catch(() => undefined);
        if (wake.signal.aborted) wake = new AbortController();
      }
    })();
    return () => {
      nudge?.unsubscribe();
      ctl.abort();
    };
  });
}
