// kill -9 of a writer mid-stream: reopening must yield an exact prefix of what was appended — every
// acknowledged batch present, no torn entry, no gap — and appending must continue from there.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { LogStore } from '../../src/adapters/store/index.ts';
import { encodeEntry } from '../../src/model/entry-codec.ts';
import { expectedDraft } from './helpers/log-crash-content.ts';

const writer = fileURLToPath(new URL('./helpers/log-writer.ts', import.meta.url));

/** Start the writer and SIGKILL it once it has acknowledged at least `minSeq`. */
function runAndKill(dir: string, minSeq: number): Promise<number> {
  return new Promise((resolve, reject) => {
    const child: ChildProcess = spawn(process.execPath, ['--import', 'tsx', writer, dir, '150'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let acked = 0;
    let buf = '';
    let stderr = '';
    child.stderr!.on('data', (d) => (stderr += d));
    child.stdout!.on('data', (d: Buffer) => {
      buf += d.toString();
      const lines = buf.split('\n');
      buf = lines.pop()!;
      for (const l of lines) acked = Math.max(acked, Number(l));
      if (acked >= minSeq && !child.killed) child.kill('SIGKILL');
    });
    child.on('exit', (code, signal) => {
      if (signal === 'SIGKILL') resolve(acked);
      else reject(new Error(`writer exited on its own (code ${code}): ${stderr}`));
    });
  });
}

describe('log crash safety (kill -9 of a real writer process)', function () {
  this.timeout(120_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ledgerlet-crash-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  for (let round = 1; round <= 3; round++) {
    it(`round ${round}: after SIGKILL mid-stream, the reopened log is an exact, gap-free prefix holding every acknowledged entry`, async () => {
      let before = 0;
      {
        const s = await LogStore.open(dir);
        before = s.lastSeq;
        await s.close();
      }
      const acked = await runAndKill(dir, before + 6000);
      const store = await LogStore.open(dir);
      try {
        expect(store.lastSeq).to.be.at.least(acked);
        expect(store.lastSeq).to.be.greaterThan(before);
        let expectedSeq = 1;
        for await (const r of store.readRange()) {
          if (!r.ok) throw new Error(`torn or unreadable entry at seq ${r.seq}: ${r.error}`);
          expect(r.entry.seq).to.equal(expectedSeq);
          const want = expectedDraft(expectedSeq);
          // The stored bytes equal what the writer was asked to append at this seq.
          expect(encodeEntry(r.entry)).to.equal(encodeEntry({ ...want, v: r.entry.v, seq: expectedSeq, at: new Date(want.at).toISOString() } as never));
          expectedSeq++;
        }
        expect(expectedSeq - 1).to.equal(store.lastSeq);
        // The byte count is checkpointed with the index and rebuilt from the entries after it.
        let bytes = 0;
        for await (const v of (store as unknown as { log: { values(): AsyncIterable<string> } }).log.values()) bytes += Buffer.byteLength(v);
        expect(store.totalBytes).to.equal(bytes);
        // The by-pod index lags the log by up to one checkpoint; reopening rebuilds the rest, so it
        // names exactly the pod entries.
        let indexed = 0;
        for await (const r of store.readPod('uid-3')) {
          if (!r.ok) throw new Error(`index entry ${r.seq}: ${r.error}`);
          expect(r.entry.pod?.uid).to.equal('uid-3');
          indexed++;
        }
        const expectedIndexed = Array.from({ length: store.lastSeq }, (_, i) => i + 1).filter((s) => s % 2 === 0 && s % 7 === 3).length;
        expect(indexed).to.equal(expectedIndexed);
      } finally {
        await store.close();
      }
    });
  }
});
