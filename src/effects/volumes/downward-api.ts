// downwardAPI volume items rendered from the pod, as upstream (pkg/volume/downwardapi,
// pkg/fieldpath): fieldRef for metadata, resourceFieldRef for a container's requests/limits.
import { containerResourceValue } from '../../model/container-resource.ts';
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

/** Upstream ExtractResourceValueByContainerName: the named container's value (model/container-resource). */
export function resourceValue(plan: VolumePlan, ref: NonNullable<DownwardItem['resourceFieldRef']>, allocatable: Record<string, string> = {}): string {
  if (!ref.containerName) throw new Error(`resourceFieldRef ${ref.resource}: containerName is required in a volume`);
  const c = plan.containers.find((x) => x.name === ref.containerName);
  if (!c) throw new Error(`resourceFieldRef: container ${ref.containerName} not found in the pod`);
  const v = containerResourceValue(c, ref.resource, ref.divisor, allocatable);
  if ('error' in v) throw new Error(`cannot resolve ${ref.resource}: ${v.error}`);
  return v.value;
}

export function renderDownwardItem(plan: VolumePlan, item: DownwardItem, allocatable?: Record<string, string>): string {
  if (item.fieldRef) return fieldValue(plan, item.fieldRef.fieldPath);
  if (item.resourceFieldRef) return resourceValue(plan, item.resourceFieldRef, allocatable);
  throw new Error(`downwardAPI item ${item.path}: neither fieldRef nor resourceFieldRef`);
}
