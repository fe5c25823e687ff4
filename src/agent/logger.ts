// The agent's stdout: pino JSON lines with the same promise as the node log. Credential fields
// are redacted by name before a line is serialised, and every registered secret value
// (src/runtime/secret-values.ts) is scrubbed from the finished line before it is written.
import { pino, type Logger } from 'pino';
import { redactSecrets } from '../model/entry-redact.ts';
import { scrub } from '../runtime/secret-values.ts';

export function agentLogger(level: string): Logger {
  return pino({
    level,
    base: { component: 'ledgerlet' },
    formatters: { log: (obj) => redactSecrets(obj) },
    // the line as written: covers the message, error texts and any field (JSON-escaped forms are registered too)
    hooks: { streamWrite: (line) => scrub(line) },
  });
}
