// Given/when/then harness for the node's reducers: entries are folded exactly as the engine does
// (observation → evolve → decide → decisions appended and evolved), with time set by the test.
import type { DecisionDraft, Entry, PodRef } from '../../../src/model/entry.ts';
import { nodeDecider, type NodeAgentState } from '../../../src/reducers/index.ts';
import { decideOn, decisionDraftFor, evolveEntry } from '../../../src/runtime/fold.ts';

export class Scenario {
  state: NodeAgentState = nodeDecider.initialState();
  log: Entry[] = [];
  now = Date.parse('2026-11-23T10:00:00.000Z');

  at(offsetSeconds: number): this {
    this.now = Date.parse('2026-11-23T10:00:00.000Z') + offsetSeconds * 1000;
    return this;
  }

  private append(e: Omit<Entry, 'seq' | 'v' | 'at'> & { at?: string }): Entry {
    const entry = { v: 1, seq: this.log.length + 1, at: e.at ?? new Date(this.now).toISOString(), ...e } as Entry;
    this.log.push(entry);
    const r = evolveEntry(nodeDecider, this.state, entry);
    if (r.error) throw new Error(r.error);
    this.state = r.state;
    return entry;
  }

  private decideAfter(entry: Entry): Entry[] {
    const r = decideOn(nodeDecider, this.state, entry);
    if (r.error) throw new Error(r.error);
    return r.decisions.map((d: DecisionDraft) => this.append(decisionDraftFor(entry, d)));
  }

  observe(type: string, data: unknown, pod?: PodRef, source = 'test'): Entry[] {
    return this.decideAfter(this.append({ kind: 'observation', type, source, data, pod }));
  }

  outcome(decision: Entry, type: string, data: unknown): Entry[] {
    return this.decideAfter(this.append({ kind: 'outcome', type, source: 'effect', data, pod: decision.pod, cause: decision.seq }));
  }

  pod(uid: string) {
    return this.state.pods.pods[uid];
  }
}

export const types = (es: Entry[]) => es.map((e) => e.type);
export const only = (es: Entry[], type: string) => {
  const hit = es.filter((e) => e.type === type);
  if (hit.length !== 1) throw new Error(`expected exactly one ${type}, got [${types(es).join(', ')}]`);
  return hit[0];
};

export function podManifest(uid: string, over: Record<string, unknown> = {}, spec: Record<string, unknown> = {}) {
  return {
    metadata: { name: `pod-${uid}`, namespace: 'default', uid, creationTimestamp: '2026-11-23T09:59:59Z', ...over },
    spec: { nodeName: 'node-1', containers: [{ name: 'app', image: '127.0.0.1:5000/busybox:1.36', command: ['sleep', '3600'] }], ...spec },
  };
}

export const refFor = (uid: string): PodRef => ({ uid, namespace: 'default', name: `pod-${uid}` });

/** A started, configured agent whose runtime has been relisted and whose sources are synced. */
export function readyNode(opts: { standalone?: boolean } = {}): Scenario {
  const s = new Scenario();
  s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine');
  s.observe('AgentConfigured', { nodeName: 'node-1', standalone: opts.standalone ?? false, staticPodPath: '', hostIP: '10.0.0.5' });
  s.observe('RuntimeRelisted', { sandboxes: [], containers: [] }, undefined, 'pleg');
  s.observe('PodsRelisted', { resourceVersion: '1', uids: [] }, undefined, 'apiserver');
  return s;
}

/** Runs a pod up to Running: sandbox started, every container started. Returns the app container id. */
export function runPod(s: Scenario, uid: string, manifest = podManifest(uid)): void {
  let ds = s.observe('PodObserved', { pod: manifest, origin: 'api', resourceVersion: '2' }, refFor(uid), 'apiserver');
  const sb = only(ds, 'PodSandboxRequested');
  ds = s.outcome(sb, 'PodSandboxStarted', { sandboxId: `sb-${uid}`, ip: '10.88.0.7', ips: ['10.88.0.7'] });
  for (let guard = 0; guard < 10; guard++) {
    const starts = ds.filter((d) => d.type === 'ContainerStartRequested');
    if (!starts.length) return;
    const next: Entry[] = [];
    for (const st of starts) {
      const plan = (st.data as { plan: { name: string; attempt: number; specHash: string } }).plan;
      next.push(...s.outcome(st, 'ContainerStarted', { name: plan.name, containerId: `c-${uid}-${plan.name}-${plan.attempt}`, attempt: plan.attempt, imageRef: 'sha256:abc', startedAt: new Date(s.now).toISOString(), specHash: plan.specHash }));
    }
    ds = next;
  }
}

export function containerExited(s: Scenario, uid: string, name: string, exitCode: number, attempt = 0) {
  const c = s.pod(uid).containers[name];
  return s.observe('ContainerStateChanged', {
    container: { id: c.current!.id, podUid: uid, sandboxId: `sb-${uid}`, name, attempt, state: 'exited', exitCode, startedAt: c.current!.startedAt, finishedAt: new Date(s.now).toISOString(), reason: exitCode === 0 ? 'Completed' : 'Error' },
  }, refFor(uid), 'pleg');
}
