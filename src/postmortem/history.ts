// `history`: entries oldest first, one readable line each: time, seq, kind, what, reason.
import type { EntryRead } from '../model/entry-codec.ts';
import type { Entry } from '../model/entry.ts';
import { containerOf, describe } from './describe.ts';

/** Keep entries about one container (entries about no container in particular are dropped). */
export const aboutContainer = (e: Entry, name: string) => containerOf(e) === name;

const KIND: Record<string, string> = { observation: 'observed', decision: 'decided', outcome: 'outcome' };

export function historyLine(r: EntryRead): string {
  if (!r.ok) return `?            #${r.seq}  UNREADABLE  ${r.error}`;
  const e = r.entry;
  const pod = e.pod ? ` ${e.pod.namespace}/${e.pod.name}` : '';
  const reason = e.reason ? `  [${e.reason}]` : '';
  const cause = e.cause !== undefined ? ` ← #${e.cause}` : '';
  return `${e.at.slice(11, 23)} #${e.seq} ${KIND[e.kind] ?? e.kind} ${e.type}${pod}: ${describe(e)}${reason}${cause}`;
}

/** A date line whenever the day changes, so the short times stay unambiguous. */
export function dayHeader(prevAt: string | undefined, at: string): string | undefined {
  const day = at.slice(0, 10);
  return prevAt?.slice(0, 10) === day ? undefined : `── ${day} (UTC) ──`;
}
