// `ledgerlet why NS/NAME`: every lifecycle decision about a pod with its recorded cause chain.
import type { Command } from 'commander';
import { runWithSource, withSourceOptions, type Out, type SourceFlags } from '../../postmortem/cli-common.ts';
import { podLabel, resolvePods } from '../../postmortem/pods.ts';
import type { LogSource } from '../../postmortem/source.ts';
import { explainPods, renderExplanation } from '../../postmortem/why.ts';

export interface WhyFlags {
  container?: string;
  all?: boolean;
  json?: boolean;
}

export function register(program: Command): void {
  withSourceOptions(
    program
      .command('why')
      .argument('<pod>', 'NS/NAME (or NAME in default, or a pod uid)')
      .description('every decision about a pod (started, killed, restarted, backed off, unready...) and the observations that caused it')
      .option('--container <name>', 'only decisions about this container')
      .option('--all', 'every decision, pod status reports included')
      .option('--json', 'explanations as JSON lines'),
  ).action(async (pod: string, flags: WhyFlags & SourceFlags) => {
    process.exitCode = await runWithSource('why', flags, (src) => runWhy(src, pod, flags, console.log));
  });
}

export async function runWhy(src: LogSource, podArg: string, f: WhyFlags, out: Out): Promise<number> {
  const pods = await resolvePods(src, podArg);
  const b = await src.bounds();
  for (const p of pods) {
    const xs = await explainPods(src, [p], { container: f.container, all: f.all });
    if (f.json) {
      for (const x of xs) out(JSON.stringify(x));
      continue;
    }
    out(`${podLabel(p.ref)} (uid ${p.ref.uid}): entries #${p.firstSeq}..#${p.lastSeq}, ${p.firstAt} .. ${p.lastAt}`);
    if (b.horizon && p.firstSeq === b.firstSeq) out(`  (earlier history of this pod may be before the retention horizon, first retained entry #${b.firstSeq} at ${b.firstAt})`);
    if (!xs.length) out(`  no ${f.container ? `decisions about container ${f.container}` : 'lifecycle decisions'} recorded`);
    for (const x of xs) for (const l of renderExplanation(x)) out(`  ${l}`);
  }
  return 0;
}
