// Payloads of the observations the engine itself appends (source `engine`), beside AgentStarted.
//
// - `SourceRestarted` {source, reason, attempt, delayMs, error?}: a source was subscribed again.
//   `SourceFailed`: its observable errored (`error`), and it was restarted after `delayMs`
//   (backoff; `attempt` counts failures since it last emitted). `LogWritableAgain`: it had been
//   paused while the node log could not be written; restarted sources begin with a full list.
// - `LogWriteRecovered` {since, attempts, error}: the node log accepted a write again after
//   failing from `since` for `attempts` attempts (the first error is kept). It follows the batch
//   that finally went through.
// - `AgentStarted` {resumedFromSeq, snapshotSeq, unfinished, unreadable, rulesVersion?}: the engine
//   started; `rulesVersion` names the decision rules everything up to the next AgentStarted was
//   decided with (absent in logs written before rules were versioned: FIRST_RULES_VERSION).
// - `AgentStopping` {effectsInFlight}: the agent is stopping. No decision is appended after it
//   until the next AgentStarted (outcomes still are); decisions still open are listed there.
import * as t from 'io-ts';

export const ENGINE_SOURCE = 'engine';
export const AGENT_STOPPING = 'AgentStopping';
export const SOURCE_RESTARTED = 'SourceRestarted';
export const LOG_WRITE_RECOVERED = 'LogWriteRecovered';

export const SourceRestarted = t.intersection([
  t.type({
    source: t.string,
    reason: t.keyof({ SourceFailed: null, LogWritableAgain: null }),
    attempt: t.number,
    delayMs: t.number,
  }),
  t.partial({ error: t.string }),
]);
export type SourceRestarted = t.TypeOf<typeof SourceRestarted>;

export const LogWriteRecovered = t.type({ since: t.string, attempts: t.number, error: t.string });
export type LogWriteRecovered = t.TypeOf<typeof LogWriteRecovered>;

export const AgentStarted = t.intersection([
  t.type({
    resumedFromSeq: t.number,
    snapshotSeq: t.union([t.number, t.null]),
    unfinished: t.array(t.UnknownRecord),
    unreadable: t.array(t.type({ seq: t.number, error: t.string })),
  }),
  t.partial({ rulesVersion: t.number }),
]);
export type AgentStarted = t.TypeOf<typeof AgentStarted>;

/** Only the part of AgentStarted that fold harnesses read, decoded leniently (an old entry may lack the rest). */
const AgentStartedRules = t.partial({ rulesVersion: t.number });

/**
 * The rules version an AgentStarted entry opens a stretch under: its `rulesVersion`, else the
 * first version (logs from before versioning). undefined when the entry opens no stretch.
 */
export function rulesVersionOpenedBy(e: { kind: string; type: string; source: string; data: unknown }, first: number): number | undefined {
  if (e.kind !== 'observation' || e.type !== 'AgentStarted' || e.source !== ENGINE_SOURCE) return undefined;
  const r = AgentStartedRules.decode(e.data);
  return r._tag === 'Right' && r.right.rulesVersion !== undefined ? r.right.rulesVersion : first;
}

export const AgentStopping = t.type({ effectsInFlight: t.number });
export type AgentStopping = t.TypeOf<typeof AgentStopping>;
