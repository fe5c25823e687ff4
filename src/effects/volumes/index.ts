// The volume manager's effects: PodVolumesSetUpRequested and PodVolumesTearDownRequested
// (contract: src/model/volume-plan.ts). Outcomes carry names, paths, resource versions and
// sha256 content hashes; never the contents of a secret, configMap or token.
import type { EffectHandlers } from '../effect.ts';
import type { VolumeEffectDeps } from './deps.ts';
import { setUpVolumes } from './setup.ts';
import { tearDownVolumes } from './teardown.ts';

export function volumeEffects(deps: VolumeEffectDeps): EffectHandlers {
  return {
    PodVolumesSetUpRequested: (d) => setUpVolumes(deps, d),
    PodVolumesTearDownRequested: (d) => tearDownVolumes(deps, d),
  };
}

export type { CsiDriverLookup, RegisteredCsiDriver, VolumeEffectDeps } from './deps.ts';
export { buildPayload, writeVolume } from './setup.ts';
