// Sends the Events projected from the log to the API server, rate-limited like upstream's
// recorder (eventRecordQPS / eventBurst); losing an event never affects the pods.
import type { Observable, Subscription } from 'rxjs';
import type { KubeClients } from '../adapters/kube/connect.ts';
import { containerFieldPath, createEvent } from '../adapters/kube/events.ts';
import type { Entry } from '../model/entry.ts';
import { eventsFor } from '../effects/events-projection.ts';

export function recordEvents(entries$: Observable<Entry>, clients: KubeClients, nodeName: string, qps = 50, burst = 100, onError?: (e: Error) => void): Subscription {
  let tokens = burst;
  let last = Date.now();
  return entries$.subscribe((e) => {
    if (!e.pod) return;
    for (const ev of eventsFor(e)) send(e, ev);
  });
  function send(e: Entry, ev: ReturnType<typeof eventsFor>[number]) {
    if (!e.pod) return;
    const now = Date.now();
    tokens = Math.min(burst, tokens + ((now - last) / 1000) * qps);
    last = now;
    if (tokens < 1) return;
    tokens -= 1;
    createEvent(clients, {
      involvedObject: {
        kind: 'Pod', name: e.pod.name, namespace: e.pod.namespace, uid: e.pod.uid,
        ...(ev.container ? { fieldPath: containerFieldPath(ev.container, ev.initContainer ? 'initContainers' : 'containers') } : {}),
      },
      type: ev.type, reason: ev.reason, message: ev.message, host: nodeName, at: new Date(now),
    }).catch((err: Error) => onError?.(err));
  }
}
