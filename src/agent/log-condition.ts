// The node condition that says the node log cannot be written. The agent cannot decide anything
// then (every decision goes through the log), so the heartbeat (the documented exception that
// acts outside the log) adds it to the conditions it posts, while the log is blocked only: once
// the log is writable the condition is left out and the status patch removes it. True means
// trouble, as DiskPressure and node-problem-detector's conditions. Ready is left alone: the pods
// are running and must not be evicted for the agent's own trouble.
import type { NodeCondition } from '../reducers/node/index.ts';
import type { LogWriteStatus } from '../runtime/engine.ts';

export const NODE_LOG_UNWRITABLE = 'NodeLogUnwritable';

export function withLogCondition(conditions: NodeCondition[], status: LogWriteStatus): NodeCondition[] {
  if (status.writable) return conditions;
  return [
    ...conditions,
    {
      type: NODE_LOG_UNWRITABLE,
      status: 'True',
      reason: 'NodeLogWriteFailed',
      message: `ledgerlet cannot write its node log since ${status.since.toISOString()} (${status.attempts} attempts): ${status.error}; pods keep running but none is started, stopped or evicted until it can`,
      lastTransitionTime: status.since.toISOString(),
    },
  ];
}
