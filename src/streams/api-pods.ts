// The API-server pod source: list + watch the pods bound to this node, as upstream's reflector
// does (list, then watch from the list's resourceVersion with bookmarks; re-watch from the last
// resourceVersion when a watch ends; relist on 410 Gone; back off while the server is down).
import { Observable } from 'rxjs';
import { isLeft } from 'fp-ts/lib/Either.js';
import type { ObservationDraft, PodRef } from '../model/entry.ts';
import { decodePod } from '../model/pod.ts';
import type { Clock } from '../runtime/clock.ts';
import { backoffDelay, DEFAULT_BACKOFF, type BackoffConfig } from '../runtime/backoff.ts';
import type { KubeClients } from '../adapters/kube/connect.ts';
import { KubeApiError, toKubeApiError } from '../adapters/kube/errors.ts';
import { listNodePods, watchNodePods, type PodList, type WatchEvent, type WatchHandle } from '../adapters/kube/pods.ts';
import {
  API_SOURCE,
  type ApiPodObserved,
  type ApiServerReachable,
  type ApiServerUnreachable,
  type PodDeletedFromApi,
  type PodRejected,
  type PodsRelisted,
} from './api-observations.ts';

export { backoffDelay, DEFAULT_BACKOFF, type BackoffConfig } from '../runtime/backoff.ts';

/** Whether a failure is worth an ApiServerUnreachable entry: the first, each power of two,
 *  and whenever the kind of error changes. Bounded: ~log2(attempts) entries per outage. */
export function shouldReportFailure(attempt: number, kindChanged: boolean): boolean {
  return kindChanged || attempt === 1 || (attempt & (attempt - 1)) === 0;
}

/** The two calls the source makes; the Kubernetes implementation is kubePodListWatch. */
export interface PodListWatch {
  list(signal: AbortSignal): Promise<PodList>;
  watch(
    resourceVersion: string,
    onEvent: (e: WatchEvent) => void,
    onDone: (err?: KubeApiError) => void,
  ): Promise<WatchHandle>;
}

export function kubePodListWatch(clients: KubeClients, nodeName: string, opts: { watchTimeoutSeconds?: number } = {}): PodListWatch {
  return {
    list: (signal) => listNodePods(clients, nodeName, signal),
    watch: (rv, onEvent, onDone) =>
      watchNodePods(clients, nodeName, rv, onEvent, onDone, { timeoutSeconds: opts.watchTimeoutSeconds ?? 300 }),
  };
}

export interface ApiPodsOptions {
  clients?: KubeClients;
  nodeName: string;
  clock: Clock;
  /** Resume: watch from here instead of listing first (a 410 still forces a relist). */
  initialResourceVersion?: string;
  backoff?: Partial<BackoffConfig>;
  /** Server-side watch timeout; each watch is re-opened after it. */
  watchTimeoutSeconds?: number;
  /** Replaces the Kubernetes calls (unit tests of the state machine). */
  listWatch?: PodListWatch;
}

interface Meta {
  uid?: string;
  namespace?: string;
  name?: string;
  resourceVersion?: string;
}

function metaOf(obj: unknown): Meta {
  const m = obj !== null && typeof obj === 'object' ? (obj as { metadata?: unknown }).metadata : undefined;
  if (m === null || typeof m !== 'object') return {};
  const r = m as Record<string, unknown>;
  const str = (k: string) => (typeof r[k] === 'string' ? (r[k] as string) : undefined);
  return { uid: str('uid'), namespace: str('namespace'), name: str('name'), resourceVersion: str('resourceVersion') };
}

const refOf = (m: Meta): PodRef | undefined =>
  m.uid ? { uid: m.uid, namespace: m.namespace ?? 'default', name: m.name ?? '' } : undefined;

type WatchOutcome = { kind: 'closed'; events: number } | { kind: 'gone' } | { kind: 'error'; error: KubeApiError };

export function apiPods$(opts: ApiPodsOptions): Observable<ObservationDraft> {
  const cfg: BackoffConfig = { ...DEFAULT_BACKOFF, ...(opts.backoff ?? {}) };
  const lw =
    opts.listWatch ??
    (opts.clients
      ? kubePodListWatch(opts.clients, opts.nodeName, { watchTimeoutSeconds: opts.watchTimeoutSeconds })
      : undefined);
  if (!lw) throw new TypeError('apiPods$: clients or listWatch is required');

  return new Observable<ObservationDraft>((subscriber) => {
    const ac = new AbortController();
    let currentWatch: WatchHandle | undefined;
    let resourceVersion = opts.initialResourceVersion;
    let needList = resourceVersion === undefined || resourceVersion === '';
    let failures = 0;
    let lastFailureKind: string | undefined;
    /** 410s in a row with no watch event between them: a server that keeps expiring our list. */
    let goneInARow = 0;

    const emit = <D>(type: string, data: D, pod?: PodRef) => {
      if (subscriber.closed) return;
      subscriber.next({ type, source: API_SOURCE, data, ...(pod ? { pod } : {}) });
    };

    const answered = () => {
      if (failures > 0) {
        emit<ApiServerReachable>('ApiServerReachable', { attempts: failures });
        failures = 0;
        lastFailureKind = undefined;
      }
    };

    const failed = async (error: KubeApiError) => {
      failures++;
      const retryInMs = backoffDelay(failures, cfg);
      if (shouldReportFailure(failures, lastFailureKind !== undefined && lastFailureKind !== error.kind)) {
        emit<ApiServerUnreachable>('ApiServerUnreachable', { error: error.toJSON(), attempt: failures, retryInMs });
      }
      lastFailureKind = error.kind;
      await opts.clock.sleep(retryInMs, ac.signal);
    };

    /** ADDED / MODIFIED / listed object → PodObserved or PodRejected; returns its uid. */
    const observe = (raw: unknown): string | undefined => {
      const m = metaOf(raw);
      const decoded = decodePod(raw, { requireImage: true });
      if (isLeft(decoded)) {
        emit<PodRejected>(
          'PodRejected',
          { namespace: m.namespace ?? 'default', name: m.name ?? '', ...(m.uid ? { uid: m.uid } : {}), problems: decoded.left },
          refOf(m),
        );
      } else {
        emit<ApiPodObserved>('PodObserved', { pod: decoded.right, origin: 'api', resourceVersion: m.resourceVersion ?? '' }, refOf(m));
      }
      return m.uid;
    };

    const relist = async () => {
      const list = await lw.list(ac.signal);
      answered();
      const uids: string[] = [];
      for (const item of list.items) {
        const uid = observe(item);
        if (uid) uids.push(uid);
      }
      emit<PodsRelisted>('PodsRelisted', { resourceVersion: list.resourceVersion, uids });
      resourceVersion = list.resourceVersion;
      needList = false;
    };

    const watchOnce = (fromRv: string): Promise<WatchOutcome> =>
      new Promise<WatchOutcome>((resolve) => {
        let settled = false;
        let events = 0;
        let handle: WatchHandle | undefined;
        const end = (o: WatchOutcome) => {
          if (settled) return;
          settled = true;
          handle?.stop();
          currentWatch = undefined;
          resolve(o);
        };
        const onEvent = (e: WatchEvent) => {
          if (settled) return;
          events++;
          if (e.type !== 'ERROR') goneInARow = 0; // the watch works again: the 410 streak is over
          switch (e.type) {
            case 'ADDED':
            case 'MODIFIED': {
              observe(e.object);
              const rv = metaOf(e.object).resourceVersion;
              if (rv) resourceVersion = rv;
              break;
            }
            case 'DELETED': {
              const m = metaOf(e.object);
              if (m.uid) emit<PodDeletedFromApi>('PodDeletedFromApi', { uid: m.uid, resourceVersion: m.resourceVersion ?? '' }, refOf(m));
              if (m.resourceVersion) resourceVersion = m.resourceVersion;
              break;
            }
            case 'BOOKMARK':
              resourceVersion = e.resourceVersion;
              break;
            case 'ERROR':
              end(e.error.kind === 'Gone' ? { kind: 'gone' } : { kind: 'error', error: e.error });
              break;
          }
        };
        const onDone = (err?: KubeApiError) => {
          if (!err) end({ kind: 'closed', events });
          else end(err.kind === 'Gone' ? { kind: 'gone' } : { kind: 'error', error: err });
        };
        lw.watch(fromRv, onEvent, onDone).then(
          (h) => {
            handle = h;
            if (settled || ac.signal.aborted) {
              h.stop();
              if (!settled) end({ kind: 'closed', events });
              return;
            }
            currentWatch = h;
            answered(); // the server accepted the watch
          },
          (err: unknown) => end({ kind: 'error', error: toKubeApiError(err, 'watch pods') }),
        );
      });

    /** The first 410 relists at once (upstream's reflector does); repeated ones back off. */
    const gone = async () => {
      needList = true;
      goneInARow++;
      if (goneInARow > 1) await opts.clock.sleep(backoffDelay(goneInARow - 1, cfg), ac.signal);
    };

    const run = async () => {
      while (!ac.signal.aborted) {
        try {
          if (needList) await relist();
          const outcome = await watchOnce(resourceVersion!);
          if (ac.signal.aborted) break;
          if (outcome.kind === 'gone') await gone();
          else if (outcome.kind === 'error') await failed(outcome.error);
          else if (outcome.events === 0) await opts.clock.sleep(cfg.initialMs, ac.signal); // quiet close: do not spin
        } catch (err) {
          if (ac.signal.aborted) break;
          const e = toKubeApiError(err, needList ? 'list pods' : 'watch pods');
          if (e.kind === 'Gone') {
            try {
              await gone();
            } catch {
              break; // aborted while sleeping
            }
            continue;
          }
          try {
            await failed(e);
          } catch {
            break; // aborted while sleeping
          }
        }
      }
    };

    run().then(
      () => subscriber.complete(),
      (err: unknown) => {
        if (ac.signal.aborted) subscriber.complete();
        else subscriber.error(err);
      },
    );

    return () => {
      ac.abort();
      currentWatch?.stop();
    };
  });
}
