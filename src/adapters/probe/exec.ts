// exec probes through CRI ExecSync, as upstream's pkg/probe/exec: exit code 0 is success; any
// other exit code is a failure whose detail is the command's output; a command that outlives
// timeoutSeconds is a failure ("command ... timed out", upstream's ExecProbeTimeout behaviour).
// Any other runtime error (the container is gone or not running) rejects: a prober error.
import type { CriClient } from '../cri/index.ts';
import { GrpcAdapterError } from '../cri/errors.ts';
import type { ProbeHandler } from './types.ts';

/** Output kept in the detail (upstream reads at most 10 KiB; the log keeps the first 1 KiB). */
export const MAX_DETAIL = 1024;

export function clip(s: string, max = MAX_DETAIL): string {
  const t = s.trim();
  return t.length > max ? `${t.slice(0, max)}…` : t;
}

export function execProbe(cri: Pick<CriClient, 'execSync'>): ProbeHandler {
  return async ({ probe, target, timeoutSeconds }) => {
    const cmd = probe.exec?.command ?? [];
    try {
      const r = await cri.execSync(target.containerId, cmd, timeoutSeconds);
      if (r.exitCode === 0) return { result: 'success', detail: '' };
      // upstream reports the combined output
      const out = clip(`${r.stdout ?? ''}${r.stderr ?? ''}`);
      return { result: 'failure', detail: out || `command ${JSON.stringify(cmd.join(' '))} exited with code ${r.exitCode}` };
    } catch (e) {
      if (e instanceof GrpcAdapterError && e.isDeadlineExceeded()) {
        return { result: 'failure', detail: `command ${JSON.stringify(cmd.join(' '))} timed out` };
      }
      throw e;
    }
  };
}
