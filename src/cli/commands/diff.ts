// `ledgerlet diff FROM TO`: what changed in the node's state between two moments.
import type { Command } from 'commander';
import { runWithSource, withSourceOptions, type Out, type SourceFlags } from '../../postmortem/cli-common.ts';
import { diffViews, renderChange } from '../../postmortem/diff.ts';
import { resolvePods } from '../../postmortem/pods.ts';
import type { LogSource } from '../../postmortem/source.ts';
import { viewAt } from './replay.ts';

export interface DiffFlags {
  pod?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withSourceOptions(
    program
      .command('diff')
      .argument('<from>', '#SEQ, RFC 3339 time or -10m')
      .argument('<to>', '#SEQ, RFC 3339 time or -10m')
      .description("what changed in the node's state between two moments")
      .option('--pod <ns/name|uid>', 'only this pod')
      .option('--json', 'changes as JSON lines'),
  ).action(async (from: string, to: string, flags: DiffFlags & SourceFlags) => {
    process.exitCode = await runWithSource('diff', flags, (src) => runDiff(src, from, to, flags, console.log));
  });
}

export async function runDiff(src: LogSource, from: string, to: string, f: DiffFlags, out: Out, now = new Date()): Promise<number> {
  const a = await viewAt(src, from, now);
  const b = await viewAt(src, to, now);
  if (f.pod) {
    const uids = new Set((await resolvePods(src, f.pod)).map((p) => p.ref.uid));
    a.pods = a.pods.filter((p) => uids.has(p.uid));
    b.pods = b.pods.filter((p) => uids.has(p.uid));
  }
  const changes = diffViews(a, b);
  if (f.json) {
    for (const c of changes) out(JSON.stringify(c));
    return 0;
  }
  let decisions = 0;
  let entries = 0;
  for await (const r of src.entries({ from: Math.min(a.seq, b.seq) + 1, to: Math.max(a.seq, b.seq) })) {
    entries++;
    if (r.ok && r.entry.kind === 'decision') decisions++;
  }
  out(`from #${a.seq}${a.at ? ` (${a.at})` : ''} to #${b.seq}${b.at ? ` (${b.at})` : ''}: ${entries} entries in between, ${decisions} of them decisions`);
  if (!changes.length) out('no change in the node state');
  for (const c of changes) out(renderChange(c));
  return 0;
}
