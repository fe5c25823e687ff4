// core/v1 Events about pods and the node, shaped like the ones the upstream kubelet's event
// recorder writes (what `kubectl describe pod` lists under Events).
import { PatchStrategy, setHeaderOptions, type CoreV1Event } from '@kubernetes/client-node';
import type { KubeClients } from './connect.ts';
import { call, isAlreadyExists } from './errors.ts';

export type EventType = 'Normal' | 'Warning';

export interface InvolvedObject {
  kind: 'Pod' | 'Node';
  name: string;
  /** Pods only; node events go to the default namespace, as upstream. */
  namespace?: string;
  uid: string;
  apiVersion?: string;
  resourceVersion?: string;
  /** e.g. spec.containers{web}, spec.initContainers{init} */
  fieldPath?: string;
}

export interface EventDraft {
  involvedObject: InvolvedObject;
  type: EventType;
  reason: string;
  message: string;
  /** The node name (source.host / reportingInstance). */
  host: string;
  at: Date;
  component?: string;
  /** Added to the nanoseconds in the name so that two events about one object in the same
   *  millisecond get distinct names (pass e.g. the log sequence number). */
  uniquifier?: number;
}

/** spec.containers{name}, the fieldPath upstream uses for a container's events. */
export function containerFieldPath(container: string, kind: 'containers' | 'initContainers' | 'ephemeralContainers' = 'containers'): string {
  return `spec.${kind}{${container}}`;
}

/** Upstream names an event `<object name>.<hex of unix nanos>`. */
export function eventName(objectName: string, at: Date, uniquifier = 0): string {
  const nanos = BigInt(at.getTime()) * 1_000_000n + BigInt(Math.abs(Math.trunc(uniquifier)) % 1_000_000);
  return `${objectName}.${nanos.toString(16)}`;
}

/** The Event object to create (pure). */
export function buildEvent(d: EventDraft): CoreV1Event {
  const component = d.component ?? 'kubelet';
  const namespace = d.involvedObject.namespace ?? 'default';
  return {
    apiVersion: 'v1',
    kind: 'Event',
    metadata: { name: eventName(d.involvedObject.name, d.at, d.uniquifier), namespace },
    involvedObject: {
      apiVersion: d.involvedObject.apiVersion ?? 'v1',
      kind: d.involvedObject.kind,
      name: d.involvedObject.name,
      ...(d.involvedObject.namespace ? { namespace: d.involvedObject.namespace } : {}),
      uid: d.involvedObject.uid,
      ...(d.involvedObject.resourceVersion ? { resourceVersion: d.involvedObject.resourceVersion } : {}),
      ...(d.involvedObject.fieldPath ? { fieldPath: d.involvedObject.fieldPath } : {}),
    },
    reason: d.reason,
    message: d.message,
    type: d.type,
    source: { component, host: d.host },
    reportingComponent: component,
    reportingInstance: d.host,
    firstTimestamp: d.at,
    lastTimestamp: d.at,
    count: 1,
  };
}

export async function createEvent(clients: KubeClients, d: EventDraft): Promise<CoreV1Event> {
  for (let attempt = 0; ; attempt++) {
    const body = buildEvent({ ...d, uniquifier: (d.uniquifier ?? 0) + attempt * 1000 });
    const ns = body.metadata!.namespace!;
    try {
      return await call(`create events ${ns}/${body.metadata!.name}`, () => clients.core.createNamespacedEvent({ namespace: ns, body }));
    } catch (err) {
      // a name clash (same object, same instant): try the next name
      if (!isAlreadyExists(err) || attempt >= 3) throw err;
    }
  }
}

/**
 * A repeat of an event already created (same object, reason, message): bump count and
 * lastTimestamp with a strategic merge patch, as upstream's event correlator does.
 */
export async function bumpEvent(
  clients: KubeClients,
  ref: { namespace: string; name: string },
  count: number,
  at: Date,
  message?: string,
): Promise<CoreV1Event> {
  const body = { count, lastTimestamp: at.toISOString().replace(/\.\d{3}Z$/, 'Z'), ...(message !== undefined ? { message } : {}) };
  return call(`patch events ${ref.namespace}/${ref.name}`, () =>
    clients.core.patchNamespacedEvent(
      { namespace: ref.namespace, name: ref.name, body },
      setHeaderOptions('Content-Type', PatchStrategy.StrategicMergePatch),
    ),
  );
}
