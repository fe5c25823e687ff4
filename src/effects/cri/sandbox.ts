// PodSandboxRequested → RunPodSandbox (idempotent by pod uid + attempt); PodSandboxKilled → StopPodSandbox.
import { isNotFound } from '../../adapters/cri/index.ts';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import type { SandboxPlan } from '../../reducers/pods/plans.ts';
import type { RuntimeEffectDeps } from './deps.ts';
import { sandboxConfig } from './sandbox-config.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export async function runSandbox(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { plan } = d.data as { plan: SandboxPlan };
  try {
    const config = sandboxConfig(plan, await deps.dns());
    // A sandbox for this pod and attempt may already exist if the agent died after asking.
    const existing = (await deps.cri.listPodSandbox({ labelSelector: { 'io.kubernetes.pod.uid': plan.uid } }))
      .filter((s) => s.metadata.attempt === plan.attempt);
    let id = existing.find((s) => s.state === 'SANDBOX_READY')?.id;
    if (!id) {
      for (const s of existing) {
        await deps.cri.stopPodSandbox(s.id).catch(() => undefined);
        await deps.cri.removePodSandbox(s.id).catch(() => undefined);
      }
      await deps.mkdirp(plan.logDirectory);
      id = await deps.cri.runPodSandbox(config);
    }
    const status = await deps.cri.podSandboxStatus(id);
    return [{ type: 'PodSandboxStarted', pod: d.pod, data: { sandboxId: id, attempt: plan.attempt, ip: status.ips[0], ips: status.ips, reused: existing.length > 0 } }];
  } catch (e) {
    return [{ type: 'PodSandboxStartFailed', pod: d.pod, data: { attempt: plan.attempt, error: message(e) } }];
  }
}

export async function stopSandbox(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { sandboxId } = d.data as { sandboxId: string };
  try {
    await deps.cri.stopPodSandbox(sandboxId);
  } catch (e) {
    if (!isNotFound(e)) return [{ type: 'PodSandboxStopFailed', pod: d.pod, data: { sandboxId, error: message(e) } }];
  }
  return [{ type: 'PodSandboxStopped', pod: d.pod, data: { sandboxId } }];
}
