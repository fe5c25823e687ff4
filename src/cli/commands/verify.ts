// `ledgerlet verify --root-dir DIR`: prove the log replays to the recorded decisions and snapshots.
import type { Command } from 'commander';
import { LogStore, LogStoreError, logDir } from '../../adapters/store/index.ts';
import type { Decider } from '../../reducers/decider.ts';
import { verifyLog } from '../../runtime/verify.ts';
import { checkAgainstCurrentRules, type UpgradeCheckReport } from '../../runtime/upgrade-check.ts';

/** The node's decider, loaded only when a command needs it (the reducers load independently). */
async function loadNodeDecider(): Promise<Decider<unknown>> {
  const mod = (await import('../../reducers/index.ts')) as { nodeDecider?: Decider<unknown> };
  if (!mod.nodeDecider) throw new Error('src/reducers/index.ts does not export nodeDecider');
  return mod.nodeDecider;
}

export function register(program: Command): void {
  program
    .command('verify')
    .description('refold the log, recompute every decision and compare with the recorded ones and the snapshots')
    .option('--root-dir <dir>', 'the agent root directory holding the log', '/var/lib/kubelet')
    .option('--json', 'print the report as JSON')
    .option('--rules <which>', "'recorded': each stretch against the rules that wrote it; 'current': what the installed rules would decide differently, per pod (before an upgrade)", 'recorded')
    .action(async (opts: { rootDir: string; json?: boolean; rules: string }) => {
      if (opts.rules !== 'recorded' && opts.rules !== 'current') {
        console.log(`verify: --rules must be 'recorded' or 'current', not '${opts.rules}'`);
        process.exitCode = 2;
        return;
      }
      process.exitCode = opts.rules === 'current'
        ? await runUpgradeCheck(opts.rootDir, opts.json ?? false, loadNodeDecider)
        : await runVerify(opts.rootDir, opts.json ?? false, loadNodeDecider);
    });
}

/** `verify --rules current`: exit 0 when the installed rules decide exactly as recorded, 1 when some pod would differ. */
export async function runUpgradeCheck(rootDir: string, json: boolean, getDecider: () => Promise<Decider<unknown>>, out: (line: string) => void = console.log): Promise<number> {
  return withReadOnlyLog(rootDir, out, async (store) => {
    const report = await checkAgainstCurrentRules(store, await getDecider());
    if (json) out(JSON.stringify(report));
    else for (const line of describeUpgradeCheck(report)) out(line);
    return report.differences.length === 0 && report.unreadable === 0 ? 0 : 1;
  });
}

/** Opens the log read-only for one check; a log that cannot be opened or read is one `verify:` line and exit code 1. */
async function withReadOnlyLog(rootDir: string, out: (line: string) => void, check: (store: LogStore) => Promise<number>): Promise<number> {
  let store: LogStore;
  try {
    store = await LogStore.open(logDir(rootDir), { readOnly: true });
  } catch (err) {
    out(`verify: ${err instanceof LogStoreError ? err.message : (err as Error).message}`);
    return 1;
  }
  try {
    return await check(store);
  } catch (err) {
    out(`verify: ${(err as Error).message}`);
    return 1;
  } finally {
    await store.close();
  }
}

export function describeUpgradeCheck(r: UpgradeCheckReport): string[] {
  const recorded = r.recordedRules.length ? `recorded under rules version ${r.recordedRules.join(', ')}` : 'recorded';
  const lines = [`refolded ${r.entries} entries ${recorded} with the installed rules${r.currentRules !== undefined ? ` (version ${r.currentRules})` : ''}`];
  if (r.unreadable) lines.push(`note: ${r.unreadable} entries could not be read and were not compared`);
  for (const e of r.reducerErrors.slice(0, 10)) lines.push(`warning: ${e.error}`);
  if (r.differences.length === 0) {
    lines.push(`the installed rules make every recorded decision (${r.subjects} pods and the node)`);
    return lines;
  }
  const pods = r.differences.filter((d) => d.uid).length;
  const who = [pods ? `${pods} pod${pods === 1 ? '' : 's'}` : '', r.differences.some((d) => !d.uid) ? 'the node' : ''].filter(Boolean).join(' and ');
  lines.push(`${who} would be decided differently; the first difference of each (later decisions of that pod are not compared: what followed can no longer be known):`);
  const brief = (d?: { type: string; reason?: string; seq?: number }) => (d ? `${d.type}${d.reason ? ` (${d.reason})` : ''}${d.seq !== undefined ? ` #${d.seq}` : ''}` : 'nothing');
  for (const d of r.differences) {
    lines.push(`${d.pod}${d.uid ? ` (uid ${d.uid})` : ''}: on #${d.causeSeq} ${d.causeType} at ${d.at}`);
    lines.push(`    recorded${d.recordedRules !== undefined ? ` (rules ${d.recordedRules})` : ''}: ${brief(d.recorded)}`);
    lines.push(`    installed rules: ${brief(d.current)}${d.detail ? ` — ${d.detail}` : ''}`);
    if (d.changes.length) lines.push(`    rule changes since: ${d.changes.map((c) => `${c.id} (version ${c.since}: ${c.what})`).join('; ')}`);
  }
  return lines;
}

/** Exit code 0 when everything matches, 1 otherwise (including a log that cannot be opened). */
export async function runVerify(rootDir: string, json: boolean, getDecider: () => Promise<Decider<unknown>>, out: (line: string) => void = console.log): Promise<number> {
  return withReadOnlyLog(rootDir, out, async (store) => {
    const report = await verifyLog(store, await getDecider());
    if (json) out(JSON.stringify(report));
    else {
      const from = report.startedFromSnapshot ? `from the retention snapshot at seq ${report.startedFromSnapshot}` : 'from seq 1';
      out(`verified ${report.entries} entries ${from}: ${report.observations} observations, ${report.decisions} decisions, ${report.outcomes} outcomes; ${report.snapshotsChecked} snapshots`);
      if (report.rules.length > 0) out(`decided under rules ${report.rules.map((r) => `version ${r.version} from seq ${r.fromSeq}`).join(', ')}`);
      for (const r of report.reducerErrors.slice(0, 10)) out(`warning: ${r.error}`);
      for (const l of report.lost) {
        const range = l.fromSeq === l.toSeq ? `entry #${l.fromSeq}` : `entries #${l.fromSeq}..#${l.toSeq}`;
        out(l.recorded ? `note: ${range} were lost before a salvage (recorded gap): ${l.error}` : `LOST: ${range} cannot be read: ${l.error}`);
      }
      for (const d of report.otherDamage) out(`DAMAGED: ${d}`);
      if (report.decisionsUnchecked > 0) out(`note: ${report.decisionsUnchecked} decisions after lost entries could not be checked (no readable snapshot after the gap yet)`);
      if (report.lost.some((l) => !l.recorded) || report.otherDamage.length > 0) out(`the log is damaged: run 'ledgerlet salvage --root-dir ${rootDir} --out DIR' to copy what is readable`);
      else if (report.divergence) out(`DIVERGED at seq ${report.divergence.seq}: ${report.divergence.reason}`);
      else out('all decisions and snapshots match the replay');
    }
    return report.ok ? 0 : 1;
  });
}
