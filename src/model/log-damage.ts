// Entries about the log itself being damaged: a range of entries lost (written by `ledgerlet
// salvage` in place of what it could not read) and a log moved aside at start-up (the first entry
// of the new log, naming the forensic copy). Typed here so readers decode them, never cast.
import * as t from 'io-ts';
import { isRight } from 'fp-ts/lib/Either.js';
import type { Entry } from './entry.ts';

export const LOG_ENTRIES_LOST = 'LogEntriesLost';
export const LOG_MOVED_ASIDE = 'LogMovedAside';

/** Entries fromSeq..toSeq (inclusive) could not be read; this entry stands at fromSeq for all of them. */
export const LogEntriesLost = t.intersection([
  t.type({ fromSeq: t.number, toSeq: t.number, error: t.string }),
  t.partial({ salvagedFrom: t.string }),
]);
export type LogEntriesLost = t.TypeOf<typeof LogEntriesLost>;

/** The agent found its log unreadable at start-up and started a new one; the old one is kept. */
export const LogMovedAside = t.type({ forensicCopy: t.string, error: t.string });
export type LogMovedAside = t.TypeOf<typeof LogMovedAside>;

/** The lost range a LogEntriesLost entry stands for, or undefined for any other entry. */
export function lostRange(e: Entry): LogEntriesLost | undefined {
  if (e.type !== LOG_ENTRIES_LOST) return undefined;
  const r = LogEntriesLost.decode(e.data);
  return isRight(r) && r.right.fromSeq === e.seq && r.right.toSeq >= e.seq ? r.right : undefined;
}
