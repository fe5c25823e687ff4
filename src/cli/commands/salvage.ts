// `ledgerlet salvage --root-dir DIR --out DIR`: a new log holding every readable entry and snapshot
// of a damaged one, with each lost range recorded as a LogEntriesLost entry.
import type { Command } from 'commander';
import { LogStoreError, logDir } from '../../adapters/store/index.ts';
import type { Out } from '../../postmortem/cli-common.ts';
import { salvageLog } from '../../postmortem/salvage.ts';
import { PostmortemError } from '../../postmortem/source.ts';

export function register(program: Command): void {
  program
    .command('salvage')
    .description('copy every readable entry and snapshot of a damaged log into a new log, recording each lost range')
    .option('--root-dir <dir>', 'the root directory holding the damaged log (read from a private copy, never changed)', '/var/lib/kubelet')
    .requiredOption('--out <dir>', 'a root directory for the new log (its log/ must not exist yet)')
    .action(async (opts: { rootDir: string; out: string }) => {
      process.exitCode = await runSalvage(opts.rootDir, opts.out, console.log, console.error);
    });
}

export async function runSalvage(rootDir: string, outDir: string, out: Out, err: Out): Promise<number> {
  try {
    const r = await salvageLog(rootDir, outDir);
    out(`salvaged ${r.entriesCopied} entries (#${r.firstSeq}..#${r.lastSeq}) and ${r.snapshotsCopied} snapshots into ${logDir(outDir)}`);
    for (const l of r.lost) out(`lost: ${l.fromSeq === l.toSeq ? `entry #${l.fromSeq}` : `entries #${l.fromSeq}..#${l.toSeq}`} (recorded as LogEntriesLost): ${l.error}`);
    for (const s of r.snapshotsUnreadable) out(`lost: snapshot at seq ${s} cannot be read`);
    if (r.lost.length === 0 && r.snapshotsUnreadable.length === 0) out('nothing was lost');
    return 0;
  } catch (e) {
    if (e instanceof PostmortemError || e instanceof LogStoreError) {
      err(`salvage: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
