// Lifecycle hook handlers (postStart, preStop): exec through CRI ExecSync, httpGet to the pod,
// sleep. The prober has its own handlers with upstream's probe semantics (redirect rules, user
// agent, timeouts counted as failures...): src/adapters/probe/.
import type { CriClient } from '../adapters/cri/index.ts';
import type { LifecycleHandler } from '../model/pod.ts';

export interface HookResult {
  ok: boolean;
  handler: 'exec' | 'httpGet' | 'sleep' | 'tcpSocket' | 'none';
  detail?: string;
}

export interface HookContext {
  cri: CriClient;
  containerId: string;
  podIP?: string;
  /** Named container ports, to resolve httpGet.port given by name. */
  ports?: { name?: string; containerPort: number }[];
  timeoutSeconds: number;
  sleep: (ms: number) => Promise<void>;
}

export function resolvePort(port: string | number, ports: HookContext['ports'] = []): number | undefined {
  if (typeof port === 'number') return port;
  if (/^\d+$/.test(port)) return parseInt(port, 10);
  return ports.find((p) => p.name === port)?.containerPort;
}

export async function runHook(h: LifecycleHandler, ctx: HookContext): Promise<HookResult> {
  try {
    if (h.exec) {
      const r = await ctx.cri.execSync(ctx.containerId, h.exec.command ?? [], ctx.timeoutSeconds);
      return r.exitCode === 0
        ? { ok: true, handler: 'exec' }
        : { ok: false, handler: 'exec', detail: `command exited with ${r.exitCode}: ${(r.stderr || r.stdout).slice(0, 200)}` };
    }
    if (h.httpGet) {
      const port = resolvePort(h.httpGet.port, ctx.ports);
      if (port === undefined) return { ok: false, handler: 'httpGet', detail: `no container port named ${h.httpGet.port}` };
      const host = h.httpGet.host || ctx.podIP;
      if (!host) return { ok: false, handler: 'httpGet', detail: 'pod has no IP' };
      const url = `${(h.httpGet.scheme ?? 'HTTP').toLowerCase()}://${host}:${port}${h.httpGet.path ?? '/'}`;
      const headers = Object.fromEntries((h.httpGet.httpHeaders ?? []).map((x) => [x.name, x.value]));
      const res = await fetch(url, { headers, signal: AbortSignal.timeout(ctx.timeoutSeconds * 1000) });
      await res.body?.cancel();
      return res.status >= 200 && res.status < 400 ? { ok: true, handler: 'httpGet' } : { ok: false, handler: 'httpGet', detail: `GET ${url}: HTTP ${res.status}` };
    }
    if (h.sleep) {
      await ctx.sleep(h.sleep.seconds * 1000);
      return { ok: true, handler: 'sleep' };
    }
    if (h.tcpSocket) return { ok: true, handler: 'tcpSocket', detail: 'tcpSocket hooks are accepted and ignored, as upstream' };
    return { ok: true, handler: 'none' };
  } catch (e) {
    return { ok: false, handler: h.exec ? 'exec' : h.httpGet ? 'httpGet' : 'sleep', detail: (e as Error).message };
  }
}
