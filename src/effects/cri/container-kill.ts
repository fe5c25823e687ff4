// ContainerKilled → preStop hook within the grace period, then StopContainer (SIGTERM, and SIGKILL
// when the rest of the grace period runs out). "Already gone" counts as stopped.
import { isNotFound } from '../../adapters/cri/index.ts';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import type { LifecycleHandler } from '../../model/pod.ts';
import { hookWithHeaders } from '../../runtime/withheld-headers.ts';
import { runHook, type HookResult } from '../hooks.ts';
import type { RuntimeEffectDeps } from './deps.ts';

/** Upstream never gives a container less than this to stop after its preStop hook. */
const MIN_STOP_SECONDS = 2;

export async function killContainer(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { name, containerId, gracePeriodSeconds, preStop, podIP } = d.data as {
    name: string; containerId?: string; gracePeriodSeconds: number; preStop?: LifecycleHandler; podIP?: string;
  };
  if (!containerId) return [{ type: 'ContainerStopped', pod: d.pod, data: { name, containerId: '' } }];
  const started = deps.clock.now().getTime();
  let hook: HookResult | undefined;
  if (preStop && gracePeriodSeconds > 0) {
    hook = await runHook(d.pod ? hookWithHeaders(preStop, d.pod.uid, name, 'preStop') : preStop, { cri: deps.cri, containerId, podIP, timeoutSeconds: gracePeriodSeconds, sleep: (ms) => deps.clock.sleep(ms) });
  }
  const spent = (deps.clock.now().getTime() - started) / 1000;
  const timeout = gracePeriodSeconds <= 0 ? 0 : Math.max(MIN_STOP_SECONDS, Math.ceil(gracePeriodSeconds - spent));
  try {
    await deps.cri.stopContainer(containerId, timeout);
  } catch (e) {
    if (!isNotFound(e)) return [{ type: 'ContainerStopFailed', pod: d.pod, data: { name, containerId, error: (e as Error).message } }];
  }
  const status = await deps.cri.containerStatus(containerId).catch(() => undefined);
  return [{
    type: 'ContainerStopped',
    pod: d.pod,
    data: {
      name,
      containerId,
      exitCode: status?.exitCode,
      finishedAt: status?.finishedAt,
      reason: status?.reason || undefined,
      stopTimeoutSeconds: timeout,
      ...(hook ? { preStop: { ok: hook.ok, handler: hook.handler, ...(hook.detail ? { detail: hook.detail } : {}) } } : {}),
    },
  }];
}
