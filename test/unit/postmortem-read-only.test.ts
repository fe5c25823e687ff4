// Reading never writes: every postmortem command and verify, run against a stopped agent's root
// directory, leaves every file of it byte-identical (LevelDB rewrites LOG/MANIFEST/CURRENT on any
// open, so the store reads a private copy); the copy is gone afterwards.
import { expect } from 'chai';
import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore, LogStoreError, logDir } from '../../src/adapters/store/index.ts';
import { runDiff } from '../../src/cli/commands/diff.ts';
import { runExport } from '../../src/cli/commands/export.ts';
import { runHistory } from '../../src/cli/commands/history.ts';
import { runReplay } from '../../src/cli/commands/replay.ts';
import { runVerify } from '../../src/cli/commands/verify.ts';
import { runWhy } from '../../src/cli/commands/why.ts';
import { runWithSource } from '../../src/postmortem/cli-common.ts';
import { nodeDecider } from '../../src/reducers/index.ts';
import { rebuildIncident } from '../fixtures/incident-1/harness.ts';
import { hashTree } from '../helpers/damage.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const NOW = new Date('2030-01-01T00:00:00Z');
async function refusal(p: Promise<unknown>): Promise<Error> {
  try {
    await p;
  } catch (e) {
    return e as Error;
  }
  throw new Error('expected a refusal');
}
const scratchDirs = () => readdirSync(tmpdir()).filter((f) => f.startsWith('ledgerlet-read-')).sort();
const savedTmp = process.env.TMPDIR;

describe('postmortem commands never write to the log they read', () => {
  const dirs = tempDirs();
  let root: string;
  let before: Record<string, string>;
  let scratchBefore: string[];
  const lines: string[] = [];
  const out = (l: string) => void lines.push(l);

  beforeEach(async () => {
    root = dirs.make('ledgerlet-readonly-');
    // A temp dir of this test's own, so other processes' private copies do not show up in it.
    process.env.TMPDIR = dirs.make('ledgerlet-readonly-tmp-');
    expect(await rebuildIncident(root)).to.be.greaterThan(100);
    before = hashTree(root);
    expect(Object.keys(before).some((f) => f.endsWith('CURRENT'))).to.equal(true);
    scratchBefore = scratchDirs();
    lines.length = 0;
  });
  afterEach(() => {
    if (savedTmp === undefined) delete process.env.TMPDIR;
    else process.env.TMPDIR = savedTmp;
    dirs.cleanup();
  });

  // The incident was recorded by older reducers, so verify reports a divergence there (exit 1);
  // what counts here is that it read the whole log and wrote nothing.
  const commands: Array<[string, () => Promise<number>, number]> = [
    ['history', () => runWithSource('history', { rootDir: root }, (src) => runHistory(src, {}, out, out, NOW), out), 0],
    ['why', () => runWithSource('why', { rootDir: root }, (src) => runWhy(src, 'incident/web', {}, out), out), 0],
    ['replay', () => runWithSource('replay', { rootDir: root }, (src) => runReplay(src, { at: '#141' }, out, NOW), out), 0],
    ['diff', () => runWithSource('diff', { rootDir: root }, (src) => runDiff(src, '#45', '#190', {}, out, NOW), out), 0],
    ['export', () => runWithSource('export', { rootDir: root }, (src) => runExport(src, { html: join(dirs.make('ledgerlet-html-'), 'page.html') }, out, out), out), 0],
    ['verify', () => runVerify(root, false, async () => nodeDecider as never, out), 1],
  ];
  for (const [name, run, code] of commands) {
    it(`${name}: every file of the root directory hashes the same before and after`, async () => {
      expect(await run(), lines.join('\n').slice(0, 2000)).to.equal(code);
      expect(lines.length).to.be.greaterThan(0);
      expect(hashTree(root)).to.deep.equal(before);
      expect(scratchDirs(), 'the private copy is removed').to.deep.equal(scratchBefore);
    });
  }

  it('a read-only store refuses every write path', async () => {
    const store = await LogStore.open(logDir(root), { readOnly: true });
    try {
      expect(store.lastSeq).to.be.greaterThan(100);
      expect(await refusal(store.append([{ kind: 'observation', type: 'X', source: 't', data: null, at: NOW }]))).to.be.instanceOf(LogStoreError).with.property('message').match(/read-only/);
      expect(await refusal(store.putSnapshot(store.lastSeq, { state: {}, unfinished: [] }))).to.be.instanceOf(LogStoreError).with.property('message').match(/read-only/);
      expect(await refusal(store.applyRetention({ maxBytes: 1 }, NOW))).to.be.instanceOf(LogStoreError).with.property('message').match(/read-only/);
    } finally {
      await store.close();
    }
    expect(hashTree(root)).to.deep.equal(before);
  });
});
