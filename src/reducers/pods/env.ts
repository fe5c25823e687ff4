// Environment values the reducer can resolve from the pod itself (fieldRef, resourceFieldRef).
// configMapKeyRef and secretKeyRef are left for the start effect: their values never enter the log.
import type { Container, EnvVar, Pod } from '../../model/pod.ts';
import type { ServiceLink } from '../../model/service.ts';
import { containerResourceValue, type ResourceValue } from '../../model/container-resource.ts';

export interface ResolvedEnv {
  name: string;
  value?: string;
  /** Left for the effect to read from the API server. */
  ref?: { kind: 'configMap' | 'secret'; name: string; key: string; optional: boolean };
  /** Why it could not be resolved (the container fails with CreateContainerConfigError). */
  error?: string;
}

export interface PodFacts {
  podIP?: string;
  podIPs?: string[];
  hostIP?: string;
  nodeName: string;
  /** Node allocatable (cpu, memory...), the value of an unset limit as upstream. */
  allocatable?: Record<string, string>;
  /** Services known to the node, for the service-link variables. */
  services?: Record<string, ServiceLink>;
}

function fieldValue(pod: Pod, path: string, facts: PodFacts): string | undefined {
  const m = pod.metadata;
  const label = /^metadata\.labels\['(.+)'\]$/.exec(path);
  if (label) return m.labels?.[label[1]] ?? '';
  const ann = /^metadata\.annotations\['(.+)'\]$/.exec(path);
  if (ann) return m.annotations?.[ann[1]] ?? '';
  switch (path) {
    case 'metadata.name': return m.name;
    case 'metadata.namespace': return m.namespace ?? 'default';
    case 'metadata.uid': return m.uid ?? '';
    case 'spec.nodeName': return pod.spec.nodeName ?? facts.nodeName;
    case 'spec.serviceAccountName': return pod.spec.serviceAccountName ?? 'default';
    case 'status.hostIP': return facts.hostIP ?? '';
    case 'status.hostIPs': return facts.hostIP ?? '';
    case 'status.podIP': return facts.podIP ?? '';
    case 'status.podIPs': return (facts.podIPs ?? (facts.podIP ? [facts.podIP] : [])).join(',');
    default: return undefined;
  }
}

function resourceValue(pod: Pod, c: Container, ref: { resource: string; containerName?: string; divisor?: string | number }, facts: PodFacts): ResourceValue {
  const target = ref.containerName ? [...pod.spec.containers, ...(pod.spec.initContainers ?? [])].find((x) => x.name === ref.containerName) : c;
  if (!target) return { error: `container ${ref.containerName} not found in the pod` };
  return containerResourceValue(target, ref.resource, ref.divisor, facts.allocatable);
}

export function resolveEnv(pod: Pod, c: Container, facts: PodFacts): ResolvedEnv[] {
  return (c.env ?? []).map((e: EnvVar): ResolvedEnv => {
    if (e.value !== undefined || !e.valueFrom) return { name: e.name, value: e.value ?? '' };
    const vf = e.valueFrom;
    if (vf.fieldRef) {
      const v = fieldValue(pod, vf.fieldRef.fieldPath, facts);
      return v === undefined ? { name: e.name, error: `unsupported fieldPath ${vf.fieldRef.fieldPath}` } : { name: e.name, value: v };
    }
    if (vf.resourceFieldRef) {
      const v = resourceValue(pod, c, vf.resourceFieldRef, facts);
      return 'error' in v ? { name: e.name, error: `cannot resolve resource ${vf.resourceFieldRef.resource}: ${v.error}` } : { name: e.name, value: v.value };
    }
    if (vf.configMapKeyRef) return { name: e.name, ref: { kind: 'configMap', name: vf.configMapKeyRef.name ?? '', key: vf.configMapKeyRef.key, optional: vf.configMapKeyRef.optional ?? false } };
    if (vf.secretKeyRef) return { name: e.name, ref: { kind: 'secret', name: vf.secretKeyRef.name ?? '', key: vf.secretKeyRef.key, optional: vf.secretKeyRef.optional ?? false } };
    return { name: e.name, value: '' };
  });
}
