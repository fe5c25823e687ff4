// `ledgerlet replay --at MOMENT`: the node's state at that moment, folded from the log.
import type { Command } from 'commander';
import type { NodeAgentState } from '../../reducers/index.ts';
import { runWithSource, withSourceOptions, type Out, type SourceFlags } from '../../postmortem/cli-common.ts';
import { parseMoment, stateSeqOf } from '../../postmortem/moments.ts';
import { resolvePods } from '../../postmortem/pods.ts';
import type { LogSource } from '../../postmortem/source.ts';
import { nodeView, renderNodeView, type NodeView } from '../../postmortem/state-view.ts';

export interface ReplayFlags {
  at: string;
  pod?: string;
  json?: boolean;
}

export function register(program: Command): void {
  withSourceOptions(
    program
      .command('replay')
      .description("the node's state at a moment: pods, containers, restart counts, probe results, volumes, node conditions")
      .requiredOption('--at <moment>', '#SEQ, RFC 3339 time or -10m')
      .option('--pod <ns/name|uid>', 'only this pod')
      .option('--json', 'the state view as JSON'),
  ).action(async (flags: ReplayFlags & SourceFlags) => {
    process.exitCode = await runWithSource('replay', flags, (src) => runReplay(src, flags, console.log));
  });
}

/** The state view at a moment (shared with diff and export). */
export async function viewAt(src: LogSource, moment: string, now = new Date()): Promise<NodeView> {
  const b = await src.bounds();
  const seq = await stateSeqOf(src, parseMoment(moment, now), b);
  const s = await src.stateAt(seq);
  return nodeView(s.state as NodeAgentState, s.seq, s.at);
}

export async function runReplay(src: LogSource, f: ReplayFlags, out: Out, now = new Date()): Promise<number> {
  const view = await viewAt(src, f.at, now);
  const uids = f.pod ? new Set((await resolvePods(src, f.pod)).map((p) => p.ref.uid)) : undefined;
  if (uids) view.pods = view.pods.filter((p) => uids.has(p.uid));
  if (f.json) out(JSON.stringify(view, null, 2));
  else for (const l of renderNodeView(view)) out(l);
  return 0;
}
