// downwardAPI volume items rendered from the pod, as upstream (pkg/volume/downwardapi,
// pkg/fieldpath): fieldRef for metadata, resourceFieldRef for a container's requests/limits.
import { parseQuantity } from '../../model/quantity.ts';
import type { VolumePlan } from '../../model/volume-plan.ts';

export interface DownwardItem {
  path: string;
  fieldRef?: { fieldPath: string; apiVersion?: string };
  resourceFieldRef?: { containerName?: string; resource: string; divisor?: string | number };
  mode?: number;
}

/** Upstream's FormatMap: sorted `key="value"` lines, no trailing newline. */
export function formatMap(m: Record<string, string>): string {
  return Object.keys(m).sort().map((k) => `${k}=${JSON.stringify(m[k])}`).join('\n');
}

export function fieldValue(plan: VolumePlan, fieldPath: string): string {
  const label = /^metadata\.labels\['(.+)'\]$/.exec(fieldPath);
  if (label) return plan.labels[label[1]] ?? '';
  const ann = /^metadata\.annotations\['(.+)'\]$/.exec(fieldPath);
  if (ann) return plan.annotations[ann[1]] ?? '';
  switch (fieldPath) {
    case 'metadata.name': return plan.podName;
    case 'metadata.namespace': return plan.namespace;
    case 'metadata.uid': return plan.podUid;
    case 'metadata.labels': return formatMap(plan.labels);
    case 'metadata.annotations': return formatMap(plan.annotations);
    default: throw new Error(`unsupported fieldPath: ${fieldPath}`);
  }
}

/**
 * Upstream ExtractResourceValueByContainerName: cpu rounds up to whole divisor units of milliCPU,
 * memory and ephemeral-storage to whole divisor units; an unset limit reads as the node's
 * allocatable, an unset request as 0 (cpu requests default to the limit as the API server does).
 */
export function resourceValue(plan: VolumePlan, ref: NonNullable<DownwardItem['resourceFieldRef']>, allocatable: Record<string, string> = {}): string {
  if (!ref.containerName) throw new Error(`resourceFieldRef ${ref.resource}: containerName is required in a volume`);
  const c = plan.containers.find((x) => x.name === ref.containerName);
  if (!c) throw new Error(`resourceFieldRef: container ${ref.containerName} not found in the pod`);
  const [kind, res] = ref.resource.split('.') as [string, string];
  if ((kind !== 'limits' && kind !== 'requests') || !res) throw new Error(`unsupported container resource: ${ref.resource}`);
  const limits = c.resources?.limits ?? {};
  const requests = c.resources?.requests ?? {};
  const raw = kind === 'limits' ? (limits[res] ?? allocatable[res]) : (requests[res] ?? limits[res] ?? '0');
  if (raw === undefined) throw new Error(`cannot resolve ${ref.resource}: no limit and no node allocatable ${res}`);
  const v = parseQuantity(String(raw));
  const divisor = parseQuantity(String(ref.divisor ?? '1'));
  if (v === undefined || divisor === undefined || divisor === 0) throw new Error(`invalid quantity for ${ref.resource}`);
  // Integer arithmetic in milli-units avoids 0.1 + 0.2 style surprises.
  const mv = Math.round(v * 1000);
  const md = Math.round(divisor * 1000);
  return String(Math.ceil(mv / md));
}

export function renderDownwardItem(plan: VolumePlan, item: DownwardItem, allocatable?: Record<string, string>): string {
  if (item.fieldRef) return fieldValue(plan, item.fieldRef.fieldPath);
  if (item.resourceFieldRef) return resourceValue(plan, item.resourceFieldRef, allocatable);
  throw new Error(`downwardAPI item ${item.path}: neither fieldRef nor resourceFieldRef`);
}
