// Kubernetes Events are a projection of the log: each interesting decision or outcome maps to the
// event upstream's kubelet would record, so `kubectl describe pod` reads as operators expect.
import type { Entry } from '../model/entry.ts';

export interface PodEvent {
  type: 'Normal' | 'Warning';
  reason: string;
  message: string;
  /** Container the event is about (for involvedObject.fieldPath). */
  container?: string;
  initContainer?: boolean;
}

/** Every event an entry stands for, in the order upstream records them. */
export function eventsFor(e: Entry): PodEvent[] {
  const d = e.data as Record<string, any>;
  if (e.type === 'ContainerStarted') {
    const image = d.image as string;
    return [
      d.pulled
        ? { type: 'Normal', reason: 'Pulled', message: `Successfully pulled image "${image}"`, container: d.name }
        : { type: 'Normal', reason: 'Pulled', message: `Container image "${image}" already present on machine`, container: d.name },
      { type: 'Normal', reason: 'Created', message: `Created container ${d.name}`, container: d.name },
      { type: 'Normal', reason: 'Started', message: `Started container ${d.name}`, container: d.name },
    ];
  }
  const one = eventFor(e);
  return one ? [one] : [];
}

export function eventFor(e: Entry): PodEvent | undefined {
  const d = e.data as Record<string, any>;
  switch (e.type) {
    case 'ContainerStartRequested': {
      const plan = d.plan as { name: string; image: string; pullPolicy: string; kind: string };
      if (plan.pullPolicy !== 'Always') return undefined;
      return { type: 'Normal', reason: 'Pulling', message: `Pulling image "${plan.image}"`, container: plan.name, initContainer: plan.kind !== 'app' };
    }
    case 'ContainerStarted':
      return { type: 'Normal', reason: 'Started', message: `Started container ${d.name}`, container: d.name };
    case 'ContainerStartFailed':
      if (d.stage === 'pull') return { type: 'Warning', reason: 'Failed', message: `Failed to pull image: ${d.message}; Error: ${d.reason}`, container: d.name };
      return { type: 'Warning', reason: 'Failed', message: `Error: ${d.message}`, container: d.name };
    case 'RestartBackedOff':
      if (d.which === 'pull') return { type: 'Normal', reason: 'BackOff', message: d.message ?? 'Back-off pulling image', container: d.name };
      if (d.which === 'crash') return { type: 'Warning', reason: 'BackOff', message: `Back-off restarting failed container ${d.name} in pod ${e.pod?.name}_${e.pod?.namespace}(${e.pod?.uid})`, container: d.name };
      return undefined;
    case 'ContainerKilled':
      return { type: 'Normal', reason: 'Killing', message: `Stopping container ${d.name}${e.reason && e.reason !== 'PodDeleted' ? ` (${e.reason})` : ''}`, container: d.name };
    case 'ContainerStopped':
      if (d.preStop && !d.preStop.ok) return { type: 'Warning', reason: 'FailedPreStopHook', message: `PreStopHook failed: ${d.preStop.detail ?? ''}`, container: d.name };
      return undefined;
    case 'PostStartHookFailed':
      return { type: 'Warning', reason: 'FailedPostStartHook', message: `PostStartHook failed: ${d.detail}`, container: d.name };
    case 'ProbeFailed': {
      // upstream's prober: Warning Unhealthy "<Kind> probe failed: <output>" (the recorder rate-limits)
      const kind = String(d.probe ?? '');
      return { type: 'Warning', reason: 'Unhealthy', message: `${kind.charAt(0).toUpperCase()}${kind.slice(1)} probe failed: ${d.detail ?? ''}`, container: d.container };
    }
    case 'PodEvicted':
      return { type: 'Warning', reason: 'Evicted', message: String(d.message ?? '') };
    case 'PodActiveDeadlineExceeded':
      // upstream's activeDeadlineHandler records a Normal event with its reason and message
      return { type: 'Normal', reason: 'DeadlineExceeded', message: String(d.message ?? '') };
    case 'PodSandboxRequested':
      return e.reason === 'SandboxChanged' ? { type: 'Normal', reason: 'SandboxChanged', message: 'Pod sandbox changed, it will be killed and re-created.' } : undefined;
    case 'PodVolumesSetUpFailed':
      return { type: 'Warning', reason: 'FailedMount', message: `MountVolume.SetUp failed for volume "${d.volume}" : ${d.message}` };
    case 'PodSandboxStartFailed':
      return { type: 'Warning', reason: 'FailedCreatePodSandBox', message: `Failed to create pod sandbox: ${d.error}` };
    default:
      return undefined;
  }
}
