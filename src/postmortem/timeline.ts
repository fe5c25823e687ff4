// The timeline the HTML export draws: per pod a lane for the pod itself (sandbox, deletion) and one
// per container, each a run of state segments, plus markers for decisions (with their explanation)
// and probe results. Built from entries and `why` explanations only.
import type { Entry } from '../model/entry.ts';
import { containerOf, describe } from './describe.ts';
import type { Explanation } from './why.ts';
import { renderExplanation } from './why.ts';

export type LaneState = 'starting' | 'running' | 'exited' | 'failed' | 'backoff' | 'stopping' | 'gone';

export interface Segment { from: string; to: string; state: LaneState; label: string }
export interface Marker { at: string; seq: number; kind: 'decision' | 'probe' | 'outcome'; title: string; detail: string[] }
export interface Lane { id: string; pod: string; container?: string; segments: Segment[]; markers: Marker[] }
export interface Timeline { from: string; to: string; lanes: Lane[] }

type D = Record<string, any>;

/** The state a container lane enters with an entry, if the entry changes it. */
function nextState(e: Entry): { state: LaneState; label: string } | undefined {
  const d = (e.data ?? {}) as D;
  switch (e.type) {
    case 'ContainerStartRequested': return { state: 'starting', label: 'starting' };
    case 'ContainerStarted': return { state: 'running', label: `running (attempt ${d.attempt})` };
    case 'ContainerStartFailed': return { state: 'failed', label: `failed to start: ${d.reason ?? ''}` };
    case 'ContainerStateChanged':
      if (d.container?.state === 'exited') return { state: 'exited', label: `exited ${d.container.exitCode ?? '?'}` };
      return undefined;
    case 'RestartBackedOff': return d.which === 'crash' || d.which === 'pull' ? { state: 'backoff', label: d.waitingReason ?? 'back-off' } : undefined;
    case 'ContainerKilled': return { state: 'stopping', label: `stopping (${e.reason})` };
    case 'ContainerStopped': return { state: 'exited', label: `stopped ${d.exitCode ?? ''}`.trim() };
    case 'ContainerRemovedFromRuntime': return { state: 'gone', label: 'removed' };
    default: return undefined;
  }
}

/** The runtime container an exit report is about. */
function exitedId(e: Entry): string | undefined {
  const d = (e.data ?? {}) as D;
  if (e.type === 'ContainerStateChanged') return d.container?.id;
  if (e.type === 'ContainerStopped') return d.containerId || undefined;
  return undefined;
}

export function buildTimeline(entries: Entry[], explanations: Explanation[]): Timeline {
  const lanes = new Map<string, Lane & { open?: Segment; currentId?: string; first: number }>();
  const lane = (e: Entry, container?: string) => {
    // The short uid tells apart pods of the same name over time (deleted and recreated).
    const pod = e.pod ? `${e.pod.namespace}/${e.pod.name} [${e.pod.uid.slice(0, 8)}]` : 'node';
    const id = `${e.pod?.uid ?? 'node'}/${container ?? ''}`;
    let l = lanes.get(id);
    if (!l) lanes.set(id, (l = { id, pod, ...(container ? { container } : {}), segments: [], markers: [], first: e.seq }));
    return l;
  };
  const byDecision = new Map(explanations.map((x) => [x.seq, x]));
  for (const e of entries) {
    const container = containerOf(e);
    const l = lane(e, container);
    let change = container ? nextState(e) : undefined;
    // A late report about an instance already replaced (PLEG relists after the restart) is history.
    const id = exitedId(e);
    if (change && id !== undefined && l.currentId !== undefined && id !== l.currentId) change = undefined;
    // ...and so is a second report of an exit already drawn (the lane may be backing off by then).
    if (change?.state === 'exited' && (l.open?.state === 'exited' || l.open?.state === 'backoff')) change = undefined;
    if (e.type === 'ContainerStarted') l.currentId = (e.data as D).containerId;
    // A container exit reported again by a later relist does not start a new segment.
    if (change && !(l.open && l.open.state === change.state && change.state !== 'running')) {
      if (l.open) l.open.to = e.at;
      const started = change.state === 'running' ? Date.parse((e.data as D).startedAt ?? '') : NaN;
      const at = Number.isFinite(started) ? new Date(started).toISOString() : e.at;
      l.open = { from: at < e.at ? at : e.at, to: e.at, state: change.state, label: change.label };
      l.segments.push(l.open);
      if (change.state === 'gone') l.open = undefined;
    }
    const x = byDecision.get(e.seq);
    if (x) l.markers.push({ at: e.at, seq: e.seq, kind: 'decision', title: `#${x.seq} ${x.what}`, detail: renderExplanation(x) });
    else if (e.type === 'ProbeFailed' || e.type === 'ProbeResultChanged') l.markers.push({ at: e.at, seq: e.seq, kind: 'probe', title: `#${e.seq} ${describe(e)}`, detail: [`${e.at.slice(11, 23)} #${e.seq} ${describe(e)}`] });
  }
  // Lanes of one pod stay together (pod lane first), pods in the order they appear.
  const podSeq = new Map<string, number>();
  for (const l of lanes.values()) podSeq.set(l.pod, Math.min(podSeq.get(l.pod) ?? Infinity, l.first));
    const from = entries[0]?.at ?? new Date(0).toISOString();
  const to = entries[entries.length - 1]?.at ?? from;
  for (const l of lanes.values()) if (l.open) l.open.to = to;
  const out = [...lanes.values()]
    .filter((l) => l.segments.length || l.markers.length)
    .sort((a, b) => podSeq.get(a.pod)! - podSeq.get(b.pod)! || Number(a.container !== undefined) - Number(b.container !== undefined) || a.id.localeCompare(b.id))
    .map(({ open: _open, currentId: _id, first: _first, ...l }) => l);
  return { from, to, lanes: out };
}
