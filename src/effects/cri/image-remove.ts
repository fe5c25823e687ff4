// Carries out an ImageRemoveRequested decision through CRI RemoveImage. An image already gone
// counts as removed (RemoveImage is idempotent upstream too); a failure is an outcome the reducer
// answers at the next observation.
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import { ImageRemoveRequested } from '../../model/image-gc.ts';
import type { RuntimeEffectDeps } from './deps.ts';

export async function removeImage(deps: Pick<RuntimeEffectDeps, 'cri'>, d: Entry): Promise<OutcomeDraft[]> {
  if (!ImageRemoveRequested.is(d.data)) return [{ type: 'ImageRemoveFailed', data: { id: '', error: 'not an image removal' } }];
  const { id } = d.data.image;
  try {
    await deps.cri.removeImage({ image: id });
    return [{ type: 'ImageRemoved', data: { id } }];
  } catch (e) {
    return [{ type: 'ImageRemoveFailed', data: { id, error: e instanceof Error ? e.message : String(e) } }];
  }
}
