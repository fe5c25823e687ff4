// Container logs as `kubectl logs` reads them, from real files: the CRI line format, kubectl's
// options, and files an attacker or a chatty container makes (huge, one endless line, rotated).
import { expect } from 'chai';
import { appendFileSync, mkdtempSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { limit, MAX_LINE_BYTES, parseCriLogLine, writeLog, type LogOptions } from '../../src/adapters/fs/cri-log.ts';

const log = [
  '2026-11-23T10:00:00.100000000Z stdout F one',
  '2026-11-23T10:00:01.200000000Z stderr F two',
  '2026-11-23T10:00:02.300000000Z stdout P thr',
  '2026-11-23T10:00:02.300000001Z stdout F ee',
  '2026-11-23T10:00:03.400000000Z stdout F  spaced  message ',
  '',
].join('\n');

describe('CRI container logs', function () {
  this.timeout(60_000);
  let dir: string;
  before(() => (dir = mkdtempSync(join(tmpdir(), 'ledgerlet-cri-log-'))));
  after(() => rmSync(dir, { recursive: true, force: true }));

  async function read(file: string, opts: LogOptions & { from?: number } = {}) {
    let out = '';
    const r = await writeLog(file, opts, (t) => void (out += t));
    return { out, ...r };
  }
  const file = (name: string, text: string) => (writeFileSync(join(dir, name), text), join(dir, name));

  it('given CRI log lines, when parsed, then time, stream, partial flag and message (spaces kept) come back', () => {
    expect(parseCriLogLine('2026-11-23T10:00:00.1Z stderr F  a b ')).to.deep.equal({ time: '2026-11-23T10:00:00.1Z', stream: 'stderr', partial: false, message: ' a b ' });
    expect(parseCriLogLine('2026-11-23T10:00:00.1Z stdout P part')?.partial).to.equal(true);
    expect(parseCriLogLine('garbage')).to.equal(undefined);
  });

  it('given a log file, when read, then partial entries join into one line and a line still being written is left for later', async () => {
    const f = file('basic.log', log + '2026-11-23T10:00:04.000000000Z stdout F unfinish');
    const r = await read(f);
    expect(r.out).to.equal('one\ntwo\nthree\n spaced  message \n');
    expect(r.next).to.equal(Buffer.byteLength(log));
  });

  it('given tailLines, sinceTime, timestamps and limitBytes, then each shapes the output as kubectl expects (tail first, then since, as upstream)', async () => {
    const f = file('opts.log', log);
    expect((await read(f, { tailLines: 1 })).out).to.equal(' spaced  message \n');
    expect((await read(f, { tailLines: 0 })).out).to.equal('');
    expect((await read(f, { sinceMs: Date.parse('2026-11-23T10:00:01.200Z') })).out).to.equal('two\nthree\n spaced  message \n');
    expect((await read(f, { tailLines: 2, timestamps: true })).out).to.equal('2026-11-23T10:00:02.300000001Z ee\n2026-11-23T10:00:03.400000000Z  spaced  message \n');
    expect((await read(f, { tailLines: 3, sinceMs: Date.parse('2026-11-23T10:00:03Z') })).out).to.equal(' spaced  message \n');
    const limited = await read(f, { limitBytes: 6 });
    expect(limited.out).to.equal('one\ntw');
    expect(limited.written).to.equal(6);
    expect(limit('héllo', 2)).to.equal('h\ufffd');
  });

  it('given a follow offset, then only what came after it is read; a file shorter than the offset (rotated) is read from its start', async () => {
    const f = file('follow.log', log);
    const first = await read(f);
    appendFileSync(f, '2026-11-23T10:00:05.000000000Z stdout F later\n');
    expect((await read(f, { from: first.next })).out).to.equal('later\n');
    writeFileSync(f, '2026-11-23T10:00:06.000000000Z stdout F fresh\n');
    expect((await read(f, { from: first.next + 100 })).out).to.equal('fresh\n');
  });

  it('given a 2 GiB log, when the tail is asked, then it answers from the end without reading the rest', async () => {
    const f = join(dir, 'huge.log');
    writeFileSync(f, '');
    truncateSync(f, 2 * 1024 ** 3); // sparse: 2 GiB of NULs with no newline (a string of it cannot even exist in V8)
    appendFileSync(f, '\n' + Array.from({ length: 20 }, (_, i) => `2026-11-23T10:00:${String(i).padStart(2, '0')}.000000000Z stdout F line ${i}\n`).join(''));
    const rssBefore = process.memoryUsage().rss;
    const t0 = process.hrtime.bigint();
    const r = await read(f, { tailLines: 3 });
    const ms = Number(process.hrtime.bigint() - t0) / 1e6;
    expect(r.out).to.equal('line 17\nline 18\nline 19\n');
    expect(ms, 'a tail must not scan the file').to.be.below(1000);
    expect(process.memoryUsage().rss - rssBefore).to.be.below(64 << 20);
  });

  it('given a line longer than the cap (a hostile container), then it is dropped and the lines around it come through', async () => {
    const f = file('long.log', '2026-11-23T10:00:00.000000000Z stdout F before\n');
    appendFileSync(f, `2026-11-23T10:00:01.000000000Z stdout F ${'x'.repeat(MAX_LINE_BYTES + 10)}\n`);
    appendFileSync(f, '2026-11-23T10:00:02.000000000Z stdout F after\n');
    expect((await read(f)).out).to.equal('before\nafter\n');
  });

  it('given backpressure, then the reader waits for the writer before reading on', async () => {
    const f = file('many.log', Array.from({ length: 20_000 }, (_, i) => `2026-11-23T10:00:00.000000000Z stdout F ${'y'.repeat(40)} ${i}\n`).join(''));
    let inFlight = 0;
    let maxInFlight = 0;
    let out = 0;
    await writeLog(f, {}, async (t) => {
      maxInFlight = Math.max(maxInFlight, ++inFlight);
      await new Promise((r) => setTimeout(r, 1));
      out += t.length;
      inFlight--;
    });
    expect(maxInFlight).to.equal(1);
    expect(out).to.be.above(20_000 * 40);
  });
});
