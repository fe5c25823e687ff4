// Reading a stopped agent's node log in integration tests, and running `ledgerlet verify` on it.
import { execFile } from 'node:child_process';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { LogStore, logDir } from '../../../src/adapters/store/index.ts';
import type { Entry } from '../../../src/model/entry.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');

/** Every readable entry of the log under rootDir (the agent must be stopped). */
export async function readNodeLog(rootDir: string): Promise<Entry[]> {
  const store = await LogStore.open(logDir(rootDir), { createIfMissing: false });
  try {
    const out: Entry[] = [];
    for await (const r of store.readRange()) if (r.ok) out.push(r.entry);
    return out;
  } finally {
    await store.close();
  }
}

/** `ledgerlet verify --root-dir rootDir`: exit code and output. */
export async function verifyNodeLog(rootDir: string): Promise<{ code: number; output: string }> {
  try {
    const { stdout, stderr } = await run(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'verify', '--root-dir', rootDir], { maxBuffer: 16 << 20 });
    return { code: 0, output: stdout + stderr };
  } catch (e) {
    const err = e as { code?: number; stdout?: string; stderr?: string };
    return { code: err.code ?? 1, output: `${err.stdout ?? ''}${err.stderr ?? ''}` };
  }
}
