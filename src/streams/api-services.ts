// The Service source: every Service's cluster IP and ports, for the service-link environment
// variables (upstream's kubelet keeps a service informer for the same reason). Only changes that
// matter to the environment are logged: a status update of a LoadBalancer is not an entry.
import { Observable } from 'rxjs';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { ObservationDraft } from '../model/entry.ts';
import { decodeService, serviceKey, type ServiceLink } from '../model/service.ts';
import type { Clock } from '../runtime/clock.ts';
import { backoffDelay, DEFAULT_BACKOFF } from '../runtime/backoff.ts';
import { toKubeApiError } from '../adapters/kube/errors.ts';
import type { ServiceWatch } from '../adapters/kube/services.ts';
import { API_SOURCE } from './api-observations.ts';
import type { ServiceObserved, ServiceRemoved, ServicesListed } from '../model/service.ts';

const WithVersion = t.type({ metadata: t.type({ resourceVersion: t.string }) });

export function apiServices$(o: { watch: () => ServiceWatch; clock: Clock }): Observable<ObservationDraft> {
  return new Observable<ObservationDraft>((subscriber) => {
    const ac = new AbortController();
    const reported = new Map<string, string>();
    let current: ServiceWatch | undefined;
    let failures = 0;
    let listed = false;
    /** Keys seen by the list in progress: what a fresh list lacks was deleted meanwhile. */
    let listedNow: Set<string> | undefined;
    const emit = <D>(type: string, data: D) => { if (!subscriber.closed) subscriber.next({ type, source: API_SOURCE, data }); };

    const seen = (raw: unknown) => {
      const d = decodeService(raw);
      // A Service the codec refuses cannot give variables; it is not a pod, nothing else to do.
      if (isLeft(d)) return;
      const s: ServiceLink = d.right;
      listedNow?.add(serviceKey(s));
      const text = JSON.stringify(s);
      if (reported.get(serviceKey(s)) === text) return;
      reported.set(serviceKey(s), text);
      emit<ServiceObserved>('ServiceObserved', { service: s, resourceVersion: WithVersion.is(raw) ? raw.metadata.resourceVersion : '' });
    };
    const gone = (raw: unknown) => {
      const d = decodeService(raw);
      if (isLeft(d) || !reported.delete(serviceKey(d.right))) return;
      emit<ServiceRemoved>('ServiceRemoved', { namespace: d.right.namespace, name: d.right.name });
    };

    const run = async () => {
      while (!ac.signal.aborted) {
        const w = o.watch();
        current = w;
        let errored = false;
        const failed = new Promise<void>((resolve) => w.on('error', () => { errored = true; resolve(); }));
        w.on('add', seen);
        w.on('update', seen);
        w.on('delete', gone);
        try {
          listedNow = new Set();
          await w.start();
          const inList = listedNow;
          listedNow = undefined;
          if (errored) throw new Error('list failed');
          failures = 0;
          // A new ListWatch starts with an empty cache: report what vanished while we were away.
          for (const key of [...reported.keys()].filter((k) => !inList.has(k))) {
            reported.delete(key);
            const [namespace, name] = [key.slice(0, key.indexOf('/')), key.slice(key.indexOf('/') + 1)];
            emit<ServiceRemoved>('ServiceRemoved', { namespace, name });
          }
          if (!listed) {
            listed = true;
            emit<ServicesListed>('ServicesListed', { count: reported.size });
          }
          await Promise.race([failed, new Promise((r) => ac.signal.addEventListener('abort', r, { once: true }))]);
        } catch {
          // the list failed: retried below like a watch error
          listedNow = undefined;
        }
        await w.stop().catch(() => undefined);
        if (ac.signal.aborted) return;
        failures++;
        // The pod source reports the API server's outages; this one only waits them out.
        await o.clock.sleep(backoffDelay(failures, DEFAULT_BACKOFF), ac.signal).catch(() => undefined);
      }
    };
    run().catch((e) => subscriber.error(toKubeApiError(e)));
    return () => {
      ac.abort();
      void current?.stop().catch(() => undefined);
    };
  });
}
