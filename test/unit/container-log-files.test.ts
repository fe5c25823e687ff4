// Container log rotation on real files, as upstream's container log manager names and keeps them.
import { expect } from 'chai';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { rotateIfNeeded, rotationSuffix } from '../../src/adapters/fs/container-log-files.ts';

describe('container log rotation (files)', () => {
  let dir: string;
  let log: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-rotate-'));
    log = join(dir, '0.log');
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));
  const at = (s: number) => new Date(2026, 11, 3, 10, 0, s);
  const reopenWrites = (text: string) => async () => writeFileSync(log, text);

  it('names rotated files with upstream\'s timestamp layout 20060102-150405', () => {
    expect(rotationSuffix(new Date(2026, 0, 2, 3, 4, 5))).to.equal('20260102-030405');
  });

  it('leaves a file under the limit alone', async () => {
    writeFileSync(log, 'x'.repeat(99));
    expect(await rotateIfNeeded(log, { maxBytes: 100, maxFiles: 3 }, at(0), async () => expect.fail('no reopen'))).to.equal(false);
    expect(readdirSync(dir)).to.deep.equal(['0.log']);
  });

  it('rotates at the limit, compresses the older rotated file, and keeps at most maxFiles files', async () => {
    const policy = { maxBytes: 10, maxFiles: 3 };
    for (let i = 0; i < 5; i++) {
      writeFileSync(log, `round ${i} ${'x'.repeat(10)}\n`);
      expect(await rotateIfNeeded(log, policy, at(i), reopenWrites(''))).to.equal(true);
    }
    // live + the newest rotated (plain) + one compressed = 3
    expect(readdirSync(dir).sort()).to.deep.equal(['0.log', '0.log.20261203-100003.gz', '0.log.20261203-100004']);
    expect(gunzipSync(readFileSync(join(dir, '0.log.20261203-100003.gz'))).toString()).to.equal(`round 3 ${'x'.repeat(10)}\n`);
    expect(readFileSync(join(dir, '0.log.20261203-100004'), 'utf8')).to.equal(`round 4 ${'x'.repeat(10)}\n`);
  });

  it('renames the file back when the runtime cannot reopen it, so nothing is lost and the next round retries', async () => {
    writeFileSync(log, 'y'.repeat(20));
    let failure: unknown;
    await rotateIfNeeded(log, { maxBytes: 10, maxFiles: 3 }, at(0), async () => {
      throw new Error('runtime says no');
    }).catch((e) => (failure = e));
    expect((failure as Error).message).to.equal('runtime says no');
    expect(readdirSync(dir)).to.deep.equal(['0.log']);
    expect(readFileSync(log, 'utf8')).to.equal('y'.repeat(20));
  });

  it('removes what an interrupted compression left (.tmp, or a plain file beside its .gz) and never rotates twice into one name', async () => {
    writeFileSync(join(dir, '0.log.20261203-095900.tmp'), 'partial');
    writeFileSync(join(dir, '0.log.20261203-095800'), 'old');
    writeFileSync(join(dir, '0.log.20261203-095800.gz'), 'old compressed');
    writeFileSync(log, 'z'.repeat(20));
    expect(await rotateIfNeeded(log, { maxBytes: 10, maxFiles: 5 }, at(0), reopenWrites(''))).to.equal(true);
    expect(existsSync(join(dir, '0.log.20261203-095900.tmp'))).to.equal(false);
    expect(existsSync(join(dir, '0.log.20261203-095800'))).to.equal(false);
    expect(existsSync(join(dir, '0.log.20261203-095800.gz'))).to.equal(true);
    writeFileSync(log, 'w'.repeat(20));
    expect(await rotateIfNeeded(log, { maxBytes: 10, maxFiles: 5 }, at(0), reopenWrites(''))).to.equal(false);
    expect(readFileSync(log, 'utf8')).to.equal('w'.repeat(20));
  });

  it('asks the runtime to reopen a log file that was removed under it', async () => {
    let reopened = false;
    expect(await rotateIfNeeded(log, { maxBytes: 10, maxFiles: 3 }, at(0), async () => void (reopened = true))).to.equal(false);
    expect(reopened).to.equal(true);
  });
});
