// `ledgerlet salvage`: copy every readable entry and snapshot of a (damaged) log into a new log.
// Seqs are kept, so causes still point at the right entries; each lost range becomes one
// LogEntriesLost entry at its first seq, which readers and verify take as a recorded gap. The
// source is read from a private copy and never written.
import { existsSync, mkdirSync } from 'node:fs';
import { LogStore, logDir } from '../adapters/store/index.ts';
import { SCHEMA_VERSION, type Entry } from '../model/entry.ts';
import { LOG_ENTRIES_LOST, type LogEntriesLost } from '../model/log-damage.ts';
import { PostmortemError } from './source.ts';

export interface SalvageReport {
  entriesCopied: number;
  lost: Array<{ fromSeq: number; toSeq: number; error: string }>;
  snapshotsCopied: number;
  snapshotsUnreadable: number[];
  firstSeq: number;
  lastSeq: number;
}

const BATCH = 1000;

export async function salvageLog(rootDir: string, outDir: string): Promise<SalvageReport> {
  const target = logDir(outDir);
  if (existsSync(target)) throw new PostmortemError(`${target} already exists: salvage writes a new log and never into an existing one`);
  const src = await LogStore.open(logDir(rootDir), { readOnly: true });
  const report: SalvageReport = { entriesCopied: 0, lost: [], snapshotsCopied: 0, snapshotsUnreadable: [], firstSeq: src.firstSeq, lastSeq: 0 };
  let dst: LogStore | undefined;
  try {
    mkdirSync(outDir, { recursive: true, mode: 0o700 });
    dst = await LogStore.open(target);
    const out = dst;
    let batch: Entry[] = [];
    const flush = async () => {
      if (batch.length === 0) return;
      await out.importEntries(batch);
      report.entriesCopied += batch.length;
      batch = [];
    };
    const gap = async (fromSeq: number, toSeq: number, error: string) => {
      await flush();
      const data: LogEntriesLost = { fromSeq, toSeq, error, salvagedFrom: logDir(rootDir) };
      // Time of the entry before the gap: the log's time never runs backwards.
      const at = out.lastSeq > 0 ? out.lastAt : src.horizon?.firstAt ?? new Date(0).toISOString();
      await out.importEntries([{ v: SCHEMA_VERSION, seq: fromSeq, at, kind: 'observation', type: LOG_ENTRIES_LOST, source: 'salvage', data }]);
      report.lost.push({ fromSeq, toSeq, error });
    };

    const h = src.horizon;
    let from = 1;
    if (h) {
      const snap = await src.getSnapshot(h.snapshotSeq);
      const head = (await src.listSnapshots()).find((x) => x.seq === h.snapshotSeq);
      if (snap?.ok && head) {
        await dst.startAtHorizon(h, { state: snap.snapshot.state, unfinished: snap.snapshot.unfinished, rulesVersion: snap.snapshot.rulesVersion }, snap.snapshot.at, head.logBytes);
        report.snapshotsCopied++;
        from = h.firstSeq;
      } else {
        await gap(1, h.firstSeq - 1, `removed by retention, and the snapshot that stood for them (seq ${h.snapshotSeq}) cannot be read`);
        from = h.firstSeq;
      }
    }
    for await (const r of src.readRange({ from })) {
      if (r.ok) {
        batch.push(r.entry);
        if (batch.length >= BATCH) await flush();
      } else await gap(r.seq, r.toSeq ?? r.seq, r.error);
    }
    await flush();
    report.lastSeq = dst.lastSeq;
    for await (const snap of src.snapshotsNewestFirst()) {
      if (!snap.ok) {
        report.snapshotsUnreadable.push(snap.seq);
        continue;
      }
      const seq = snap.snapshot.seq;
      if (seq === h?.snapshotSeq && from === h.firstSeq && report.snapshotsCopied > 0) continue;
      if (seq < dst.firstSeq - 1 || seq > dst.lastSeq) continue;
      await dst.putSnapshot(seq, { state: snap.snapshot.state, unfinished: snap.snapshot.unfinished, rulesVersion: snap.snapshot.rulesVersion });
      report.snapshotsCopied++;
    }
    return report;
  } finally {
    await dst?.close();
    await src.close();
  }
}
