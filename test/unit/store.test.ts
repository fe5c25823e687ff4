// The log store on a real LevelDB in a temp dir: seq assignment, reads by range/pod/time,
// snapshots, retention, and unreadable entries reported by seq.
import { expect } from 'chai';
import { Level } from 'level';
import { LogStore, LogStoreError, logDir } from '../../src/adapters/store/index.ts';
import { INDEX_EVERY } from '../../src/adapters/store/log-store.ts';
import type { AppendDraft, Entry } from '../../src/model/entry.ts';
import type { EntryRead } from '../../src/model/entry-codec.ts';
import { tempDirs } from './helpers/temp-dir.ts';
import { podRef } from './helpers/test-deciders.ts';

const obs = (i: number, at: string, pod?: number): AppendDraft => ({ kind: 'observation', type: 'Add', source: 'test', data: { i }, at, ...(pod !== undefined ? { pod: podRef(pod) } : {}) });
const minute = (m: number) => new Date(Date.UTC(2024, 0, 1, 0, m)).toISOString();

async function collect(it: AsyncIterable<EntryRead>): Promise<EntryRead[]> {
  const out: EntryRead[] = [];
  for await (const r of it) out.push(r);
  return out;
}
const seqs = (rs: EntryRead[]) => rs.map((r) => (r.ok ? r.entry.seq : -r.seq));

describe('log store', () => {
  const dirs = tempDirs();
  let store: LogStore | undefined;
  afterEach(async () => {
    await store?.close().catch(() => undefined);
    store = undefined;
    dirs.cleanup();
  });

  it('given an empty log, when batches are appended, then seqs are contiguous from 1 and survive reopening', async () => {
    const dir = dirs.make();
    store = await LogStore.open(dir);
    const a = await store.append([obs(1, minute(0)), obs(2, minute(0))]);
    const b = await store.append([obs(3, minute(1))]);
    expect([...a, ...b].map((e) => e.seq)).to.deep.equal([1, 2, 3]);
    await store.close();
    store = await LogStore.open(dir);
    expect(store.lastSeq).to.equal(3);
    const [c] = await store.append([obs(4, minute(2))]);
    expect(c.seq).to.equal(4);
    expect(seqs(await collect(store.readRange()))).to.deep.equal([1, 2, 3, 4]);
  });

  it('given concurrent appends, when they complete, then no seq is duplicated or skipped', async () => {
    store = await LogStore.open(dirs.make());
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store!.append([obs(i, minute(0)), obs(i, minute(0))])));
    const all = results.flat().map((e) => e.seq).sort((x, y) => x - y);
    expect(all).to.deep.equal(Array.from({ length: 40 }, (_, i) => i + 1));
    expect(seqs(await collect(store.readRange()))).to.deep.equal(all);
  });

  it('given a clock that steps back, when appended, then time in the log never decreases', async () => {
    store = await LogStore.open(dirs.make());
    const [x, y] = await store.append([obs(1, minute(5)), obs(2, minute(3))]);
    expect(y.at).to.equal(x.at);
    expect(x.at).to.equal('2024-01-01T00:05:00.000Z');
  });

  it('given entries of several pods, when read by range, pod and time, then each read returns exactly its entries', async () => {
    store = await LogStore.open(dirs.make());
    await store.append([obs(1, minute(0), 1), obs(2, minute(1), 2), obs(3, minute(2), 1), obs(4, minute(3)), obs(5, minute(4), 1)]);
    expect(seqs(await collect(store.readRange({ from: 2, to: 4 })))).to.deep.equal([2, 3, 4]);
    expect(seqs(await collect(store.readPod('uid-1')))).to.deep.equal([1, 3, 5]);
    expect(seqs(await collect(store.readPod('uid-1', { from: 2 })))).to.deep.equal([3, 5]);
    expect(seqs(await collect(store.readPod('uid-9')))).to.deep.equal([]);
    expect(seqs(await collect(store.readTime(minute(1), minute(3))))).to.deep.equal([2, 3, 4]);
    expect(seqs(await collect(store.readTime('2024-01-01T00:01:30Z', minute(10))))).to.deep.equal([3, 4, 5]);
  });

  it('given more entries than one index checkpoint holds, when read by pod before and after reopening, then each pod gets exactly its entries in order', async () => {
    const dir = dirs.make();
    store = await LogStore.open(dir);
    const total = INDEX_EVERY * 2 + 123;
    // Uneven batches so checkpoints fall mid-pod-run; pods 0..6 plus entries without a pod.
    for (let i = 1; i <= total; ) {
      const n = Math.min(1 + (i % 97), total - i + 1);
      await store.append(Array.from({ length: n }, (_, k) => obs(i + k, minute(0), (i + k) % 8 === 7 ? undefined : (i + k) % 8)));
      i += n;
    }
    const want = (pod: number, from = 1, to = total) => Array.from({ length: total }, (_, k) => k + 1).filter((s) => s % 8 === pod && s >= from && s <= to);
    const check = async (s: LogStore) => {
      for (const pod of [0, 3, 6]) expect(seqs(await collect(s.readPod(`uid-${pod}`)))).to.deep.equal(want(pod));
      // A range that starts in stored records and ends among the pending ones.
      expect(seqs(await collect(s.readPod('uid-5', { from: INDEX_EVERY - 50, to: total - 10 })))).to.deep.equal(want(5, INDEX_EVERY - 50, total - 10));
    };
    await check(store);
    const bytes = store.totalBytes;
    await store.close();
    store = await LogStore.open(dir);
    await check(store);
    expect(store.totalBytes).to.equal(bytes);
    expect(store.lastSeq).to.equal(total);
  });

  it('given entries with non-ASCII text, when appended and read back, then the text is unchanged and the byte count matches the stored bytes', async () => {
    const dir = dirs.make();
    store = await LogStore.open(dir);
    const words = ['héllo', 'ok ✓', 'emoji 😀', 'lone \ud800 surrogate', '日本語'];
    await store.append(words.map((w, i) => ({ ...obs(i, minute(0)), data: { message: w }, pod: { uid: `uid-${w}`, namespace: 'default', name: w } })));
    const back = await collect(store.readRange());
    expect(back.map((r) => (r.ok ? (r.entry.data as { message: string }).message : r.error))).to.deep.equal(words);
    expect(back.map((r) => (r.ok ? r.entry.pod?.name : ''))).to.deep.equal(words);
    const total = store.totalBytes;
    await store.close();
    store = undefined;
    const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
    let stored = 0;
    for await (const v of db.sublevel<string, string>('log', { valueEncoding: 'utf8' }).values()) stored += Buffer.byteLength(v);
    await db.close();
    expect(total).to.equal(stored);
  });

  it('given a pod whose uid is a prefix of another, when read by pod, then only its own entries are returned', async () => {
    store = await LogStore.open(dirs.make());
    const p = (uid: string, i: number): AppendDraft => ({ ...obs(i, minute(0)), pod: { uid, namespace: 'a', name: uid } });
    await store.append([p('abc', 1), p('abc:1', 2), p('ab', 3)]);
    expect(seqs(await collect(store.readPod('abc')))).to.deep.equal([1]);
  });

  it('given snapshots written with batches, when listing and loading, then the newest at or before a seq is found', async () => {
    store = await LogStore.open(dirs.make());
    const e1 = store.stamp([obs(1, minute(0)), obs(2, minute(0))]);
    await store.write(e1, { snapshot: { state: { n: 2 }, unfinished: [] } });
    const e2 = store.stamp([obs(3, minute(1))]);
    await store.write(e2, { snapshot: { state: { n: 3 }, unfinished: [] } });
    expect((await store.listSnapshots()).map((h) => h.seq)).to.deep.equal([2, 3]);
    const latest = await store.latestSnapshot();
    expect(latest?.ok && latest.snapshot).to.deep.include({ seq: 3, state: { n: 3 } });
    const older = await store.latestSnapshot(2);
    expect(older?.ok && older.snapshot.state).to.deep.equal({ n: 2 });
  });

  it('given an old log with snapshots, when retention by age runs, then it cuts just after a snapshot and records the horizon', async () => {
    const dir = dirs.make();
    store = await LogStore.open(dir);
    for (let m = 0; m < 10; m++) {
      await store.write(store.stamp([obs(m, minute(m), m % 2)]), m % 3 === 2 ? { snapshot: { state: { m }, unfinished: [] } } : {});
    }
    // Snapshots at seq 3, 6, 9. Keep entries from minute 7 on (seq 8+): the cut must rest on snapshot 6.
    const r = await store.applyRetention({ maxAgeMs: 3 * 60_000 }, new Date(minute(10)));
    expect(r).to.deep.equal({ removedEntries: 6, firstSeq: 7, snapshotSeq: 6 });
    expect(store.horizon).to.deep.equal({ firstSeq: 7, firstAt: minute(6), snapshotSeq: 6 });
    expect(seqs(await collect(store.readRange()))).to.deep.equal([7, 8, 9, 10]);
    expect(seqs(await collect(store.readPod('uid-0')))).to.deep.equal([7, 9]);
    expect((await store.listSnapshots()).map((h) => h.seq)).to.deep.equal([6, 9]);
    await store.close();
    store = await LogStore.open(dir);
    expect(store.firstSeq).to.equal(7);
    expect(store.lastSeq).to.equal(10);
  });

  it('given a log over its byte budget, when retention by size runs, then the retained bytes fit and a snapshot precedes them', async () => {
    store = await LogStore.open(dirs.make());
    for (let i = 0; i < 20; i++) {
      await store.write(store.stamp([obs(i, minute(i))]), i % 5 === 4 ? { snapshot: { state: { i }, unfinished: [] } } : {});
    }
    const perEntry = store.totalBytes / 20;
    const r = await store.applyRetention({ maxBytes: Math.ceil(perEntry * 8) }, new Date(minute(30)));
    // Snapshots at 5, 10, 15, 20: keeping <= 8 entries means cutting after 15 (5 left).
    expect(r.firstSeq).to.equal(16);
    expect(r.snapshotSeq).to.equal(15);
    expect(seqs(await collect(store.readRange()))).to.deep.equal([16, 17, 18, 19, 20]);
  });

  it('given one batch of entries of one pod, when read from inside it and cut by retention mid-batch, then exactly the later entries remain indexed', async () => {
    store = await LogStore.open(dirs.make());
    await store.append([1, 2, 3, 4, 5, 6].map((i) => obs(i, minute(i), 7)));
    expect(seqs(await collect(store.readPod('uid-7', { from: 3, to: 5 })))).to.deep.equal([3, 4, 5]);
    await store.putSnapshot(3, { state: {}, unfinished: [] });
    const r = await store.applyRetention({ maxAgeMs: 0 }, new Date(minute(60)));
    expect(r.firstSeq).to.equal(4);
    expect(seqs(await collect(store.readPod('uid-7')))).to.deep.equal([4, 5, 6]);
    expect(seqs(await collect(store.readPod('uid-7', { from: 5 })))).to.deep.equal([5, 6]);
  });

  it('given no snapshot, when retention runs, then nothing is removed', async () => {
    store = await LogStore.open(dirs.make());
    await store.append([obs(1, minute(0)), obs(2, minute(1))]);
    const r = await store.applyRetention({ maxAgeMs: 1 }, new Date(minute(60)));
    expect(r.removedEntries).to.equal(0);
    expect(seqs(await collect(store.readRange()))).to.deep.equal([1, 2]);
  });

  it('given a corrupted entry on disk, when the log is read, then that seq is reported and the rest is readable', async () => {
    const dir = dirs.make();
    store = await LogStore.open(dir);
    await store.append([obs(1, minute(0)), obs(2, minute(0)), obs(3, minute(0))]);
    await store.close();
    const raw = new Level<string, string>(dir);
    await raw.sublevel<string, string>('log', { valueEncoding: 'utf8' }).put('0000000000000002', '{"v":1,"seq":2,"at":');
    await raw.close();
    store = await LogStore.open(dir);
    const rs = await collect(store.readRange());
    expect(rs.map((r) => r.ok)).to.deep.equal([true, false, true]);
    const bad = rs[1] as { ok: false; seq: number; error: string };
    expect(bad.seq).to.equal(2);
    expect(bad.error).to.match(/not valid JSON/);
  });

  it('given a log held open by another handle, when opened again, then a readable lock error is thrown', async () => {
    const dir = dirs.make();
    store = await LogStore.open(dir);
    let err: unknown;
    try {
      await LogStore.open(dir);
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LogStoreError);
    expect((err as Error).message).to.match(/locked by another process/);
  });

  it('given a root dir without a log, when opened read-only, then the error says there is no log', async () => {
    let err: unknown;
    try {
      await LogStore.open(logDir(dirs.make()), { createIfMissing: false });
    } catch (e) {
      err = e;
    }
    expect(err).to.be.instanceOf(LogStoreError);
    expect((err as Error).message).to.match(/no log at|cannot open/);
  });

  it('given a draft carrying a token, when appended, then the stored entry holds no token', async () => {
    store = await LogStore.open(dirs.make());
    const [e] = await store.append([{ kind: 'observation', type: 'Cfg', source: 'test', at: minute(0), data: { token: 's3cr3t' } }]);
    const [r] = await collect(store.readRange());
    expect(JSON.stringify((r as { entry: Entry }).entry)).not.to.contain('s3cr3t');
    expect(JSON.stringify(e)).not.to.contain('s3cr3t');
  });
});
