// A container's resource as the downward API shows it (env resourceFieldRef and downwardAPI
// volume items), as upstream's ExtractContainerResourceValue (pkg/api/v1/resource) after the
// kubelet's defaultPodLimitsForDownwardAPI: one place for both consumers.
import { parseQuantity } from './quantity.ts';

export interface ResourceHolder {
  resources?: { limits?: Record<string, string | number>; requests?: Record<string, string | number> };
}

export type ResourceValue = { value: string } | { error: string };

/** Limits the kubelet fills from node allocatable when a container sets none (or sets 0). */
const DEFAULTED_LIMITS = ['cpu', 'memory', 'ephemeral-storage'];
const PLAIN = ['cpu', 'memory', 'ephemeral-storage'];

function quantity(raw: string | number | undefined): number | undefined {
  return raw === undefined ? undefined : parseQuantity(String(raw));
}

/**
 * The value of `resource` (`limits.cpu`, `requests.memory`, `limits.hugepages-2Mi`...) in whole
 * units of `divisor`, rounded up. An unset or zero divisor means 1: the API server defaults an
 * unset divisor to "0". An unset cpu/memory/ephemeral-storage limit reads as the node's
 * allocatable; anything else unset reads as 0, as upstream.
 */
export function containerResourceValue(
  c: ResourceHolder, resource: string, divisorRaw: string | number | undefined, allocatable: Record<string, string> | undefined,
): ResourceValue {
  const dot = resource.indexOf('.');
  const kind = resource.slice(0, dot);
  const name = resource.slice(dot + 1);
  if (dot < 0 || (kind !== 'limits' && kind !== 'requests') || !(PLAIN.includes(name) || name.startsWith('hugepages-'))) {
    return { error: `unsupported container resource: ${resource}` };
  }
  const parsedDivisor = quantity(divisorRaw ?? 0);
  if (parsedDivisor === undefined || parsedDivisor < 0) return { error: `invalid divisor ${JSON.stringify(divisorRaw)} for ${resource}` };
  const divisor = parsedDivisor === 0 ? 1 : parsedDivisor;

  const own = kind === 'limits' ? c.resources?.limits?.[name] : c.resources?.requests?.[name];
  let raw: string | number | undefined = own;
  if (kind === 'limits' && DEFAULTED_LIMITS.includes(name) && (own === undefined || quantity(own) === 0)) raw = allocatable?.[name] ?? own;
  // Unset requests default to the limits the pod set (API server defaulting, also for static pods).
  if (kind === 'requests' && raw === undefined) raw = c.resources?.limits?.[name];
  const v = quantity(raw ?? 0);
  if (v === undefined) return { error: `invalid quantity ${JSON.stringify(raw)} for ${resource}` };

  // Upstream: cpu compares MilliValue()s, the others Value()s; each rounds up to an integer.
  const scale = name === 'cpu' ? 1000 : 1;
  const num = Math.ceil(roundTiny(v * scale));
  const den = Math.ceil(roundTiny(divisor * scale));
  if (den === 0) return { error: `invalid divisor ${JSON.stringify(divisorRaw)} for ${resource}` };
  return { value: String(Math.ceil(num / den)) };
}

/** 0.1 * 1000 is 100.00000000000001 in floating point: drop such noise before rounding up. */
function roundTiny(x: number): number {
  const r = Math.round(x);
  return Math.abs(x - r) < 1e-6 ? r : x;
}
