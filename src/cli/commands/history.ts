// `ledgerlet history`: the log's entries, oldest first, one readable line each.
import type { Command } from 'commander';
import type { EntryRead } from '../../model/entry-codec.ts';
import { collect, runWithSource, withSourceOptions, type Out, type SourceFlags } from '../../postmortem/cli-common.ts';
import { aboutContainer, dayHeader, historyLine } from '../../postmortem/history.ts';
import { horizonMessage, parseMoment, timeBeforeHorizon } from '../../postmortem/moments.ts';
import { resolvePods } from '../../postmortem/pods.ts';
import { PostmortemError, type EntryQuery, type LogSource } from '../../postmortem/source.ts';

export interface HistoryFlags {
  pod?: string;
  container?: string;
  since?: string;
  until?: string;
  type?: string[];
  json?: boolean;
}

export function register(program: Command): void {
  withSourceOptions(
    program
      .command('history')
      .description('the log, oldest first: time, seq, kind, what happened, reason')
      .option('--pod <ns/name|uid>', 'only entries about this pod')
      .option('--container <name>', 'only entries about this container')
      .option('--since <moment>', 'from this moment: #SEQ, RFC 3339 time or -10m')
      .option('--until <moment>', 'up to this moment')
      .option('--type <types>', 'only these entry types (comma-separated, repeatable)', collect)
      .option('--json', 'one JSON entry per line'),
  ).action(async (flags: HistoryFlags & SourceFlags) => {
    process.exitCode = await runWithSource('history', flags, (src) => runHistory(src, flags, console.log, console.error));
  });
}

export async function runHistory(src: LogSource, f: HistoryFlags, out: Out, note: Out, now = new Date()): Promise<number> {
  const b = await src.bounds();
  const q: EntryQuery = { types: f.type };
  for (const [flag, text] of [['since', f.since], ['until', f.until]] as const) {
    if (!text) continue;
    const m = parseMoment(text, now);
    if (m.kind === 'seq') {
      if (flag === 'since') q.from = m.seq;
      else q.to = m.seq;
      if (m.seq < b.firstSeq && flag === 'since') note(`note: --since #${m.seq} is ${horizonMessage(b)}; showing from #${b.firstSeq}`);
    } else {
      q[flag] = m.iso;
      if (flag === 'since' && timeBeforeHorizon(b, m.iso)) note(`note: --since ${text} is ${horizonMessage(b)}; showing from #${b.firstSeq}`);
    }
  }
  if (q.from !== undefined && q.to !== undefined && q.from > q.to) throw new PostmortemError(`--since is after --until`);
  const uids = f.pod ? (await resolvePods(src, f.pod)).map((p) => p.ref.uid) : [undefined];
  let prevAt: string | undefined;
  let shown = 0;
  const show = (r: EntryRead) => {
    if (f.container && (!r.ok || !aboutContainer(r.entry, f.container))) return;
    shown++;
    if (f.json) return out(JSON.stringify(r.ok ? r.entry : r));
    if (r.ok) {
      const h = dayHeader(prevAt, r.entry.at);
      if (h) out(h);
      prevAt = r.entry.at;
    }
    out(historyLine(r));
  };
  if (uids.length === 1) {
    for await (const r of src.entries({ ...q, pod: uids[0] })) show(r);
  } else {
    // One name, several pods over time: merge their entries by seq.
    const all: EntryRead[] = [];
    for (const uid of uids) for await (const r of src.entries({ ...q, pod: uid })) all.push(r);
    all.sort((x, y) => (x.ok ? x.entry.seq : x.seq) - (y.ok ? y.entry.seq : y.seq)).forEach(show);
  }
  if (shown === 0 && !f.json) note('no entries match');
  return 0;
}
