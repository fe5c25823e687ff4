// A damaged log on a real LevelDB: bytes flipped inside a table file. Reads name the lost seq
// ranges and go on with every readable entry; verify and history say which entries are lost.
import { expect } from 'chai';
import { LogStore, LogDamagedError, logDir } from '../../src/adapters/store/index.ts';
import { runVerify } from '../../src/cli/commands/verify.ts';
import { runHistory } from '../../src/cli/commands/history.ts';
import { runSalvage } from '../../src/cli/commands/salvage.ts';
import { openNodeLog } from '../../src/agent/open-node-log.ts';
import { pino } from 'pino';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { runWithSource } from '../../src/postmortem/cli-common.ts';
import type { AppendDraft } from '../../src/model/entry.ts';
import type { EntryRead } from '../../src/model/entry-codec.ts';
import { verifyLog } from '../../src/runtime/verify.ts';
import { flipBytes, hashTree, largestTable } from '../helpers/damage.ts';
import { counterDecider } from './helpers/test-deciders.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const ENTRIES = 6000;
/** Text like a real entry's (repetitive JSON, so LevelDB stores its blocks snappy-compressed). */
function noise(i: number): string {
  return `container app of pod web-${i % 50} in namespace default restarted `.repeat(4) + i;
}
const draft = (i: number): AppendDraft => ({ kind: 'observation', type: 'Noted', source: 'test', data: { i, noise: noise(i) }, at: new Date(Date.UTC(2025, 0, 1, 0, 0, i)).toISOString() });

/** A log of ENTRIES entries whose tables are on disk (a reopen turns LevelDB's write-ahead file into a table). */
async function writeLog(root: string): Promise<void> {
  const store = await LogStore.open(logDir(root));
  for (let i = 1; i <= ENTRIES; i += 500) await store.append(Array.from({ length: 500 }, (_, k) => draft(i + k)));
  await store.close();
  await (await LogStore.open(logDir(root))).close();
}

async function readAll(store: LogStore, from?: number): Promise<EntryRead[]> {
  const out: EntryRead[] = [];
  for await (const r of store.readRange({ from })) out.push(r);
  return out;
}

describe('a damaged log (bytes flipped in a LevelDB table)', function () {
  this.timeout(60_000);
  const dirs = tempDirs();
  let root: string;
  before(async () => {
    root = dirs.make('ledgerlet-damaged-');
    await writeLog(root);
    flipBytes(largestTable(logDir(root)));
  });
  after(() => dirs.cleanup());

  it('reads every readable entry intact and covers every other seq with a named lost range', async () => {
    const store = await LogStore.open(logDir(root), { readOnly: true });
    try {
      const reads = await readAll(store);
      const lost = reads.filter((r) => !r.ok && r.toSeq !== undefined);
      expect(lost.length, 'the flipped bytes cost at least one range').to.be.greaterThan(0);
      let next = 1;
      for (const r of reads) {
        if (r.ok) {
          expect(r.entry.seq).to.equal(next);
          expect(r.entry.data).to.deep.equal({ i: r.entry.seq, noise: noise(r.entry.seq) });
          next++;
        } else {
          expect(r.seq).to.equal(next);
          expect(r.error).to.match(/lost/);
          next = (r.toSeq ?? r.seq) + 1;
        }
      }
      expect(next - 1).to.equal(ENTRIES);
      const readable = reads.filter((r) => r.ok).length;
      expect(readable).to.be.greaterThan(ENTRIES / 2);
      expect(store.damage.filter((d) => d.where === 'entries').map((d) => [d.fromSeq, d.toSeq])).to.deep.equal(lost.map((r) => (r.ok ? [] : [r.seq, r.toSeq])));
      // Starting inside or after the damage works too.
      const first = lost[0] as { seq: number; toSeq: number };
      const tailReads = await readAll(store, first.seq + 1);
      const t0 = tailReads[0]!;
      expect(t0.ok ? t0.entry.seq : t0.seq).to.equal(first.seq + 1);
      expect(tailReads.filter((r) => r.ok).length).to.equal(reads.filter((r) => r.ok && r.entry.seq > first.seq).length);
    } finally {
      await store.close();
    }
  });

  it('verify lists the lost ranges by seq, keeps going, and exits 1 telling the operator about salvage', async () => {
    const store = await LogStore.open(logDir(root), { readOnly: true });
    let lost: Array<{ fromSeq: number; toSeq: number }>;
    try {
      const report = await verifyLog(store, counterDecider);
      expect(report.ok).to.equal(false);
      expect(report.lost.length).to.be.greaterThan(0);
      lost = report.lost;
      const lostCount = report.lost.reduce((n, l) => n + l.toSeq - l.fromSeq + 1, 0);
      expect(report.entries + lostCount).to.equal(ENTRIES);
    } finally {
      await store.close();
    }
    const lines: string[] = [];
    expect(await runVerify(root, false, async () => counterDecider as never, (l) => void lines.push(l))).to.equal(1);
    const range = (l: { fromSeq: number; toSeq: number }) => (l.fromSeq === l.toSeq ? `entry #${l.fromSeq}` : `entries #${l.fromSeq}..#${l.toSeq}`);
    for (const l of lost) expect(lines.some((x) => x.startsWith(`LOST: ${range(l)} cannot be read`)), lines.join('\n')).to.equal(true);
    expect(lines.join('\n')).to.match(/ledgerlet salvage --root-dir/);
  });

  it('history prints every readable entry and the lost ranges in place, then exits 1 naming the damage', async () => {
    const out: string[] = [];
    const err: string[] = [];
    const code = await runWithSource('history', { rootDir: root }, (src) => runHistory(src, {}, (l) => void out.push(l), (l) => void err.push(l)), (l) => void err.push(l));
    expect(code).to.equal(1);
    expect(out.filter((l) => /lost: the log is damaged/.test(l)).length).to.be.greaterThan(0);
    expect(out.filter((l) => / #\d+ /.test(l) || /#\d+/.test(l)).length).to.be.greaterThan(ENTRIES / 2);
    expect(err.some((l) => /history: the log is damaged: entries: entr(y|ies) #\d+/.test(l)), err.join('\n')).to.equal(true);
  });

  it('the read-only commands leave the damaged directory byte-identical', async () => {
    const before = hashTree(root);
    await runVerify(root, false, async () => counterDecider as never, () => undefined);
    await runWithSource('history', { rootDir: root }, (src) => runHistory(src, {}, () => undefined, () => undefined), () => undefined);
    expect(hashTree(root)).to.deep.equal(before);
  });

  it('salvage copies every readable entry with its seq and records each lost range; the source stays byte-identical', async () => {
    const before = hashTree(root);
    const out = dirs.make('ledgerlet-salvaged-');
    const lines: string[] = [];
    expect(await runSalvage(root, out, (l) => void lines.push(l), (l) => void lines.push(l))).to.equal(0);
    expect(hashTree(root)).to.deep.equal(before);
    const src = await LogStore.open(logDir(root), { readOnly: true });
    const dst = await LogStore.open(logDir(out), { readOnly: true });
    try {
      const want = (await readAll(src)).filter((r) => r.ok || r.toSeq !== undefined);
      const got = await readAll(dst);
      expect(got.every((r) => r.ok), 'the salvaged log reads without damage').to.equal(true);
      expect(got.length).to.equal(want.length);
      for (let i = 0; i < want.length; i++) {
        const w = want[i]!;
        const g = got[i]!;
        if (!g.ok) throw new Error('unreachable');
        if (w.ok) expect(g.entry).to.deep.equal(w.entry);
        else {
          expect(g.entry).to.include({ seq: w.seq, type: 'LogEntriesLost' });
          expect(g.entry.data).to.include({ fromSeq: w.seq, toSeq: w.toSeq, salvagedFrom: logDir(root) });
          expect(lines.some((l) => l.startsWith(`lost: ${w.seq === w.toSeq ? `entry #${w.seq}` : `entries #${w.seq}..#${w.toSeq}`}`))).to.equal(true);
        }
      }
      expect(dst.lastSeq).to.equal(ENTRIES);
      expect(dst.damage).to.deep.equal([]);
      const report = await verifyLog(dst, counterDecider);
      expect(report.ok, JSON.stringify(report.divergence)).to.equal(true);
      expect(report.lost.every((l) => l.recorded)).to.equal(true);
      expect(report.lost.length).to.equal(want.filter((r) => !r.ok).length);
    } finally {
      await src.close();
      await dst.close();
    }
    // A second salvage never writes into an existing log.
    expect(await runSalvage(root, out, () => undefined, (l) => void lines.push(l))).to.equal(1);
    expect(lines[lines.length - 1]).to.match(/already exists/);
  });

  it('the agent start-up moves a damaged log aside, keeps it intact, and starts a new log whose first entry names it', async () => {
    const agentRoot = dirs.make('ledgerlet-damaged-agent-');
    await writeLog(agentRoot);
    flipBytes(largestTable(logDir(agentRoot)));
    // The agent opens its log for writing as on every start, so LevelDB's own bookkeeping (LOG,
    // MANIFEST, CURRENT, the write-ahead file) is rewritten; the tables, which hold the entries and
    // the damage, must reach the forensic copy unchanged.
    const tables = (tree: Record<string, string>) => Object.fromEntries(Object.entries(tree).filter(([f]) => f.endsWith('.ldb')));
    const damaged = tables(hashTree(logDir(agentRoot)));
    expect(Object.keys(damaged).length).to.be.greaterThan(0);
    const now = new Date('2026-12-03T10:00:00.000Z');
    const store = await openNodeLog(agentRoot, pino({ level: 'silent' }), () => now);
    try {
      const aside = join(agentRoot, 'log.corrupt-2026-12-03T10-00-00.000Z');
      expect(readdirSync(agentRoot).sort()).to.deep.equal(['log', 'log.corrupt-2026-12-03T10-00-00.000Z']);
      expect(tables(hashTree(aside)), 'the forensic copy holds the damaged tables, unchanged').to.deep.equal(damaged);
      expect(store.lastSeq).to.equal(1);
      const first = await store.getEntry(1);
      expect(first?.ok && first.entry).to.deep.include({ type: 'LogMovedAside', kind: 'observation', at: now.toISOString() });
      expect(first?.ok && first.entry.data).to.deep.include({ forensicCopy: aside });
      expect(first?.ok && (first.entry.data as { error: string }).error).to.match(/entr(y|ies) #\d+/);
    } finally {
      await store.close();
    }
    // An intact log is opened as it is.
    const again = await openNodeLog(agentRoot, pino({ level: 'silent' }), () => now);
    await again.close();
    expect(existsSync(join(agentRoot, 'log'))).to.equal(true);
    expect(readdirSync(agentRoot).filter((f) => f.startsWith('log.corrupt-'))).to.have.length(1);
  });

  it('a writer finds the damage with checkReadable and gets LogDamagedError naming the lost entries', async () => {
    const copy = dirs.make('ledgerlet-damaged-copy-');
    await writeLog(copy);
    flipBytes(largestTable(logDir(copy)));
    const store = await LogStore.open(logDir(copy));
    try {
      const err = await store.checkReadable(1).then(() => undefined, (e: Error) => e);
      expect(err).to.be.instanceOf(LogDamagedError);
      expect(err!.message).to.match(/entr(y|ies) #\d+/);
    } finally {
      await store.close();
    }
  });
});
