// Payloads of the observations the API-server pod source emits (source `apiserver`).
//
// - `PodObserved` {pod, origin: 'api', resourceVersion}: a pod bound to this node, as listed or
//   as an ADDED/MODIFIED watch event (resourceVersion is the pod's).
// - `PodDeletedFromApi` {uid, resourceVersion}: the pod object is gone from the API server.
// - `PodsRelisted` {resourceVersion, uids}: a full list finished; uids is every pod bound to
//   this node at that resourceVersion (rejected ones included), so anything else is gone.
// - `PodRejected` {namespace, name, uid?, problems}: the server sent a pod the codec refuses.
// - `ApiServerUnreachable` {error, attempt, retryInMs}: a list or watch failed; reported on the
//   first failure of an outage, when the error kind changes, and on attempts 2, 4, 8, 16...
// - `ApiServerReachable` {attempts}: the server answered again after `attempts` failures.
import * as t from 'io-ts';
import { Pod } from '../model/pod.ts';

export const API_SOURCE = 'apiserver';

export const ApiPodObserved = t.type({ pod: Pod, origin: t.literal('api'), resourceVersion: t.string });
export type ApiPodObserved = t.TypeOf<typeof ApiPodObserved>;

export const PodDeletedFromApi = t.type({ uid: t.string, resourceVersion: t.string });
export type PodDeletedFromApi = t.TypeOf<typeof PodDeletedFromApi>;

export const PodsRelisted = t.type({ resourceVersion: t.string, uids: t.array(t.string) });
export type PodsRelisted = t.TypeOf<typeof PodsRelisted>;

export const PodRejected = t.intersection([
  t.type({ namespace: t.string, name: t.string, problems: t.array(t.string) }),
  t.partial({ uid: t.string }),
]);
export type PodRejected = t.TypeOf<typeof PodRejected>;

export const ApiError = t.intersection([
  t.type({ kind: t.string, message: t.string }),
  t.partial({ status: t.number, reason: t.string, operation: t.string }),
]);

export const ApiServerUnreachable = t.type({ error: ApiError, attempt: t.number, retryInMs: t.number });
export type ApiServerUnreachable = t.TypeOf<typeof ApiServerUnreachable>;

export const ApiServerReachable = t.type({ attempts: t.number });
export type ApiServerReachable = t.TypeOf<typeof ApiServerReachable>;


// Services (source `apiserver`): ServiceObserved, ServiceRemoved, ServicesListed, codecs in
// src/model/service.ts (the pods reducer folds them).
export { ServiceObserved, ServiceRemoved, ServicesListed } from '../model/service.ts';
