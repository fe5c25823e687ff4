// Payloads of the observations the engine itself appends (source `engine`), beside AgentStarted.
//
// - `SourceRestarted` {source, reason, attempt, delayMs, error?}: a source was subscribed again.
//   `SourceFailed`: its observable errored (`error`), and it was restarted after `delayMs`
//   (backoff; `attempt` counts failures since it last emitted). `LogWritableAgain`: it had been
//   paused while the node log could not be written; restarted sources begin with a full list.
// - `LogWriteRecovered` {since, attempts, error}: the node log accepted a write again after
//   failing from `since` for `attempts` attempts (the first error is kept). It follows the batch
//   that finally went through.
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

export const AgentStopping = t.type({ effectsInFlight: t.number });
export type AgentStopping = t.TypeOf<typeof AgentStopping>;
