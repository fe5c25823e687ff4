// `ledgerlet export --html FILE`: one self-contained page with the timeline of pods and containers.
import { writeFile } from 'node:fs/promises';
import type { Command } from 'commander';
import type { Entry } from '../../model/entry.ts';
import { runWithSource, withSourceOptions, type Out, type SourceFlags } from '../../postmortem/cli-common.ts';
import { renderPage } from '../../postmortem/html.ts';
import { horizonMessage, parseMoment, timeBeforeHorizon } from '../../postmortem/moments.ts';
import { resolvePods } from '../../postmortem/pods.ts';
import { PostmortemError, type EntryQuery, type LogSource, type PodSeen } from '../../postmortem/source.ts';
import { buildTimeline } from '../../postmortem/timeline.ts';
import { explainPods } from '../../postmortem/why.ts';

export interface ExportFlags {
  html?: string;
  pod?: string;
  since?: string;
  until?: string;
}

export function register(program: Command): void {
  withSourceOptions(
    program
      .command('export')
      .description('write a self-contained HTML timeline: containers as lanes, decisions with their cause chains')
      .requiredOption('--html <file>', 'the page to write')
      .option('--pod <ns/name|uid>', 'only this pod')
      .option('--since <moment>', 'from this moment: #SEQ, RFC 3339 time or -10m')
      .option('--until <moment>', 'up to this moment'),
  ).action(async (flags: ExportFlags & SourceFlags) => {
    process.exitCode = await runWithSource('export', flags, (src) => runExport(src, flags, console.log, console.error));
  });
}

/** The page's HTML for these flags (the CLI writes it to --html). */
export async function exportHtml(src: LogSource, f: ExportFlags, note: Out, now = new Date()): Promise<{ html: string; entries: number }> {
  const b = await src.bounds();
  const q: EntryQuery = {};
  for (const [flag, text] of [['since', f.since], ['until', f.until]] as const) {
    if (!text) continue;
    const m = parseMoment(text, now);
    if (m.kind === 'seq') q[flag === 'since' ? 'from' : 'to'] = m.seq;
    else q[flag] = m.iso;
    if (flag === 'since' && ((m.kind === 'seq' && m.seq < b.firstSeq) || (m.kind === 'time' && timeBeforeHorizon(b, m.iso)))) note(`note: --since ${text} is ${horizonMessage(b)}; the page starts at #${b.firstSeq}`);
  }
  const pods: PodSeen[] = f.pod ? await resolvePods(src, f.pod) : await src.pods();
  const uids = new Set(pods.map((p) => p.ref.uid));
  const entries: Entry[] = [];
  for await (const r of src.entries(q)) if (r.ok && r.entry.pod && uids.has(r.entry.pod.uid)) entries.push(r.entry);
  if (!entries.length) throw new PostmortemError('no pod entries in that range');
  const inRange = new Set(entries.map((e) => e.seq));
  const explanations = (await explainPods(src, pods)).filter((x) => inRange.has(x.seq));
  const timeline = buildTimeline(entries, explanations);
  const title = f.pod ? `ledgerlet timeline: ${f.pod}` : 'ledgerlet timeline';
  const subtitle = `${src.origin}: entries #${entries[0].seq}..#${entries[entries.length - 1].seq}, ${entries[0].at} .. ${entries[entries.length - 1].at}, ${explanations.length} decisions`;
  return { html: renderPage({ title, subtitle, timeline }), entries: entries.length };
}

export async function runExport(src: LogSource, f: ExportFlags, out: Out, note: Out): Promise<number> {
  const { html, entries } = await exportHtml(src, f, note);
  await writeFile(f.html!, html);
  out(`wrote ${f.html} (${entries} entries, ${Buffer.byteLength(html)} bytes)`);
  return 0;
}
