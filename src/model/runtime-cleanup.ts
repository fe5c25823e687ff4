// Payloads of the clean-up outcomes (PodRuntimeCleanedUp / PodRuntimeCleanupFailed, OrphanRemoved /
// OrphanRemoveFailed): a failed clean-up names every runtime object still there and why, so the
// reducer retries it later instead of believing it gone.
import * as t from 'io-ts';

export const RuntimeObjectNotRemoved = t.type({ kind: t.keyof({ container: null, sandbox: null }), id: t.string, error: t.string });
export type RuntimeObjectNotRemoved = t.TypeOf<typeof RuntimeObjectNotRemoved>;

export const RuntimeCleanupFailed = t.intersection([
  t.type({ podUid: t.string, error: t.string }),
  t.partial({ notRemoved: t.array(RuntimeObjectNotRemoved) }),
]);
export type RuntimeCleanupFailed = t.TypeOf<typeof RuntimeCleanupFailed>;
