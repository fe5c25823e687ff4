// Benchmark: `kubectl logs --tail=10` on a container log of 1 GiB, as the kubelet API reads it
// (writeLog: backwards from the end in chunks), beside coreutils' `tail -n 10` on the same file
// in the same run. Also the agent-side costs the issue names: the process's RSS growth during the
// read and the event loop's worst delay (heartbeats, probes and the engine share that loop).
//
//   npm run bench:logs [-- --gib 1 --rounds 20]
//
// The file is real (written, not sparse): CRI lines of ~120 bytes, as containerd writes them.
import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { createWriteStream, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { writeLog } from '../../src/adapters/fs/cri-log.ts';

const arg = (name: string, def: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i >= 0 ? Number(process.argv[i + 1]) : def;
};
const GIB = arg('gib', 1);
const ROUNDS = arg('rounds', 20);

async function writeFile(path: string, bytes: number): Promise<number> {
  const out = createWriteStream(path);
  const line = (i: number) => `2026-12-03T10:00:00.${String(i % 1e9).padStart(9, '0')}Z stdout F ${'x'.repeat(70)} line ${i}\n`;
  let written = 0;
  let i = 0;
  while (written < bytes) {
    let block = '';
    while (block.length < 1 << 20) block += line(i++);
    written += block.length;
    if (!out.write(block)) await new Promise<void>((r) => out.once('drain', () => r()));
  }
  await new Promise<void>((r) => out.end(() => r()));
  return i;
}

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];

async function main() {
  const dir = mkdtempSync(join(tmpdir(), 'ledgerlet-bench-logs-'));
  const file = join(dir, '0.log');
  try {
    const lines = await writeFile(file, GIB * 1024 ** 3);
    const ours: number[] = [];
    const tails: number[] = [];
    let rssGrowth = 0;
    // Enabled for the whole run: nothing in it may block the loop (the baseline runs as a child process).
    const lag = monitorEventLoopDelay({ resolution: 1 });
    lag.enable();
    for (let r = 0; r < ROUNDS; r++) {
      const rss0 = process.memoryUsage().rss;
      const t0 = process.hrtime.bigint();
      let out = '';
      await writeLog(file, { tailLines: 10 }, (t) => void (out += t));
      ours.push(Number(process.hrtime.bigint() - t0) / 1e6);
      rssGrowth = Math.max(rssGrowth, process.memoryUsage().rss - rss0);
      if (!out.endsWith(`line ${lines - 1}\n`) || out.split('\n').length !== 11) throw new Error(`wrong tail: ${out.slice(-200)}`);
      const t1 = process.hrtime.bigint();
      await promisify(execFile)('tail', ['-n', '10', file]);
      tails.push(Number(process.hrtime.bigint() - t1) / 1e6);
    }
    lag.disable();
    console.log(`log file: ${GIB} GiB, ${lines} lines; ${ROUNDS} rounds`);
    console.log(`| what | median | max |`);
    console.log(`| --- | --- | --- |`);
    console.log(`| ledgerlet tail=10 (writeLog) | ${median(ours).toFixed(2)} ms | ${Math.max(...ours).toFixed(2)} ms |`);
    console.log(`| baseline: coreutils tail -n 10 (a process per call) | ${median(tails).toFixed(2)} ms | ${Math.max(...tails).toFixed(2)} ms |`);
    console.log(`| RSS growth during a read (max) | ${(rssGrowth / 1024 / 1024).toFixed(1)} MiB | |`);
    console.log(`| event loop delay during reads (max) | ${(lag.max / 1e6).toFixed(2)} ms | |`);
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

await main();
