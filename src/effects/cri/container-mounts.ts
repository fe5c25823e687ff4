// The mounts handed to the runtime for one container: a whole volume as it is, a subPath or
// subPathExpr checked and expanded as upstream (src/model/subpath.ts) and then bind-mounted from
// inside its volume (src/effects/volumes/subpaths.ts). Upstream's order: mount by mount, the first
// bad one fails the container with CreateContainerConfigError.
import type { ContainerPlan } from '../../reducers/pods/plans.ts';
import { effectiveSubPath, secretDerivedNames } from '../../model/subpath.ts';
import { prepareSubPath, SubPathError } from '../volumes/subpaths.ts';

export interface RuntimeMount {
  containerPath: string;
  hostPath: string;
  readonly: boolean;
}

export async function containerMounts(plan: ContainerPlan, podUid: string, rootDir: string, vars: ReadonlyMap<string, string>): Promise<RuntimeMount[]> {
  const sensitive = secretDerivedNames(plan.env, plan.envFrom);
  const out: RuntimeMount[] = [];
  for (const m of plan.mounts) {
    if (!m.subPath && !m.subPathExpr) {
      out.push({ containerPath: m.containerPath, hostPath: m.hostPath, readonly: m.readOnly });
      continue;
    }
    const sub = effectiveSubPath(m, vars, sensitive);
    if (!sub.ok) throw new SubPathError(sub.message, sub.message);
    // An expression that expands to nothing mounts the whole volume, as upstream.
    const hostPath = sub.subPath === '' ? m.hostPath : await prepareSubPath({
      rootDir, podUid, container: plan.name, volume: m.volume ?? '', index: m.index ?? 0, volumePath: m.hostPath, subPath: sub.subPath,
    }).catch((e: unknown) => {
      // The detail names the path's components: not when a secret's value made them.
      if (e instanceof SubPathError && sub.shown !== sub.subPath) throw new SubPathError(e.message, `subPathExpr "${sub.shown}" (expanded from a secret: details withheld)`);
      throw e;
    });
    out.push({ containerPath: m.containerPath, hostPath, readonly: m.readOnly });
  }
  return out;
}
