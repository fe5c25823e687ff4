// The atomic writer (upstream's ..data symlink swap) on real temporary directories.
import { expect } from 'chai';
import { lstatSync, readdirSync, readFileSync, readlinkSync, statSync } from 'node:fs';
import { writeAtomic, payloadHash, validatePath, DATA_DIR, type Payload } from '../../src/effects/volumes/atomic-writer.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const f = (s: string, mode = 0o644) => ({ data: Buffer.from(s), mode });
const at = new Date('2026-11-23T10:00:00Z');

describe('volumes: atomic writer', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('writes a timestamped dir, ..data -> it, and key -> ..data/key links', async () => {
    const dir = dirs.make();
    const r = await writeAtomic(dir, { a: f('one'), 'sub/b': f('two', 0o400) }, at);
    expect(r.changed).to.equal(true);
    const ts = readlinkSync(`${dir}/${DATA_DIR}`);
    expect(ts).to.match(/^\.\.2026_11_23_10_00_00\./);
    expect(readlinkSync(`${dir}/a`)).to.equal('..data/a');
    expect(readlinkSync(`${dir}/sub`)).to.equal('..data/sub');
    expect(readFileSync(`${dir}/a`, 'utf8')).to.equal('one');
    expect(readFileSync(`${dir}/sub/b`, 'utf8')).to.equal('two');
    expect(statSync(`${dir}/a`).mode & 0o777).to.equal(0o644);
    expect(statSync(`${dir}/sub/b`).mode & 0o777).to.equal(0o400);
    expect(r.contentHash).to.match(/^sha256:[0-9a-f]{64}$/);
  });

  it('the same payload again changes nothing; a new payload swaps ..data and drops old names and the old dir', async () => {
    const dir = dirs.make();
    await writeAtomic(dir, { a: f('one'), b: f('x') }, at);
    const first = readlinkSync(`${dir}/${DATA_DIR}`);
    const again = await writeAtomic(dir, { a: f('one'), b: f('x') }, new Date('2026-11-23T10:01:00Z'));
    expect(again.changed).to.equal(false);
    expect(readlinkSync(`${dir}/${DATA_DIR}`)).to.equal(first);
    const next = await writeAtomic(dir, { a: f('uno') }, new Date('2026-11-23T10:02:00Z'));
    expect(next.changed).to.equal(true);
    const second = readlinkSync(`${dir}/${DATA_DIR}`);
    expect(second).to.not.equal(first);
    expect(readFileSync(`${dir}/a`, 'utf8')).to.equal('uno');
    expect(() => lstatSync(`${dir}/b`)).to.throw();
    expect(readdirSync(dir).sort()).to.deep.equal(['..data', second, 'a'].sort());
  });

  it('a mode change alone is a change', async () => {
    const dir = dirs.make();
    await writeAtomic(dir, { a: f('one', 0o644) }, at);
    expect((await writeAtomic(dir, { a: f('one', 0o600) }, at)).changed).to.equal(true);
    expect(statSync(`${dir}/a`).mode & 0o777).to.equal(0o600);
  });

  it('an empty payload still makes ..data (an optional object that does not exist)', async () => {
    const dir = dirs.make();
    await writeAtomic(dir, {}, at);
    expect(readdirSync(dir).filter((n) => !n.startsWith('..'))).to.deep.equal([]);
    expect(lstatSync(`${dir}/${DATA_DIR}`).isSymbolicLink()).to.equal(true);
  });

  it('rejects paths that escape or shadow the writer\'s own names', async () => {
    expect(validatePath('../x')).to.match(/\.\./);
    expect(validatePath('/abs')).to.match(/relative/);
    expect(validatePath('..data')).to.match(/start with/);
    expect(validatePath('a/b')).to.equal(undefined);
    const dir = dirs.make();
    let err: Error | undefined;
    await writeAtomic(dir, { '../evil': f('x') }, at).catch((e: Error) => (err = e));
    expect(err?.message).to.match(/must not contain/);
  });

  it('the content hash depends on contents, paths and modes, not on order', () => {
    const p1: Payload = { a: f('1'), b: f('2') };
    const p2: Payload = { b: f('2'), a: f('1') };
    expect(payloadHash(p1)).to.equal(payloadHash(p2));
    expect(payloadHash(p1)).to.not.equal(payloadHash({ a: f('1'), b: f('3') }));
    expect(payloadHash(p1)).to.not.equal(payloadHash({ a: f('1', 0o600), b: f('2') }));
  });
});
