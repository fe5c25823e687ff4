// What the postmortem commands share: where to read the log from (--root-dir, or --socket of a
// running agent) and how failures reach the operator (a plain sentence and exit code 1).
import type { Command } from 'commander';
import { LogStoreError } from '../adapters/store/index.ts';
import { isCorruption } from '../adapters/store/log-store.ts';
import { agentEndpoint } from './endpoint.ts';
import { openRootDir } from './root-dir.ts';
import { PostmortemError, type LogSource } from './source.ts';

export interface SourceFlags {
  rootDir: string;
  socket?: string;
}

export type Out = (line: string) => void;

export function withSourceOptions(cmd: Command): Command {
  return cmd
    .option('--root-dir <dir>', "the agent's root directory (or a copy of it); a running agent is asked through <dir>/ledgerlet.sock", '/var/lib/kubelet')
    .option('--socket <path>', "a running agent's local endpoint (instead of opening the log)");
}

export async function openSource(f: SourceFlags): Promise<LogSource> {
  return f.socket ? agentEndpoint(f.socket) : openRootDir(f.rootDir);
}

/** Runs a command body against a source; a known failure is one line on `err`, exit code 1. */
export async function runWithSource(name: string, f: SourceFlags, body: (src: LogSource) => Promise<number>, err: Out = (l) => console.error(l)): Promise<number> {
  // `ledgerlet history | head` closes the pipe early: that ends the command, it is no error.
  process.stdout.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code === 'EPIPE') process.exit(0);
    throw e;
  });
  let src: LogSource | undefined;
  try {
    src = await openSource(f);
    const code = await body(src);
    // The output went on past damage; say once, at the end, what could not be read (exit 1).
    const damage = src.damage?.() ?? [];
    for (const d of damage) err(`${name}: the log is damaged: ${d}`);
    if (damage.length > 0) err(`${name}: 'ledgerlet verify' lists every lost range; 'ledgerlet salvage' copies what is readable`);
    return damage.length > 0 ? Math.max(code, 1) : code;
  } catch (e) {
    if (e instanceof PostmortemError || e instanceof LogStoreError) {
      err(`${name}: ${e.message}`);
      return 1;
    }
    if (isCorruption(e)) {
      err(`${name}: the log is damaged and this question cannot be answered from it: ${(e as Error).message}`);
      return 1;
    }
    throw e;
  } finally {
    await src?.close();
  }
}

export const collect = (v: string, prev: string[] = []) => [...prev, ...v.split(',').map((s) => s.trim()).filter(Boolean)];
