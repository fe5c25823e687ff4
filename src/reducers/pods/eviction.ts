// The eviction manager's decisions (upstream pkg/kubelet/eviction): while a hard threshold is met,
// evict one pod at a time, the next only once the previous one has stopped. Ranking as upstream:
// pods using more than they requested of the starved resource first, then lower priority, then
// larger use above requests. Static pods are never evicted (upstream: critical pods). Under
// pressure, admission refuses new pods: BestEffort ones under memory pressure only, all others
// under disk or PID pressure.
import type { DecisionDraft, Entry } from '../../model/entry.ts';
import {
  CONDITION_OF, SIGNALS, evictionMessage, foldPressure, metThresholds,
  type EvictionSignalsData, type MetThreshold, type PressureCondition,
} from '../../model/eviction.ts';
import { parseQuantity } from '../../model/quantity.ts';
import { qosClass } from './qos.ts';
import { isTerminal } from './sync.ts';
import type { PodRecord, PodsState } from './state.ts';

export function onEvictionSignals(s: PodsState, e: Entry): PodsState {
  const d = e.data as EvictionSignalsData;
  const diskMet = metThresholds(d.thresholds, d.observed).some((m) => CONDITION_OF[m.signal] === 'DiskPressure');
  // Upstream reclaims node-level resources (unused images) before it evicts for disk pressure:
  // the first round of a disk-pressure episode is the images reducer's, evictions start at the next.
  const reclaim = diskMet && !(s.pressure ?? []).includes('DiskPressure') ? { diskReclaimSeq: e.seq } : {};
  return { ...s, ...foldPressure(s.pressureLastMet, d, e.at), ...reclaim };
}

/** The pod admission refuses under the pressure in force, with upstream's reason and message. */
export function pressureRejection(s: PodsState, rec: PodRecord): PodRecord['rejected'] {
  const p = s.pressure ?? [];
  if (p.length === 0) return undefined;
  const memoryOnly = p.length === 1 && p[0] === 'MemoryPressure';
  if (memoryOnly && qosClass(rec.pod) !== 'BestEffort') return undefined;
  return { reason: 'Evicted', message: `The node had condition: [${p.join(', ')}]. ` };
}

const requested = (rec: PodRecord, resource: 'memory' | 'ephemeral-storage') =>
  rec.pod.spec.containers.reduce((sum, c) => sum + (parseQuantity(String(c.resources?.requests?.[resource] ?? '0')) ?? 0), 0);

/** Still stopping: an evicted pod with a container or sandbox up holds back the next eviction. */
const stillStopping = (rec: PodRecord) => rec.evicted !== undefined && (Object.values(rec.containers).some((c) => c.current?.state === 'running') || rec.sandbox.state === 'ready');

export function decideEviction(s: PodsState, e: Entry): DecisionDraft | undefined {
  const d = e.data as EvictionSignalsData;
  const met = metThresholds(d.thresholds, d.observed).sort((a, b) => SIGNALS.indexOf(a.signal) - SIGNALS.indexOf(b.signal));
  if (met.length === 0) return undefined;
  const pods = Object.values(s.pods);
  if (pods.some(stillStopping)) return undefined;
  const candidates = pods.filter((r) => r.origin === 'api' && !r.terminating && !r.rejected && !r.evicted && !r.goneFromSource && !isTerminal(r));
  if (candidates.length === 0) return undefined;
  const m = met[0];
  if (CONDITION_OF[m.signal] === 'DiskPressure' && s.diskReclaimSeq === e.seq) return undefined;
  const victim = rank(candidates, m, d)[0];
  return {
    type: 'PodEvicted',
    reason: 'EvictionThresholdMet',
    pod: victim.ref,
    data: { signal: m.signal, condition: CONDITION_OF[m.signal] as PressureCondition, threshold: m.threshold, available: m.available, message: evictionMessage(m) },
  };
}

function rank(pods: PodRecord[], m: MetThreshold, d: EvictionSignalsData): PodRecord[] {
  const resource = m.signal === 'memory.available' ? 'memory' : m.signal === 'pid.available' ? undefined : 'ephemeral-storage';
  const usage = (r: PodRecord) => {
    const u = d.pods?.[r.ref.uid];
    return resource === 'memory' ? u?.memoryBytes ?? 0 : resource ? u?.diskBytes ?? 0 : 0;
  };
  const above = (r: PodRecord) => (resource ? usage(r) - requested(r, resource) : 0);
  const key = (r: PodRecord) => ({ exceeds: above(r) > 0 ? 1 : 0, priority: r.pod.spec.priority ?? 0, above: above(r) });
  return [...pods].sort((a, b) => {
    const ka = key(a);
    const kb = key(b);
    return kb.exceeds - ka.exceeds || ka.priority - kb.priority || kb.above - ka.above || a.ref.uid.localeCompare(b.ref.uid);
  });
}
