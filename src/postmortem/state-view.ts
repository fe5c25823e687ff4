// The node's state at a moment, as an operator reads it: node conditions, and per pod its phase,
// sandbox, volumes and containers with their states, restart counts and probe results. Built
// from the folded state; `replay` prints it and `diff` compares two of them.
import type { NodeAgentState } from '../reducers/index.ts';
import type { ContainerRecord, PodRecord } from '../reducers/pods/state.ts';
import { podStatus } from '../reducers/pods/status.ts';

export interface ContainerView {
  name: string;
  kind: string;
  state: string;
  restartCount: number;
  attempt?: number;
  containerId?: string;
  startedAt?: string;
  finishedAt?: string;
  exitCode?: number;
  reason?: string;
  waiting?: string;
  lastExit?: string;
  probes?: Record<string, string>;
  /** A decision in flight: "start #47" */
  pending?: string;
}

export interface PodView {
  uid: string;
  namespace: string;
  name: string;
  origin: string;
  phase: string;
  ready: string;
  terminating?: string;
  sandbox: string;
  volumes: string[];
  containers: ContainerView[];
}

export interface NodeView {
  seq: number;
  at?: string;
  node: { name: string; registered: boolean; conditions: Record<string, string>; runtimeReachable: boolean; apiReachable: boolean };
  pods: PodView[];
}

type Any = Record<string, any>;

function containerView(c: ContainerRecord): ContainerView {
  const cur = c.current;
  const v: ContainerView = { name: c.name, kind: c.kind, state: cur ? cur.state : 'not started', restartCount: c.restartCount };
  if (cur) {
    v.attempt = cur.attempt;
    v.containerId = cur.id.slice(0, 12);
    if (cur.startedAt) v.startedAt = cur.startedAt;
    if (cur.finishedAt) v.finishedAt = cur.finishedAt;
    if (cur.exitCode !== undefined) v.exitCode = cur.exitCode;
    if (cur.reason) v.reason = cur.reason;
  }
  if (c.waiting) v.waiting = c.waiting.reason;
  if (c.last?.exitCode !== undefined) v.lastExit = `${c.last.exitCode}${c.last.reason ? ` (${c.last.reason})` : ''}`;
  const probes = (c as Any).probes as Any | undefined;
  if (probes && probes.containerId === cur?.id) {
    const p: Record<string, string> = {};
    for (const k of ['startup', 'liveness', 'readiness']) {
      const fails = (probes.failures?.[k] ?? []) as number[];
      if (probes[k] || fails.length) p[k] = `${probes[k] ?? 'unknown'}${fails.length ? ` (${fails.length} failures: ${fails.map((s) => `#${s}`).join(' ')})` : ''}`;
    }
    if (Object.keys(p).length) v.probes = p;
  }
  if (c.pending) v.pending = `${c.pending.action} #${c.pending.seq}`;
  return v;
}

function volumeKinds(rec: PodRecord): string[] {
  return (rec.pod.spec.volumes ?? []).map((v) => {
    const kind = Object.keys(v).find((k) => k !== 'name') ?? 'unknown';
    return `${v.name} (${kind})`;
  });
}

function podView(rec: PodRecord, at: string | undefined, hostIP: string | undefined): PodView {
  let phase = rec.lastStatus?.phase ?? 'Pending';
  let ready = rec.lastStatus?.conditions.find((c) => c.type === 'Ready')?.status ?? 'False';
  try {
    // The status the node would report at that moment (a pure function of the record).
    const st = podStatus(rec, at ?? rec.firstSeenAt, hostIP);
    phase = st.phase;
    ready = st.conditions.find((c) => c.type === 'Ready')?.status ?? ready;
  } catch {
    // A record from an older reducer shape: the last reported status stands.
  }
  const sb = rec.sandbox;
  const vols = (rec as Any).volumes as Any | undefined;
  const volumes = volumeKinds(rec);
  if (vols && volumes.length) volumes.push(`state: ${vols.state}${vols.lastError ? `, last error on ${vols.lastError.volume}: ${vols.lastError.message}` : ''}`);
  const containers = Object.values(rec.containers).map(containerView);
  return {
    uid: rec.ref.uid,
    namespace: rec.ref.namespace,
    name: rec.ref.name,
    origin: rec.origin,
    phase,
    ready,
    ...(rec.terminating ? { terminating: `since ${rec.terminating.since} (${rec.terminating.reason}, grace ${rec.terminating.gracePeriodSeconds}s)` } : {}),
    sandbox: `${sb.state}${sb.ip ? ` ${sb.ip}` : ''}${sb.id ? ` ${sb.id.slice(0, 12)}` : ''} (attempt ${sb.attempt})${sb.pending ? `, ${sb.pending.action} #${sb.pending.seq} pending` : ''}`,
    volumes,
    containers,
  };
}

export function nodeView(state: NodeAgentState, seq: number, at?: string): NodeView {
  const n = state.node;
  const pods = Object.values(state.pods.pods)
    .map((rec) => podView(rec, at, state.pods.hostIP))
    .sort((a, b) => `${a.namespace}/${a.name}/${a.uid}`.localeCompare(`${b.namespace}/${b.name}/${b.uid}`));
  return {
    seq,
    ...(at ? { at } : {}),
    node: {
      name: n.nodeName,
      registered: n.registered,
      conditions: Object.fromEntries(n.conditions.map((c) => [c.type, `${c.status} (${c.reason})`])),
      runtimeReachable: n.runtimeReachable,
      apiReachable: n.apiReachable,
    },
    pods,
  };
}

export function renderNodeView(v: NodeView, podFilter?: (p: PodView) => boolean): string[] {
  const lines = [`node ${v.node.name || '(not configured yet)'} after #${v.seq}${v.at ? ` (${v.at})` : ''}`];
  const conds = Object.entries(v.node.conditions);
  lines.push(`  conditions: ${conds.length ? conds.map(([k, s]) => `${k}=${s}`).join(', ') : 'none reported yet'}`);
  lines.push(`  registered: ${v.node.registered ? 'yes' : 'no'}, runtime ${v.node.runtimeReachable ? 'reachable' : 'unreachable'}, API server ${v.node.apiReachable ? 'reachable' : 'unreachable'}`);
  const pods = podFilter ? v.pods.filter(podFilter) : v.pods;
  lines.push(`pods: ${pods.length}`);
  for (const p of pods) {
    lines.push(`  ${p.namespace}/${p.name} (uid ${p.uid}, ${p.origin}): ${p.phase}, Ready=${p.ready}${p.terminating ? `, terminating ${p.terminating}` : ''}`);
    lines.push(`    sandbox: ${p.sandbox}`);
    lines.push(`    volumes: ${p.volumes.length ? p.volumes.join(', ') : 'none'}`);
    for (const c of p.containers) {
      const bits = [`${c.state}${c.attempt !== undefined ? ` (attempt ${c.attempt}, ${c.containerId})` : ''}`, `restarts ${c.restartCount}`];
      if (c.exitCode !== undefined) bits.push(`exit code ${c.exitCode}${c.reason ? ` (${c.reason})` : ''}`);
      if (c.waiting) bits.push(`waiting: ${c.waiting}`);
      if (c.lastExit) bits.push(`last exit ${c.lastExit}`);
      if (c.pending) bits.push(`pending ${c.pending}`);
      lines.push(`    container ${c.name} [${c.kind}]: ${bits.join(', ')}`);
      for (const [k, r] of Object.entries(c.probes ?? {})) lines.push(`      ${k} probe: ${r}`);
    }
  }
  return lines;
}
