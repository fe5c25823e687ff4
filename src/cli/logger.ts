// The agent's own log on stdout: JSON lines (default, as upstream's --logging-format=json) or one
// readable line per record for journald and terminals (--log-format text). journald stamps each
// line itself, so the text format leaves the time out.
import { pino, type Logger } from 'pino';
import pretty from 'pino-pretty';

export const LOG_FORMATS = ['json', 'text'] as const;
export type LogFormat = (typeof LOG_FORMATS)[number];

export const isLogFormat = (s: string): s is LogFormat => (LOG_FORMATS as readonly string[]).includes(s);

/** `destination` is stdout unless given (tests). */
export function createLogger(opts: { level: string; format: LogFormat; destination?: NodeJS.WritableStream }): Logger {
  const options = { level: opts.level, base: { component: 'ledgerlet' } };
  if (opts.format === 'json') return opts.destination ? pino(options, opts.destination) : pino(options);
  // sync: records reach stdout in order and are not lost when the process exits at once.
  return pino(options, pretty({ sync: true, colorize: false, singleLine: true, ignore: 'time,pid,hostname,component', levelFirst: true, ...(opts.destination ? { destination: opts.destination } : {}) }));
}
