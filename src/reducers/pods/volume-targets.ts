// Which set-up volumes the refresh source keeps current: configMap, secret, downwardAPI and
// projected volumes of pods whose volumes are ready and that are not terminating. Pure.
import type { PodRef } from '../../model/entry.ts';
import type { VolumePlan } from '../../model/volume-plan.ts';
import { volumePlan } from './plans.ts';
import type { PodsState } from './state.ts';

export const REFRESHED_KINDS = ['configMap', 'secret', 'downwardAPI', 'projected'] as const;
export type RefreshedKind = (typeof REFRESHED_KINDS)[number];

export interface VolumeRefreshTarget {
  pod: PodRef;
  plan: VolumePlan;
  volumes: { name: string; kind: RefreshedKind; hostPath: string }[];
}

function kindOf(v: Record<string, unknown>): RefreshedKind | undefined {
  return REFRESHED_KINDS.find((k) => v[k] !== undefined && v[k] !== null);
}

export function volumeRefreshTargets(s: PodsState): VolumeRefreshTarget[] {
  const out: VolumeRefreshTarget[] = [];
  for (const uid of Object.keys(s.pods).sort()) {
    const rec = s.pods[uid];
    if (rec.terminating || rec.volumes.state !== 'ready' || !rec.volumes.mounts) continue;
    const volumes: VolumeRefreshTarget['volumes'] = [];
    for (const v of rec.pod.spec.volumes ?? []) {
      const kind = kindOf(v as Record<string, unknown>);
      const m = rec.volumes.mounts[v.name];
      if (kind && m) volumes.push({ name: v.name, kind, hostPath: m.hostPath });
    }
    if (volumes.length) out.push({ pod: rec.ref, plan: volumePlan(rec.pod, s.nodeName), volumes });
  }
  return out;
}
