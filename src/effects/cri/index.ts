// The runtime effect handlers, keyed by the decision type they carry out.
import type { EffectHandlers } from '../effect.ts';
import { waitBackoff } from '../timers.ts';
import { cleanupPod, killOrphan } from './cleanup.ts';
import { killContainer } from './container-kill.ts';
import { removeImage } from './image-remove.ts';
import { startContainer } from './container-start.ts';
import type { RuntimeEffectDeps } from './deps.ts';
import { runSandbox, stopSandbox } from './sandbox.ts';

export function runtimeEffects(deps: RuntimeEffectDeps): EffectHandlers {
  return {
    PodSandboxRequested: (d) => runSandbox(deps, d),
    PodSandboxKilled: (d) => stopSandbox(deps, d),
    ContainerStartRequested: (d) => startContainer(deps, d),
    ContainerKilled: (d) => killContainer(deps, d),
    PodRuntimeCleanupRequested: (d) => cleanupPod(deps, d),
    OrphanPodKilled: (d) => killOrphan(deps, d),
    ImageRemoveRequested: (d) => removeImage(deps, d),
    RestartBackedOff: (d, ctx) => waitBackoff(deps.clock, d, ctx.signal),
  };
}

export type { RuntimeEffectDeps } from './deps.ts';
