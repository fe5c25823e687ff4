// Probe and lifecycle-hook `httpHeaders` whose name marks a credential (Authorization, Cookie,
// *token*...) reach the log as `[redacted]` (src/model/entry-redact.ts), so the state the prober
// and the hook runner read holds no value. The real values are withheld here, in memory only, as
// the pod sources deliver each pod (again after every restart: both sources list everything at
// start-up), and put back at the moment a request is sent. They are also registered for scrubbing.
import * as t from 'io-ts';
import { isRight } from 'fp-ts/lib/Either.js';
import { tap, type MonoTypeOperatorFunction } from 'rxjs';
import type { ObservationDraft } from '../model/entry.ts';
import { isSecretName, REDACTED } from '../model/entry-redact.ts';
import { Pod, type Container, type LifecycleHandler, type Probe } from '../model/pod.ts';
import { probeHeadersOwner, release, replace } from './secret-values.ts';

/** Where a header list sits in a container: a probe kind or a lifecycle hook. */
export type HeaderSlot = 'liveness' | 'readiness' | 'startup' | 'postStart' | 'preStop';

type HttpHeaders = { name: string; value: string }[];

/** pod uid → `${container}\0${slot}\0${index}` → the header's value */
const withheld = new Map<string, Map<string, string>>();

const key = (container: string, slot: HeaderSlot, index: number) => `${container}\0${slot}\0${index}`;

function headerLists(c: Container): [HeaderSlot, HttpHeaders | undefined][] {
  return [
    ['liveness', c.livenessProbe?.httpGet?.httpHeaders],
    ['readiness', c.readinessProbe?.httpGet?.httpHeaders],
    ['startup', c.startupProbe?.httpGet?.httpHeaders],
    ['postStart', c.lifecycle?.postStart?.httpGet?.httpHeaders],
    ['preStop', c.lifecycle?.preStop?.httpGet?.httpHeaders],
  ];
}

/** Records the credential headers of a pod as it arrives from its source. */
export function withholdPodHeaders(uid: string, pod: Pod): void {
  const values = new Map<string, string>();
  for (const c of [...(pod.spec.initContainers ?? []), ...pod.spec.containers]) {
    for (const [slot, headers] of headerLists(c)) {
      (headers ?? []).forEach((h, i) => {
        if (h.value !== REDACTED && isSecretName(h.name)) values.set(key(c.name, slot, i), h.value);
      });
    }
  }
  if (values.size === 0) withheld.delete(uid);
  else withheld.set(uid, values);
  replace(probeHeadersOwner(uid), values.values());
}

function restore(headers: HttpHeaders | undefined, uid: string, container: string, slot: HeaderSlot): HttpHeaders | undefined {
  const values = withheld.get(uid);
  if (!headers || !values) return headers;
  return headers.map((h, i) => (h.value === REDACTED ? { ...h, value: values.get(key(container, slot, i)) ?? h.value } : h));
}

/** A probe with its withheld header values put back, for the request only. */
export function probeWithHeaders(p: Probe, uid: string, container: string, slot: HeaderSlot): Probe {
  if (!p.httpGet?.httpHeaders) return p;
  return { ...p, httpGet: { ...p.httpGet, httpHeaders: restore(p.httpGet.httpHeaders, uid, container, slot) } };
}

/** A lifecycle hook with its withheld header values put back, for the request only. */
export function hookWithHeaders(h: LifecycleHandler, uid: string, container: string, slot: 'postStart' | 'preStop'): LifecycleHandler {
  if (!h.httpGet?.httpHeaders) return h;
  return { ...h, httpGet: { ...h.httpGet, httpHeaders: restore(h.httpGet.httpHeaders, uid, container, slot) } };
}

const PodObservedData = t.type({ pod: Pod });

/** Pass-through for a pod source: withholds the headers of every pod it delivers, forgets removed pods. */
export function withholdHeaders(): MonoTypeOperatorFunction<ObservationDraft> {
  return tap((d) => {
    const uid = d.pod?.uid;
    if (!uid) return;
    if (d.type === 'PodObserved') {
      const data = PodObservedData.decode(d.data);
      if (isRight(data)) withholdPodHeaders(uid, data.right.pod);
    } else if (d.type === 'PodDeletedFromApi' || d.type === 'StaticPodRemoved') {
      withheld.delete(uid);
      release(probeHeadersOwner(uid));
    }
  });
}
