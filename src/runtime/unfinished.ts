// Which decisions are still waiting for their effect's outcome. A decision is unfinished from the
// moment it is appended (if its type has an effect handler) until an outcome names it as cause,
// or an AgentStarted entry lists it as interrupted (reducers then decide how to re-check it).
import type { Entry } from '../model/entry.ts';

export const AGENT_STARTED = 'AgentStarted';

export interface InterruptedDecision {
  seq: number;
  type: string;
  reason?: string;
  cause?: number;
  pod?: Entry['pod'];
}

export class UnfinishedDecisions {
  private readonly open = new Map<number, Entry>();

  constructor(private readonly hasEffect: (type: string) => boolean, initial: Entry[] = []) {
    for (const e of initial) this.open.set(e.seq, e);
  }

  observe(e: Entry): void {
    if (e.kind === 'decision') {
      if (this.hasEffect(e.type)) this.open.set(e.seq, e);
    } else if (e.kind === 'outcome') {
      if (e.cause !== undefined) this.open.delete(e.cause);
    } else if (e.type === AGENT_STARTED && e.source === 'engine') {
      const listed = (e.data as { unfinished?: Array<{ seq?: unknown }> } | null)?.unfinished;
      if (Array.isArray(listed)) for (const d of listed) if (typeof d?.seq === 'number') this.open.delete(d.seq);
    }
  }

  list(): Entry[] {
    return [...this.open.values()].sort((a, b) => a.seq - b.seq);
  }

  get size(): number {
    return this.open.size;
  }
}

export function describeInterrupted(e: Entry): InterruptedDecision {
  const d: InterruptedDecision = { seq: e.seq, type: e.type };
  if (e.reason !== undefined) d.reason = e.reason;
  if (e.cause !== undefined) d.cause = e.cause;
  if (e.pod !== undefined) d.pod = e.pod;
  return d;
}
