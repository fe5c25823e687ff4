// The node concern: registration with the API server and the node conditions it reports
// (Ready follows the runtime and PLEG health, as upstream's runtime and PLEG health checks).
import type { DecisionDraft, Entry } from '../../model/entry.ts';
import type { Decider } from '../decider.ts';
import { SHUTDOWN_NOT_READY_MESSAGE } from '../../model/node-shutdown.ts';
import { foldPressure, type EvictionSignalsData, type PressureCondition } from '../../model/eviction.ts';

export interface NodeCondition {
  type: string;
  status: 'True' | 'False' | 'Unknown';
  reason: string;
  message: string;
  lastTransitionTime: string;
}

export interface NodeState {
  nodeName: string;
  standalone: boolean;
  registered: boolean;
  registrationPending?: number;
  runtimeReachable: boolean;
  plegHealthy: boolean;
  apiReachable: boolean;
  conditions: NodeCondition[];
  /** Conditions last handed to the node status effect. */
  reported?: NodeCondition[];
  reportPending?: number;
  /** When each pressure condition's thresholds were last met (EvictionSignalsObserved). */
  pressureLastMet?: Partial<Record<PressureCondition, string>>;
  /** Pressure conditions in force (True). */
  pressure?: PressureCondition[];
  /** A node shutdown was announced (NodeShutdownRequested): Ready stays False. */
  shuttingDown?: boolean;
}

export const initialNodeState = (): NodeState => ({
  nodeName: '',
  standalone: true,
  registered: false,
  runtimeReachable: false,
  plegHealthy: true,
  apiReachable: false,
  conditions: [],
});

function computeConditions(s: NodeState, at: string): NodeCondition[] {
  const ready = s.runtimeReachable && s.plegHealthy && !s.shuttingDown;
  const readyReason = ready ? 'KubeletReady' : 'KubeletNotReady';
  // Upstream joins the errors of its health checks; the shutdown manager's reads "node is shutting down".
  const errors = [!s.runtimeReachable && 'container runtime is down', !s.plegHealthy && 'PLEG is not healthy', s.shuttingDown && SHUTDOWN_NOT_READY_MESSAGE].filter(Boolean);
  const readyMessage = ready ? 'kubelet is posting ready status' : errors.join(', ');
  const on = (c: PressureCondition) => (s.pressure ?? []).includes(c);
  // Upstream's reasons and messages for the pressure conditions.
  const want: Array<Omit<NodeCondition, 'lastTransitionTime'>> = [
    on('MemoryPressure')
      ? { type: 'MemoryPressure', status: 'True', reason: 'KubeletHasInsufficientMemory', message: 'kubelet has insufficient memory available' }
      : { type: 'MemoryPressure', status: 'False', reason: 'KubeletHasSufficientMemory', message: 'kubelet has sufficient memory available' },
    on('DiskPressure')
      ? { type: 'DiskPressure', status: 'True', reason: 'KubeletHasDiskPressure', message: 'kubelet has disk pressure' }
      : { type: 'DiskPressure', status: 'False', reason: 'KubeletHasNoDiskPressure', message: 'kubelet has no disk pressure' },
    on('PIDPressure')
      ? { type: 'PIDPressure', status: 'True', reason: 'KubeletHasInsufficientPID', message: 'kubelet has insufficient PID available' }
      : { type: 'PIDPressure', status: 'False', reason: 'KubeletHasSufficientPID', message: 'kubelet has sufficient PID available' },
    { type: 'Ready', status: ready ? 'True' : 'False', reason: readyReason, message: readyMessage },
  ];
  return want.map((c) => {
    const old = s.conditions.find((o) => o.type === c.type);
    return { ...c, lastTransitionTime: old && old.status === c.status ? old.lastTransitionTime : at };
  });
}

function evolveNode(s: NodeState, e: Entry): NodeState {
  let n = s;
  if (e.kind === 'decision') {
    if (e.type === 'NodeRegistrationRequested') return { ...s, registrationPending: e.seq };
    if (e.type === 'NodeStatusChanged') return { ...s, reported: (e.data as { conditions: NodeCondition[] }).conditions, reportPending: e.seq };
    return s;
  }
  if (e.kind === 'outcome') {
    if (e.cause === s.registrationPending) n = { ...n, registrationPending: undefined, registered: n.registered || e.type === 'NodeRegistered' };
    if (e.cause === s.reportPending) n = { ...n, reportPending: undefined, reported: e.type === 'NodeStatusPatched' ? n.reported : undefined };
    return n;
  }
  switch (e.type) {
    case 'AgentStarted':
      n = { ...s, registrationPending: undefined, reportPending: undefined, registered: false, reported: undefined, apiReachable: false, shuttingDown: undefined };
      break;
    case 'AgentConfigured': {
      const d = e.data as { nodeName: string; standalone: boolean };
      n = { ...s, nodeName: d.nodeName, standalone: d.standalone };
      break;
    }
    case 'RuntimeRelisted':
    case 'RuntimeReachable':
      n = s.runtimeReachable ? s : { ...s, runtimeReachable: true };
      break;
    case 'RuntimeUnreachable':
      n = { ...s, runtimeReachable: false };
      break;
    case 'PlegHealthChanged':
      n = { ...s, plegHealthy: (e.data as { healthy: boolean }).healthy };
      break;
    case 'ApiServerReachable':
    case 'PodsRelisted':
      n = s.apiReachable ? s : { ...s, apiReachable: true };
      break;
    case 'ApiServerUnreachable':
      n = { ...s, apiReachable: false };
      break;
    case 'NodeShutdownRequested':
      n = { ...s, shuttingDown: true };
      break;
    case 'EvictionSignalsObserved':
      n = { ...s, ...foldPressure(s.pressureLastMet, e.data as EvictionSignalsData, e.at) };
      break;
    default:
      return s;
  }
  const conditions = computeConditions(n, e.at);
  return JSON.stringify(conditions) === JSON.stringify(n.conditions) ? n : { ...n, conditions };
}

function decideNode(s: NodeState, e: Entry): DecisionDraft[] {
  if (s.standalone || !s.nodeName || e.kind === 'decision') return [];
  if (!s.registered) {
    if (s.registrationPending === undefined && (e.type === 'AgentConfigured' || e.type === 'ApiServerReachable' || e.type === 'PodsRelisted')) {
      return [{ type: 'NodeRegistrationRequested', reason: e.type === 'AgentConfigured' ? 'AgentStarted' : 'ApiServerReachable', data: { nodeName: s.nodeName } }];
    }
    return [];
  }
  if (s.reportPending === undefined && s.conditions.length && JSON.stringify(s.conditions) !== JSON.stringify(s.reported)) {
    return [{ type: 'NodeStatusChanged', reason: e.type, data: { conditions: s.conditions } }];
  }
  return [];
}

export const nodeDecider: Decider<NodeState> = {
  initialState: initialNodeState,
  evolve: evolveNode,
  decide: decideNode,
};
