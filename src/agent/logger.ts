// The agent's stdout, with the same promise as the node log: credential fields are redacted by
// name before a record is serialised, and every registered secret value
// (src/runtime/secret-values.ts) is scrubbed from the finished line before it is written.
// Two formats: JSON lines (default, as upstream's --logging-format=json) or one readable line per
// record for journald and terminals (--log-format text); journald stamps lines itself, so the
// text format leaves the time out.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';
import { redactSecrets } from '../model/entry-redact.ts';
import { scrub } from '../runtime/secret-values.ts';

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const isLogFormat = (s: string): s is LogFormat => (LOG_FORMATS as readonly string[]).includes(s);

/** `destination` is stdout unless given (tests). */
export function agentLogger(opts: { level: string; format?: LogFormat; destination?: NodeJS.WritableStream }): Logger {
  const options = {
    level: opts.level,
    base: { component: 'ledgerlet' },
    formatters: { log: (obj: Record<string, unknown>) => redactSecrets(obj) },
    // the JSON line as written, before any formatting: covers the message, error texts and any field
    hooks: { streamWrite: (line: string) => scrub(line) },
  };
  if ((opts.format ?? 'json') === 'json') return opts.destination ? pino(options, opts.destination) : pino(options);
  // sync: records reach stdout in order and are not lost when the process exits at once.
  return pino(options, pretty({ sync: true, colorize: false, singleLine: true, ignore: 'time,pid,hostname,component', levelFirst: true, ...(opts.destination ? { destination: opts.destination } : {}) }));
}
