// The agent's own Prometheus metrics (upstream's /metrics on the kubelet API port) under
// upstream's names where one exists, and the prober's counts (/metrics/probes, its own registry
// as upstream). Served by kubelet-server.ts behind authentication and authorization.
import type { Observable, Subscription } from 'rxjs';
import { Counter, Gauge, Registry, collectDefaultMetrics } from 'prom-client';
import type { Entry } from '../model/entry.ts';
import type { PlegStats } from '../streams/pleg.ts';
import type { ProbeCount } from '../streams/prober.ts';
import type { NodeAgentState } from '../reducers/index.ts';
import type { LogWriteStatus } from '../runtime/engine.ts';

export interface AgentMetricsOptions {
  entries$: Observable<Entry>;
  state: () => NodeAgentState;
  pleg: PlegStats;
  effectsPending: () => number;
  logStatus: () => LogWriteStatus;
}

export interface AgentMetrics {
  registry: Registry;
  probes: Registry;
  /** count one probe check (the prober's onResult) */
  countProbe: (r: ProbeCount) => void;
  close(): void;
}

const PROBE_TYPE = { liveness: 'Liveness', readiness: 'Readiness', startup: 'Startup' } as const;

export function agentMetrics(o: AgentMetricsOptions): AgentMetrics {
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

  const probes = new Registry();
  const probeTotal = new Counter({
    name: 'prober_probe_total',
    help: '[ALPHA] Cumulative number of a liveness, readiness or startup probe for a container by result.',
    labelNames: ['probe_type', 'result', 'container', 'pod', 'namespace', 'pod_uid'],
    registers: [probes],
  });
  return {
    registry,
    probes,
    countProbe: (r) => probeTotal.inc({ probe_type: PROBE_TYPE[r.kind], result: r.result, container: r.container, pod: r.pod.name, namespace: r.pod.namespace, pod_uid: r.pod.uid }),
    close: () => sub.unsubscribe(),
  };
}
