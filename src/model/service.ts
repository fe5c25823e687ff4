// The part of a v1.Service the node needs: its cluster IP and ports, for the service-link
// environment variables (upstream pkg/kubelet/envvars). Everything else is stripped on decode.
import * as t from 'io-ts';
import { decodeWith, obj } from './decode.ts';
import { map, type Either } from 'fp-ts/lib/Either.js';

export const ServicePort = obj('ServicePort', { port: t.number }, { name: t.string, protocol: t.string });

export const ServiceLink = obj('ServiceLink', { namespace: t.string, name: t.string, ports: t.array(ServicePort) }, { clusterIP: t.string });
export type ServiceLink = t.TypeOf<typeof ServiceLink>;

const ApiService = obj('Service', { metadata: obj('ObjectMeta', { name: t.string }, { namespace: t.string }) }, {
  spec: obj('ServiceSpec', {}, { clusterIP: t.string, ports: t.array(ServicePort) }),
});

/** A Service from the API server, reduced to what the environment needs. */
export function decodeService(raw: unknown): Either<string[], ServiceLink> {
  return map((s: t.TypeOf<typeof ApiService>): ServiceLink => ({
    namespace: s.metadata.namespace ?? 'default', name: s.metadata.name, ports: s.spec?.ports ?? [],
    ...(s.spec?.clusterIP !== undefined ? { clusterIP: s.spec.clusterIP } : {}),
  }))(decodeWith(ApiService, raw));
}

// Observations of the Service source (source `apiserver`), for the service-link environment variables:
// - `ServiceObserved` {service, resourceVersion}: listed or ADDED/MODIFIED, when its cluster IP or
//   ports differ from what this source last reported.
// - `ServiceRemoved` {namespace, name}: deleted (or gone from a relist).
// - `ServicesListed` {count}: the first full list since start-up finished.
export const ServiceObserved = t.type({ service: ServiceLink, resourceVersion: t.string });
export type ServiceObserved = t.TypeOf<typeof ServiceObserved>;
export const ServiceRemoved = t.type({ namespace: t.string, name: t.string });
export type ServiceRemoved = t.TypeOf<typeof ServiceRemoved>;
export const ServicesListed = t.type({ count: t.number });
export type ServicesListed = t.TypeOf<typeof ServicesListed>;

export const serviceKey = (s: { namespace: string; name: string }): string => `${s.namespace}/${s.name}`;

/** Upstream masterServices: always linked, from the default namespace, whatever enableServiceLinks says. */
const MASTER_SERVICES = new Set(['kubernetes']);

const envName = (s: string): string => s.replace(/-/g, '_').toUpperCase();

/** v1helper.IsServiceIPSet: headless ("None") and unallocated services have no variables. */
const hasClusterIP = (s: ServiceLink): boolean => s.clusterIP !== undefined && s.clusterIP !== '' && s.clusterIP !== 'None' && s.ports.length > 0;

function joinHostPort(ip: string, port: number): string {
  return ip.includes(':') ? `[${ip}]:${port}` : `${ip}:${port}`;
}

/** Upstream FromServices: {NAME}_SERVICE_HOST/_PORT[_PORTNAME] and the Docker link variables. */
export function serviceLinkVariables(s: ServiceLink): { name: string; value: string }[] {
  if (!hasClusterIP(s)) return [];
  const ip = s.clusterIP!;
  const prefix = envName(s.name);
  const out = [
    { name: `${prefix}_SERVICE_HOST`, value: ip },
    { name: `${prefix}_SERVICE_PORT`, value: String(s.ports[0].port) },
  ];
  for (const p of s.ports) if (p.name) out.push({ name: `${prefix}_SERVICE_PORT_${envName(p.name)}`, value: String(p.port) });
  s.ports.forEach((p, i) => {
    const proto = (p.protocol || 'TCP');
    const url = `${proto.toLowerCase()}://${joinHostPort(ip, p.port)}`;
    if (i === 0) out.push({ name: `${prefix}_PORT`, value: url });
    const pp = `${prefix}_PORT_${p.port}_${proto.toUpperCase()}`;
    out.push({ name: pp, value: url }, { name: `${pp}_PROTO`, value: proto.toLowerCase() }, { name: `${pp}_PORT`, value: String(p.port) }, { name: `${pp}_ADDR`, value: ip });
  });
  return out;
}

/**
 * Upstream getServiceEnvVarMap: the services of the pod's namespace when enableServiceLinks
 * (default true), and the `kubernetes` service of `default` always (a same-named service of the
 * pod's own namespace wins when links are on). Sorted by name so the decision is reproducible.
 */
export function serviceEnvFor(services: Iterable<ServiceLink>, namespace: string, enableServiceLinks: boolean): { name: string; value: string }[] {
  const chosen = new Map<string, ServiceLink>();
  const all = [...services].filter(hasClusterIP).sort((a, b) => serviceKey(a).localeCompare(serviceKey(b)));
  for (const s of all) if (s.namespace === namespace && enableServiceLinks) chosen.set(s.name, s);
  for (const s of all) if (s.namespace === 'default' && MASTER_SERVICES.has(s.name) && !chosen.has(s.name)) chosen.set(s.name, s);
  const vars = new Map<string, string>();
  for (const s of chosen.values()) for (const v of serviceLinkVariables(s)) vars.set(v.name, v.value);
  return [...vars.keys()].sort().map((name) => ({ name, value: vars.get(name)! }));
}
