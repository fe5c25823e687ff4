// The node log's directory is 0700 and every file in it 0600, including the files LevelDB creates
// long after start-up (tables written when the memtable is flushed, a new MANIFEST, LOG).
import { expect } from 'chai';
import { mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { guardLogDir } from '../../src/adapters/fs/private-dirs.ts';
import { LogStore } from '../../src/adapters/store/index.ts';

describe('log directory permissions', function () {
  this.timeout(120_000);
  it('files LevelDB creates while the log is open (new .ldb tables) are 0600, the directory 0700', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledgerlet-logperm-'));
    const dir = join(root, 'log');
    const guard = await guardLogDir(dir);
    const store = await LogStore.open(dir);
    try {
      // ~9 MB of entries: more than LevelDB's 4 MB write buffer, so tables are flushed while open
      const pad = 'x'.repeat(300);
      for (let i = 0; i < 30_000; i += 1000) {
        await store.append(Array.from({ length: 1000 }, (_, j) => ({ kind: 'observation' as const, type: 'Filler', source: 'test', at: new Date(Date.UTC(2024, 0, 1) + i + j), data: { pad, i: i + j } })));
      }
      let tables: string[] = [];
      let loose: string[] = [];
      for (let t = 0; t < 100; t++) {
        const files = readdirSync(dir);
        tables = files.filter((f) => f.endsWith('.ldb'));
        loose = files.filter((f) => (statSync(join(dir, f)).mode & 0o777) !== 0o600);
        if (tables.length && !loose.length) break;
        await new Promise((r) => setTimeout(r, 100));
      }
      expect(tables, 'tables flushed while open').to.not.be.empty;
      expect(loose, 'files not 0600').to.deep.equal([]);
      expect(statSync(dir).mode & 0o777).to.equal(0o700);
    } finally {
      await store.close();
      guard.close();
      rmSync(root, { recursive: true, force: true });
    }
  });

  it('the guard is quiet once the files are 0600: its own chmods do not wake it again (no busy loop)', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledgerlet-logperm-'));
    const dir = join(root, 'log');
    const guard = await guardLogDir(dir);
    try {
      writeFileSync(join(dir, 'LOG'), 'x', { mode: 0o644 });
      for (let t = 0; t < 50 && (statSync(join(dir, 'LOG')).mode & 0o777) !== 0o600; t++) await new Promise((r) => setTimeout(r, 20));
      expect(statSync(join(dir, 'LOG')).mode & 0o777).to.equal(0o600);
      // A guard answering its own chmod events spins: most of a core (it was ~70 % in the agent).
      const cpu = process.cpuUsage();
      await new Promise((r) => setTimeout(r, 1000));
      const used = process.cpuUsage(cpu);
      expect((used.user + used.system) / 1000, 'ms of CPU in 1 s of idling').to.be.below(250);
    } finally {
      guard.close();
      rmSync(root, { recursive: true, force: true });
    }
  });
});
