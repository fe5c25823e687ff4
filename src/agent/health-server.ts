// The kubelet's local health and metrics endpoint (healthzBindAddress:healthzPort, upstream
// 127.0.0.1:10248): /healthz answers ok while the runtime relists and the log accepts entries
// (500 with the reason otherwise);
// /metrics serves Prometheus metrics under upstream's names where one exists.
import { createServer, type Server } from 'node:http';
import type { Observable, Subscription } from 'rxjs';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Entry } from '../model/entry.ts';
import type { PlegStats } from '../streams/pleg.ts';
import type { NodeAgentState } from '../reducers/index.ts';
import type { LogWriteStatus } from '../runtime/engine.ts';

export interface HealthServerOptions {
  host: string;
  port: number;
  entries$: Observable<Entry>;
  state: () => NodeAgentState;
  pleg: PlegStats;
  effectsPending: () => number;
  logStatus: () => LogWriteStatus;
  onError: (err: Error) => void;
}

export function serveHealth(o: HealthServerOptions): { close(): Promise<void> } {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'ledgerlet_' });
  const entries = new Counter({ name: 'ledgerlet_log_entries_total', help: 'Entries appended to the node log, by kind', labelNames: ['kind'], registers: [registry] });
  const decisions = new Counter({ name: 'ledgerlet_decisions_total', help: 'Decisions appended, by type and reason', labelNames: ['type', 'reason'], registers: [registry] });
  new Gauge({ name: 'kubelet_pleg_last_relist_duration_seconds', help: 'Duration of the last PLEG relist', registers: [registry], collect() { this.set((o.pleg.lastRelistDurationMs ?? 0) / 1000); } });
  new Gauge({ name: 'kubelet_pleg_last_seen_seconds', help: 'Unix time of the last successful PLEG relist', registers: [registry], collect() { this.set((o.pleg.lastRelistAt?.getTime() ?? 0) / 1000); } });
  new Gauge({ name: 'kubelet_running_pods', help: 'Pods with a ready sandbox', registers: [registry], collect() {
    this.set(Object.values(o.state().pods.pods).filter((p) => p.sandbox.state === 'ready').length);
  } });
  new Gauge({ name: 'kubelet_running_containers', help: 'Containers running', labelNames: ['container_state'], registers: [registry], collect() {
    let n = 0;
    for (const p of Object.values(o.state().pods.pods)) for (const c of Object.values(p.containers)) if (c.current?.state === 'running') n++;
    this.set({ container_state: 'running' }, n);
  } });
  new Gauge({ name: 'ledgerlet_log_writable', help: '1 while the node log accepts writes, 0 while writes fail', registers: [registry], collect() { this.set(o.logStatus().writable ? 1 : 0); } });
  new Gauge({ name: 'ledgerlet_effects_pending', help: 'Decisions whose effects are queued or running', registers: [registry], collect() { this.set(o.effectsPending()); } });
  const sub: Subscription = o.entries$.subscribe((e) => {
    entries.inc({ kind: e.kind });
    if (e.kind === 'decision') decisions.inc({ type: e.type, reason: e.reason ?? '' });
  });
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') {
      const log = o.logStatus();
      const problem = !log.writable
        ? `node log not writable since ${log.since.toISOString()} (${log.attempts} attempts): ${log.error}`
        : !o.pleg.healthy ? 'pleg is not healthy' : undefined;
      res.writeHead(problem ? 500 : 200, { 'content-type': 'text/plain' }).end(problem ?? 'ok');
    } else if (req.url === '/metrics') {
      registry.metrics().then((text) => res.writeHead(200, { 'content-type': registry.contentType }).end(text), (e: Error) => res.writeHead(500).end(e.message));
    } else res.writeHead(404).end();
  });
  server.on('error', (e) => o.onError(e));
  server.listen(o.port, o.host);
  return {
    close: () => new Promise<void>((r) => {
      sub.unsubscribe();
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}
