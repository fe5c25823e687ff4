// The `ledgerlet` command. Each subcommand lives in src/cli/commands/<name>.ts and exports
// `register(program)`; this file finds them (.ts from a checkout, .js in the built release), so adding a command never means editing this one.
import { readdirSync } from 'node:fs';
import { Command } from 'commander';
import { ledgerletVersion, TARGET_KUBERNETES_VERSION } from '../model/version.ts';

export async function buildProgram(): Promise<Command> {
  const program = new Command('ledgerlet')
    .description('A Kubernetes node agent whose every observation and decision is a log entry')
    .version(`ledgerlet ${ledgerletVersion()} (Kubernetes ${TARGET_KUBERNETES_VERSION})`, '--version', 'print the version and the Kubernetes release it targets')
    .showHelpAfterError();
  const dir = new URL('./commands/', import.meta.url);
  const files = readdirSync(dir).filter((f) => /\.[jt]s$/.test(f) && !f.endsWith('.test.ts') && !f.endsWith('.d.ts')).sort();
  for (const f of files) {
    const mod = (await import(new URL(f, dir).href)) as { register?: (p: Command) => void };
    if (typeof mod.register === 'function') mod.register(program);
  }
  return program;
}
