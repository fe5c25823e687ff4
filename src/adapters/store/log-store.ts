// The node state log on LevelDB: sublevels `log` (seq → entry), `by-pod` (uid:firstSeq → seqs),
// `snapshots` (head:/body: records) and `meta` (checkpoint, horizon, format). Every append is one
// atomic LevelDB batch, so a crash leaves an exact prefix of what was appended: no torn entry, no gap.
// The by-pod index and the byte count are derived data: they are kept in memory and checkpointed
// every INDEX_EVERY entries (riding on an append's batch), and open() rebuilds whatever a crash
// lost from the entries after the last checkpoint. Appends therefore write little besides entries.
import { cpSync, existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import type { AbstractSublevel } from 'abstract-level';
import type { AppendDraft, Entry } from '../../model/entry.ts';
import { SCHEMA_VERSION } from '../../model/entry.ts';
import { decodeEntry, encodeEntry, type EntryRead } from '../../model/entry-codec.ts';
import { lostRange } from '../../model/log-damage.ts';
import { redactSecrets } from '../../model/entry-redact.ts';
import { isEmpty as noSecretsHeld, scrub } from '../../runtime/secret-values.ts';
import { parsePodKey, parseSeqKey, podKey, podKeyRange, seqKey, snapshotBodyKey, snapshotHeadKey } from './keys.ts';
import { decodeMeta, HorizonMeta, TailMeta } from './meta-codec.ts';
import { decodeSnapshot, decodeSnapshotHead, SNAPSHOT_VERSION, type SnapshotHead, type SnapshotRead } from './snapshot-codec.ts';

type Sub = AbstractSublevel<Level<string, string>, string | Buffer | Uint8Array, string, string>;
type RawOp = { type: 'put'; key: string; value: string };
type BatchOp = { type: 'put'; sublevel: Sub; key: string; value: string } | { type: 'del'; sublevel: Sub; key: string };

export interface LogStoreOptions {
  /** Default true; false makes opening a missing log an error (read-only commands). */
  createIfMissing?: boolean;
  /**
   * Open a private copy of the directory (LevelDB writes LOG, MANIFEST and CURRENT on every open,
   * so it cannot open in place without changing it): the original stays byte-identical, every
   * write path is refused, and damage is reported (`damage`) instead of failing the open.
   */
  readOnly?: boolean;
}

/** A part of the log LevelDB could not read (a damaged table): lost entries, or a record. */
export interface LogDamage {
  where: 'entries' | 'snapshots' | 'index' | 'meta';
  /** For entries: the lost range, inclusive. */
  fromSeq?: number;
  toSeq?: number;
  error: string;
}

export interface SeqRange {
  from?: number;
  to?: number;
}

/** What the engine wants snapshotted with a batch: the state after its last entry. */
export interface SnapshotInput<S = unknown> {
  state: S;
  unfinished: Entry[];
  /** The rules version in force at the snapshot's seq (see src/reducers/rules-version.ts). */
  rulesVersion?: number;
}

export interface RetentionPolicy {
  maxAgeMs?: number;
  maxBytes?: number;
}

export interface RetentionResult {
  removedEntries: number;
  firstSeq: number;
  snapshotSeq?: number;
}

/** A failure an operator can act on (locked database, missing log, ...). */
export class LogStoreError extends Error {
  override name = 'LogStoreError';
}

/** The log's files are damaged (LevelDB reports corruption): read it read-only, salvage it or move it aside. */
export class LogDamagedError extends LogStoreError {
  override name = 'LogDamagedError';
}

export function isCorruption(err: unknown): boolean {
  const e = err as { code?: string; cause?: { code?: string }; message?: string } | undefined;
  return e?.code === 'LEVEL_CORRUPTION' || e?.cause?.code === 'LEVEL_CORRUPTION' || /Corruption:/.test(e?.message ?? '');
}

const FORMAT = 'ledgerlet-log/1';
const READ_CHUNK = 1000;
/** Entries between index checkpoints; bounds both the memory held and the rescan after a crash. */
export const INDEX_EVERY = 4096;

export class LogStore {
  /** Next seq to stamp; entries stamped but not yet written sit between writtenSeq and this. */
  private nextSeq: number;
  private stampedAt: string;
  private writtenSeq: number;
  private writtenAt: string;
  private bytes: number;
  /** Index of entries written since the last checkpoint (all seqs above checkpointSeq), by pod uid. */
  private pendingIndex = new Map<string, number[]>();
  private pendingEntries = 0;
  private checkpointSeq: number;
  private writeChain: Promise<unknown> = Promise.resolve();
  private horizonMeta: HorizonMeta | undefined;
  private readonly logPrefix: string;
  private readonly podPrefix: string;
  private readonly metaPrefix: string;
  private readonly damageSeen = new Map<string, LogDamage>();
  /** Private copy opened by a read-only store; removed on close. */
  private scratch: string | undefined;
  private readOnly = false;

  private constructor(
    private readonly db: Level<string, string>,
    private readonly log: Sub,
    private readonly byPod: Sub,
    private readonly snaps: Sub,
    private readonly meta: Sub,
    tail: TailMeta,
    horizon: HorizonMeta | undefined,
  ) {
    this.checkpointSeq = tail.lastSeq;
    this.writtenSeq = tail.lastSeq;
    this.writtenAt = tail.lastAt;
    this.nextSeq = tail.lastSeq + 1;
    this.stampedAt = tail.lastAt;
    this.bytes = tail.bytes;
    this.horizonMeta = horizon;
    this.logPrefix = log.prefix;
    this.podPrefix = byPod.prefix;
    this.metaPrefix = meta.prefix;
  }

  static async open(dir: string, opts: LogStoreOptions = {}): Promise<LogStore> {
    const readOnly = opts.readOnly === true;
    if ((readOnly || opts.createIfMissing === false) && !existsSync(dir)) throw new LogStoreError(`no log at ${dir}`);
    const scratch = readOnly ? mkdtempSync(join(tmpdir(), 'ledgerlet-read-')) : undefined;
    const where = scratch ? join(scratch, 'log') : dir;
    if (scratch) {
      try {
        cpSync(dir, where, { recursive: true });
      } catch (err) {
        rmSync(scratch, { recursive: true, force: true });
        throw new LogStoreError(`cannot copy the log at ${dir} to read it: ${(err as Error).message}`);
      }
    }
    const db = new Level<string, string>(where, { valueEncoding: 'utf8' });
    try {
      await db.open({ createIfMissing: readOnly ? false : opts.createIfMissing ?? true });
    } catch (err) {
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      const text = describeOpenError(dir, err);
      throw isCorruption(err) || isCorruption((err as { cause?: unknown }).cause) ? new LogDamagedError(text) : new LogStoreError(text);
    }
    const sub = (name: string): Sub => db.sublevel<string, string>(name, { valueEncoding: 'utf8' });
    const log = sub('log');
    const byPod = sub('by-pod');
    const snaps = sub('snapshots');
    const meta = sub('meta');
    const damage: LogDamage[] = [];
    const fail = async (err: unknown): Promise<never> => {
      await db.close().catch(() => undefined);
      if (scratch) rmSync(scratch, { recursive: true, force: true });
      throw err;
    };
    // A damaged meta record fails a writer's open; a reader goes on without it and says so.
    const readMeta = async (key: string): Promise<string | undefined> => {
      try {
        return await meta.get(key);
      } catch (err) {
        if (!isCorruption(err)) return fail(err);
        if (!readOnly) return fail(new LogDamagedError(`the log at ${dir} is damaged (its ${key} record cannot be read: ${(err as Error).message})`));
        damage.push({ where: 'meta', error: `the ${key} record cannot be read: ${(err as Error).message}` });
        return undefined;
      }
    };
    const format = await readMeta('format');
    if (format === undefined && !readOnly) await meta.put('format', FORMAT);
    else if (format !== undefined && format !== FORMAT) {
      await fail(new LogStoreError(`${dir} holds log format ${JSON.stringify(format)}; this ledgerlet reads ${FORMAT}`));
    }
    const tail = decodeMeta(TailMeta, await readMeta('tail')) ?? { lastSeq: 0, lastAt: '1970-01-01T00:00:00.000Z', bytes: 0 };
    const horizon = decodeMeta(HorizonMeta, await readMeta('horizon'));
    const store = new LogStore(db, log, byPod, snaps, meta, tail, horizon);
    store.readOnly = readOnly;
    store.scratch = scratch;
    for (const d of damage) store.noteDamage(d);
    try {
      // A crash during retention leaves entries below the recorded horizon: finish removing them.
      if (horizon && !readOnly) await store.removeBelow(horizon.firstSeq, horizon.snapshotSeq);
      await store.recoverAfterCheckpoint();
    } catch (err) {
      if (!isCorruption(err)) return fail(err);
      if (!readOnly) return fail(new LogDamagedError(`the log at ${dir} is damaged: ${(err as Error).message}`));
      store.noteDamage({ where: 'entries', fromSeq: store.writtenSeq + 1, error: `the end of the log cannot be read: ${(err as Error).message}` });
    }
    return store;
  }

  /** Damage met so far by this store's reads (each range once), in the order found. */
  get damage(): LogDamage[] {
    return [...this.damageSeen.values()];
  }

  private noteDamage(d: LogDamage): void {
    const key = `${d.where}:${d.fromSeq ?? ''}:${d.toSeq ?? ''}`;
    if (!this.damageSeen.has(key)) this.damageSeen.set(key, d);
  }

  private refuseWrites(what: string): void {
    if (this.readOnly) throw new LogStoreError(`cannot ${what}: the log is open read-only`);
  }

  /** Seq of the last entry written (0 for an empty log). */
  get lastSeq(): number {
    return this.writtenSeq;
  }

  get lastAt(): string {
    return this.writtenAt;
  }

  /** First retained seq: 1 unless retention removed older entries. */
  get firstSeq(): number {
    return this.horizonMeta?.firstSeq ?? 1;
  }

  /** Where retention cut the log, if it has; readers say "before the retention horizon". */
  get horizon(): HorizonMeta | undefined {
    return this.horizonMeta;
  }

  /** Total encoded bytes of every entry ever appended (retained or not). */
  get totalBytes(): number {
    return this.bytes;
  }

  /**
   * Assign seq, normalised time and schema version to drafts without writing them. Time never
   * runs backwards within the log (a clock step back is clamped), so time-range reads can bisect.
   * The caller must write the result with write() before stamping again is observed by readers.
   */
  stamp(drafts: readonly AppendDraft[]): Entry[] {
    const out: Entry[] = new Array(drafts.length);
    // Registered secret values are scrubbed from every string of the data before it is stamped;
    // with none held (most of the time on most nodes) the walk only redacts by field name.
    const scrubber = noSecretsHeld() ? undefined : scrub;
    for (let i = 0; i < drafts.length; i++) {
      const d = drafts[i];
      let at = typeof d.at === 'string' ? normaliseTime(d.at) : d.at.toISOString();
      if (at < this.stampedAt) at = this.stampedAt;
      this.stampedAt = at;
      const e: Entry = { v: SCHEMA_VERSION, seq: this.nextSeq++, at, kind: d.kind, type: d.type, source: d.source, data: redactSecrets(d.data === undefined ? null : d.data, scrubber) };
      if (d.cause !== undefined) e.cause = d.cause;
      if (d.pod !== undefined) e.pod = { uid: d.pod.uid, namespace: d.pod.namespace, name: d.pod.name };
      if (d.reason !== undefined) e.reason = d.reason;
      out[i] = e;
    }
    return out;
  }

  /** Stamp and write in one LevelDB batch. */
  append(drafts: readonly AppendDraft[]): Promise<Entry[]> {
    const entries = this.stamp(drafts);
    return this.write(entries).then(() => entries);
  }

  /**
   * Write stamped entries (and optionally the state snapshot after the last of them) as ONE
   * LevelDB batch. Writes are serialised in stamp order; a failed write un-stamps everything not
   * yet written so the log never gets a gap. `sync` makes the batch durable before it resolves.
   */
  write(entries: readonly Entry[], opts: { snapshot?: SnapshotInput; encoded?: readonly string[]; sync?: boolean } = {}): Promise<void> {
    return this.writeBatch(entries, opts, false);
  }

  private writeBatch(entries: readonly Entry[], opts: { snapshot?: SnapshotInput; encoded?: readonly string[]; sync?: boolean }, imported: boolean): Promise<void> {
    const run = async () => {
      this.refuseWrites('append');
      if (entries.length === 0) return;
      if (!imported && entries[0].seq !== this.writtenSeq + 1) {
        throw new LogStoreError(`write out of order: expected seq ${this.writtenSeq + 1}, got ${entries[0].seq}`);
      }
      // Hot path: keys are prefixed by hand and written through the root database (no per-op
      // sublevel encoding); the by-pod index only goes into memory unless a checkpoint is due.
      const ops: RawOp[] = [];
      const byPod = new Map<string, number[]>();
      let bytes = this.bytes;
      for (let i = 0; i < entries.length; i++) {
        const e = entries[i];
        const text = opts.encoded?.[i] ?? encodeEntry(e);
        bytes += Buffer.byteLength(text);
        ops.push({ type: 'put', key: this.logPrefix + seqKey(e.seq), value: text });
        if (e.pod) {
          const seqs = byPod.get(e.pod.uid);
          if (seqs) seqs.push(e.seq);
          else byPod.set(e.pod.uid, [e.seq]);
        }
      }
      const last = entries[entries.length - 1];
      const checkpoint = this.pendingEntries + entries.length >= INDEX_EVERY;
      if (checkpoint) this.checkpointOps(ops, byPod, { lastSeq: last.seq, lastAt: last.at, bytes });
      if (opts.snapshot) for (const op of this.snapshotOps(last.seq, last.at, bytes, opts.snapshot)) ops.push(toRaw(op));
      try {
        // sync: fsync LevelDB's write-ahead log before resolving, which makes this batch and every
        // batch before it survive power loss, not only a crash of the process
        await this.db.batch(ops, opts.sync ? { sync: true } : {});
      } catch (err) {
        this.nextSeq = this.writtenSeq + 1;
        this.stampedAt = this.writtenAt;
        throw err;
      }
      this.writtenSeq = last.seq;
      this.writtenAt = last.at;
      this.bytes = bytes;
      if (imported) {
        this.nextSeq = last.seq + 1;
        this.stampedAt = last.at;
      }
      if (checkpoint) this.checkpointDone(last.seq);
      else this.addPending(byPod, entries.length);
    };
    const p = this.writeChain.then(run);
    this.writeChain = p.catch(() => undefined);
    return p;
  }

  /** Index records for everything pending plus `extra`, and the checkpoint that says so. */
  private checkpointOps(ops: RawOp[], extra: Map<string, number[]>, tail: TailMeta): void {
    for (const [uid, seqs] of this.pendingIndex) {
      const more = extra.get(uid);
      const all = more ? seqs.concat(more) : seqs;
      ops.push({ type: 'put', key: this.podPrefix + podKey(uid, all[0]), value: encodeSeqs(all) });
    }
    for (const [uid, seqs] of extra) {
      if (!this.pendingIndex.has(uid)) ops.push({ type: 'put', key: this.podPrefix + podKey(uid, seqs[0]), value: encodeSeqs(seqs) });
    }
    ops.push({ type: 'put', key: this.metaPrefix + 'tail', value: JSON.stringify(tail) });
  }

  private checkpointDone(seq: number): void {
    this.pendingIndex = new Map();
    this.pendingEntries = 0;
    this.checkpointSeq = seq;
  }

  private addPending(byPod: Map<string, number[]>, entries: number): void {
    for (const [uid, seqs] of byPod) {
      const have = this.pendingIndex.get(uid);
      if (have) for (const s of seqs) have.push(s);
      else this.pendingIndex.set(uid, seqs);
    }
    this.pendingEntries += entries;
  }

  /** Write the pending index and the checkpoint now (close, retention). */
  private async checkpointNow(): Promise<void> {
    await this.writeChain;
    if (this.readOnly || this.checkpointSeq === this.writtenSeq) return;
    const ops: RawOp[] = [];
    this.checkpointOps(ops, new Map(), { lastSeq: this.writtenSeq, lastAt: this.writtenAt, bytes: this.bytes });
    await this.db.batch(ops);
    this.checkpointDone(this.writtenSeq);
  }

  /**
   * After a crash the checkpoint lags the log: refold the entries after it into the pending index,
   * the byte count and the tail. The last key is the ground truth for the tail.
   */
  private async recoverAfterCheckpoint(): Promise<void> {
    const it = this.log.iterator({ gt: seqKey(this.checkpointSeq) });
    const byPod = new Map<string, number[]>();
    let n = 0;
    try {
      for (;;) {
        const chunk = await it.nextv(READ_CHUNK);
        if (chunk.length === 0) break;
        for (const [k, v] of chunk) {
          const seq = parseSeqKey(k);
          if (!Number.isFinite(seq)) continue;
          this.bytes += Buffer.byteLength(v);
          const uid = extractPodUid(v);
          if (uid !== undefined) {
            const seqs = byPod.get(uid);
            if (seqs) seqs.push(seq);
            else byPod.set(uid, [seq]);
          }
          this.writtenSeq = seq;
          this.writtenAt = extractAt(v) ?? this.writtenAt;
          n++;
        }
      }
    } finally {
      await it.close();
    }
    this.nextSeq = this.writtenSeq + 1;
    this.stampedAt = this.writtenAt;
    this.addPending(byPod, n);
  }

  private snapshotOps(seq: number, at: string, logBytes: number, snap: SnapshotInput): BatchOp[] {
    const body = JSON.stringify({ v: SNAPSHOT_VERSION, seq, at, state: snap.state, unfinished: snap.unfinished, ...(snap.rulesVersion !== undefined ? { rulesVersion: snap.rulesVersion } : {}) });
    const head: SnapshotHead = { v: SNAPSHOT_VERSION, seq, at, logBytes, stateBytes: Buffer.byteLength(body) };
    return [
      { type: 'put', sublevel: this.snaps, key: snapshotBodyKey(seq), value: body },
      { type: 'put', sublevel: this.snaps, key: snapshotHeadKey(seq), value: JSON.stringify(head) },
    ];
  }

  /** Store a snapshot of the state after `seq` (which must already be written). */
  async putSnapshot(seq: number, snap: SnapshotInput): Promise<void> {
    await this.writeChain;
    this.refuseWrites('store a snapshot');
    if (seq > this.writtenSeq || seq < this.firstSeq - 1) throw new LogStoreError(`cannot snapshot seq ${seq}: log holds ${this.firstSeq}..${this.writtenSeq}`);
    let logBytes = this.bytes;
    let at = this.writtenAt;
    if (seq < this.writtenSeq) {
      // Cumulative bytes at seq = total minus the entries after it.
      for await (const [k, v] of this.log.iterator({ gt: seqKey(seq) })) {
        void k;
        logBytes -= Buffer.byteLength(v);
      }
      const own = await this.log.get(seqKey(seq));
      at = own ? extractAt(own) ?? at : at;
    }
    await this.db.batch(this.snapshotOps(seq, at, logBytes, snap));
  }

  /** Snapshot heads, oldest first (a damaged listing yields the heads read before the damage). */
  async listSnapshots(): Promise<SnapshotHead[]> {
    const out: SnapshotHead[] = [];
    try {
      for await (const v of this.snaps.values({ gte: 'head:', lt: 'head;' })) {
        const h = decodeSnapshotHead(v);
        if (h) out.push(h);
      }
    } catch (err) {
      if (!isCorruption(err)) throw err;
      this.noteDamage({ where: 'snapshots', error: `the snapshot list cannot be read in full: ${(err as Error).message}` });
    }
    return out;
  }

  async getSnapshot<S = unknown>(seq: number): Promise<SnapshotRead<S> | undefined> {
    let text: string | undefined;
    try {
      text = await this.snaps.get(snapshotBodyKey(seq));
    } catch (err) {
      if (!isCorruption(err)) throw err;
      this.noteDamage({ where: 'snapshots', fromSeq: seq, toSeq: seq, error: `snapshot at seq ${seq} cannot be read: ${(err as Error).message}` });
      return { ok: false, seq, error: `snapshot cannot be read, the log is damaged there (${(err as Error).message})` };
    }
    return text === undefined ? undefined : decodeSnapshot<S>(text, seq);
  }

  /**
   * Snapshots at or before maxSeq, newest first, each read or the reason it cannot be: replay takes
   * the first readable one, so one damaged snapshot costs a longer fold, not the state.
   */
  async *snapshotsNewestFirst<S = unknown>(maxSeq = Number.MAX_SAFE_INTEGER): AsyncGenerator<SnapshotRead<S>> {
    // Seqs from both the heads and the body keys: either listing may be the damaged one.
    const seqs = new Set((await this.listSnapshots()).map((h) => h.seq));
    try {
      for await (const k of this.snaps.keys({ gte: 'body:', lte: snapshotBodyKey(maxSeq) })) {
        const seq = parseSeqKey(k.slice(5));
        if (Number.isFinite(seq)) seqs.add(seq);
      }
    } catch (err) {
      if (!isCorruption(err)) throw err;
      this.noteDamage({ where: 'snapshots', error: `the snapshot list cannot be read in full: ${(err as Error).message}` });
    }
    for (const seq of [...seqs].filter((x) => x <= maxSeq).sort((a, b) => b - a)) {
      const snap = await this.getSnapshot<S>(seq);
      if (snap) yield snap;
    }
  }

  /** The newest snapshot at or before maxSeq (default: any), readable or not. */
  async latestSnapshot<S = unknown>(maxSeq = Number.MAX_SAFE_INTEGER): Promise<SnapshotRead<S> | undefined> {
    for await (const snap of this.snapshotsNewestFirst<S>(maxSeq)) return snap;
    return undefined;
  }

  async getEntry(seq: number): Promise<EntryRead | undefined> {
    let text: string | undefined;
    try {
      text = await this.log.get(seqKey(seq));
    } catch (err) {
      if (!isCorruption(err)) throw err;
      return { ok: false, seq, error: `cannot be read, the log is damaged there (${(err as Error).message})` };
    }
    return text === undefined ? undefined : decodeEntry(text, seq);
  }

  /**
   * Entries in seq order within [from, to] (inclusive). Where the log is damaged, one failed read
   * with `toSeq` stands for each lost range and reading goes on with the entries after it: LevelDB
   * skips a damaged table block and reports it only later, so a missing seq is how loss shows; an
   * iterator that fails before yielding is moved past the damage by probing further keys.
   */
  async *readRange(range: SeqRange = {}): AsyncGenerator<EntryRead> {
    const to = range.to ?? Number.MAX_SAFE_INTEGER;
    let cursor = Math.max(range.from ?? 0, 0);
    /** Next seq that must exist; below the retention horizon nothing has to. */
    let expect = Math.max(cursor, this.firstSeq);
    const lost = (from: number, upTo: number, why: string): EntryRead => {
      const what = from === upTo ? `entry #${from} is` : `entries #${from}..#${upTo} are`;
      this.noteDamage({ where: 'entries', fromSeq: from, toSeq: upTo, error: `${what} lost: ${why}` });
      return { ok: false, seq: from, toSeq: upTo, error: `${what} lost: ${why}` };
    };
    let why = 'the log is damaged there';
    for (;;) {
      const it = this.log.iterator({ gte: seqKey(cursor), lte: seqKey(to), highWaterMarkBytes: 4 << 20 } as object);
      let progressed = false;
      let failure: unknown;
      try {
        for (;;) {
          const chunk = await it.nextv(READ_CHUNK);
          if (chunk.length === 0) break;
          for (const [k, v] of chunk) {
            const seq = parseSeqKey(k);
            if (!Number.isFinite(seq) || seq < cursor) continue; // a garbled key is no entry
            if (seq > expect) yield lost(expect, seq - 1, why);
            const r = decodeEntry(v, seq);
            yield r;
            progressed = true;
            cursor = seq + 1;
            // A salvaged log records its own gaps: the seqs they stand for are not missing.
            const recorded = r.ok ? lostRange(r.entry) : undefined;
            expect = Math.max(expect, recorded ? recorded.toSeq + 1 : seq + 1);
            cursor = Math.max(cursor, expect);
          }
        }
      } catch (err) {
        if (!isCorruption(err)) throw err;
        failure = err;
      } finally {
        await it.close().catch(() => undefined);
      }
      if (failure === undefined) break;
      why = `the log is damaged there (${(failure as Error).message})`;
      if (progressed) continue;
      const next = await this.firstReadableSeq(cursor + 1, to);
      if (next === undefined) break;
      cursor = next;
    }
    const end = Math.min(to, this.writtenSeq);
    if (expect <= end) yield lost(expect, end, why);
  }

  /**
   * Read every entry from `from` to the end and throw LogDamagedError naming what is lost: the
   * agent checks what its start-up replay will fold before trusting it.
   */
  async checkReadable(from: number): Promise<void> {
    const lost: string[] = [];
    for await (const r of this.readRange({ from })) {
      if (!r.ok && r.toSeq !== undefined) lost.push(r.seq === r.toSeq ? `entry #${r.seq}` : `entries #${r.seq}..#${r.toSeq}`);
    }
    if (lost.length > 0) throw new LogDamagedError(`the log is damaged: ${lost.slice(0, 5).join(', ')}${lost.length > 5 ? ` and ${lost.length - 5} more ranges` : ''} cannot be read`);
  }

  /**
   * The first readable seq >= from: probe at doubling distances until an iterator gets past the
   * damage, then bisect back so no readable entry just after the damage is skipped.
   */
  private async firstReadableSeq(from: number, to: number): Promise<number | undefined> {
    const last = Math.min(to, this.writtenSeq);
    let failed = from - 1;
    for (let step = 0; from + step <= last; step = step === 0 ? 1 : step * 2) {
      const found = await this.probeKey(from + step, to);
      if (found === 'damaged') {
        failed = from + step;
        continue;
      }
      if (found === undefined) return undefined;
      let hi = from + step;
      let best = found;
      while (hi - failed > 1) {
        const mid = Math.floor((failed + hi) / 2);
        const at = await this.probeKey(mid, to);
        if (at === 'damaged') failed = mid;
        else {
          hi = mid;
          if (at !== undefined) best = at;
        }
      }
      return best;
    }
    return undefined;
  }

  private async probeKey(from: number, to: number): Promise<number | 'damaged' | undefined> {
    const it = this.log.keys({ gte: seqKey(from), lte: seqKey(to), limit: 1 });
    try {
      const [k] = await it.nextv(1);
      if (k === undefined) return undefined;
      const seq = parseSeqKey(k);
      return Number.isFinite(seq) ? seq : 'damaged';
    } catch (err) {
      if (!isCorruption(err)) throw err;
      return 'damaged';
    } finally {
      await it.close().catch(() => undefined);
    }
  }

  /**
   * Entries about one pod, in seq order, through the by-pod index. Index records are keyed by the
   * first seq of a pod's entries in one batch and list all of them, so the record just before
   * `from` may still hold matching seqs. Where the index or its entries are damaged, the rest is
   * found by scanning the log itself.
   */
  async *readPod(uid: string, range: SeqRange = {}): AsyncGenerator<EntryRead> {
    let last = (range.from ?? 0) - 1;
    try {
      for await (const r of this.readPodThroughIndex(uid, range)) {
        yield r;
        last = r.ok ? r.entry.seq : r.seq;
      }
    } catch (err) {
      if (!isCorruption(err)) throw err;
      this.noteDamage({ where: 'index', error: `the by-pod index cannot be read: ${(err as Error).message}` });
      for await (const r of this.readRange({ from: last + 1, to: range.to })) if (!r.ok || r.entry.pod?.uid === uid) yield r;
    }
  }

  private async *readPodThroughIndex(uid: string, range: SeqRange): AsyncGenerator<EntryRead> {
    const from = range.from ?? 0;
    // A consistent cut: stored records up to the checkpoint as of now, then the pending seqs.
    const indexed = this.checkpointSeq;
    const pending = (this.pendingIndex.get(uid) ?? []).filter((s) => s <= (range.to ?? Number.MAX_SAFE_INTEGER));
    const to = Math.min(range.to ?? Number.MAX_SAFE_INTEGER, indexed);
    if (from <= to) yield* this.readPodIndexed(uid, from, to);
    const seqs = pending.filter((s) => s >= from && s >= this.firstSeq);
    for (let i = 0; i < seqs.length; i += READ_CHUNK) {
      const part = seqs.slice(i, i + READ_CHUNK);
      const values = await this.log.getMany(part.map(seqKey));
      for (let j = 0; j < part.length; j++) yield readIndexed(values[j], part[j]);
    }
  }

  private async *readPodIndexed(uid: string, from: number, to: number): AsyncGenerator<EntryRead> {
    const groups: number[][] = [];
    const bounds = podKeyRange(uid);
    for await (const [k, v] of this.byPod.iterator({ gte: bounds.gte, lt: podKey(uid, from), reverse: true, limit: 1 })) {
      if (Number.isFinite(parsePodKey(uid, k))) groups.push(decodeSeqs(v));
    }
    const it = this.byPod.iterator(podKeyRange(uid, from, to));
    try {
      for (;;) {
        const chunk = await it.nextv(READ_CHUNK);
        for (const [k, v] of chunk) if (Number.isFinite(parsePodKey(uid, k))) groups.push(decodeSeqs(v));
        const seqs = groups.splice(0).flat().filter((s) => s >= from && s <= to && s >= this.firstSeq);
        if (seqs.length > 0) {
          const values = await this.log.getMany(seqs.map(seqKey));
          for (let i = 0; i < seqs.length; i++) yield readIndexed(values[i], seqs[i]);
        }
        if (chunk.length === 0) return;
      }
    } finally {
      await it.close();
    }
  }

  /** Entries with fromIso <= at <= toIso; bisects on seq because `at` never decreases. */
  async *readTime(fromIso: string, toIso: string): AsyncGenerator<EntryRead> {
    const from = normaliseTime(fromIso);
    const to = normaliseTime(toIso);
    const start = await this.firstSeqAtOrAfter(from);
    for await (const r of this.readRange({ from: start })) {
      if (r.ok && r.entry.at > to) return;
      yield r;
    }
  }

  /** Smallest retained seq whose at >= iso (lastSeq + 1 if none). */
  async firstSeqAtOrAfter(iso: string): Promise<number> {
    let lo = this.firstSeq;
    let hi = this.writtenSeq + 1;
    while (lo < hi) {
      const mid = Math.floor((lo + hi) / 2);
      const text = await this.log.get(seqKey(mid)).catch((err: unknown) => {
        if (isCorruption(err)) return undefined;
        throw err;
      });
      const at = text === undefined ? undefined : extractAt(text);
      // An unreadable time cannot be ordered; stop bisecting there and let the scan report it.
      if (at === undefined) return Math.max(lo, Math.min(mid, this.firstSeq));
      if (at < iso) lo = mid + 1;
      else hi = mid;
    }
    return lo;
  }

  /**
   * Remove entries older than maxAgeMs (relative to `now`) or beyond maxBytes of retained entries.
   * The cut is always just after a stored snapshot, which replaces the removed prefix; with no
   * suitable snapshot nothing is removed. The horizon is recorded before anything is deleted.
   */
  async applyRetention(policy: RetentionPolicy, now: Date): Promise<RetentionResult> {
    this.refuseWrites('apply retention');
    // Removal walks the stored index, so everything pending is stored first.
    await this.checkpointNow();
    const all = await this.listSnapshots();
    const heads = all.filter((h) => h.seq <= this.writtenSeq && h.seq + 1 > this.firstSeq);
    // Bytes already removed = cumulative bytes at the snapshot the current horizon rests on.
    const removedBytes = all.find((h) => h.seq === this.horizonMeta?.snapshotSeq)?.logBytes ?? 0;
    let cut: SnapshotHead | undefined;
    if (policy.maxAgeMs !== undefined && heads.length > 0) {
      const keepFrom = await this.firstSeqAtOrAfter(new Date(now.getTime() - policy.maxAgeMs).toISOString());
      for (const h of heads) if (h.seq + 1 <= keepFrom && (!cut || h.seq > cut.seq)) cut = h;
    }
    const maxBytes = policy.maxBytes;
    // Snapshots are on disk too: the budget holds retained entries plus every snapshot kept (a cut
    // at a snapshot keeps it and the newer ones).
    const snapshotBytesFrom = (seq: number) => all.reduce((sum, h) => (h.seq >= seq ? sum + h.stateBytes : sum), 0);
    const retainedAfter = (logBytes: number, seq: number) => this.bytes - logBytes + snapshotBytesFrom(seq);
    if (maxBytes !== undefined && heads.length > 0 && retainedAfter(removedBytes, this.horizonMeta?.snapshotSeq ?? 0) > maxBytes) {
      // Oldest snapshot that brings retained bytes under the budget, else the newest one.
      const fit = heads.find((h) => retainedAfter(h.logBytes, h.seq) <= maxBytes) ?? heads[heads.length - 1];
      if (!cut || fit.seq > cut.seq) cut = fit;
    }
    if (!cut) return { removedEntries: 0, firstSeq: this.firstSeq, snapshotSeq: this.horizonMeta?.snapshotSeq };
    const firstSeq = cut.seq + 1;
    const firstText = await this.log.get(seqKey(firstSeq));
    const horizon: HorizonMeta = { firstSeq, firstAt: (firstText && extractAt(firstText)) ?? cut.at, snapshotSeq: cut.seq };
    await this.meta.put('horizon', JSON.stringify(horizon));
    this.horizonMeta = horizon;
    const removedEntries = await this.removeBelow(firstSeq, cut.seq);
    return { removedEntries, firstSeq, snapshotSeq: cut.seq };
  }

  /** Delete entries (and their index keys) below firstSeq and snapshots older than keepSnapshot. */
  private async removeBelow(firstSeq: number, keepSnapshot: number): Promise<number> {
    let removed = 0;
    for (;;) {
      const chunk = await this.log.iterator({ lt: seqKey(firstSeq), limit: READ_CHUNK }).all();
      if (chunk.length === 0) break;
      const ops: BatchOp[] = [];
      const uids = new Set<string>();
      for (const [k, v] of chunk) {
        ops.push({ type: 'del', sublevel: this.log, key: k });
        const uid = extractPodUid(v);
        if (uid !== undefined) uids.add(uid);
      }
      for (const uid of uids) {
        // Index records below the cut go; one straddling it is rewritten with the kept seqs.
        for await (const [k, v] of this.byPod.iterator({ gte: podKeyRange(uid).gte, lt: podKey(uid, firstSeq) })) {
          if (!Number.isFinite(parsePodKey(uid, k))) continue;
          ops.push({ type: 'del', sublevel: this.byPod, key: k });
          const kept = decodeSeqs(v).filter((s) => s >= firstSeq);
          if (kept.length > 0) ops.push({ type: 'put', sublevel: this.byPod, key: podKey(uid, kept[0]), value: encodeSeqs(kept) });
        }
      }
      await this.db.batch(ops);
      removed += chunk.length;
    }
    const old: BatchOp[] = [];
    for (const h of await this.listSnapshots()) {
      if (h.seq < keepSnapshot) {
        old.push({ type: 'del', sublevel: this.snaps, key: snapshotHeadKey(h.seq) }, { type: 'del', sublevel: this.snaps, key: snapshotBodyKey(h.seq) });
      }
    }
    if (old.length > 0) await this.db.batch(old);
    return removed;
  }

  /**
   * Close and reopen LevelDB after a failed write, before writing again. LevelDB leaves a torn
   * record in its write-ahead file when an append fails (ENOSPC): appends after it are accepted
   * but unreadable at the next open. A failed compaction also makes every later write fail.
   * Reopening recovers the file up to the last whole batch and starts a new one. Fails (and may be
   * retried) while the disk is still full. Seq and index state are unchanged: the failed batch was
   * never applied (and rewriting it, should it have landed, writes the same bytes).
   */
  async reopen(): Promise<void> {
    await this.writeChain;
    if (this.db.status === 'open') await this.db.close();
    await this.db.open({ createIfMissing: false });
    for (const s of [this.log, this.byPod, this.snaps, this.meta]) if (s.status !== 'open') await s.open();
  }

  async close(): Promise<void> {
    await this.writeChain;
    if (this.db.status === 'open') await this.checkpointNow().catch(() => undefined);
    await this.db.close();
    if (this.scratch) rmSync(this.scratch, { recursive: true, force: true });
    this.scratch = undefined;
  }

  /**
   * Copy entries from another log (salvage): seqs are kept, and the only jumps allowed are the ones
   * a LogEntriesLost entry just before records. The first batch may start anywhere when the log is
   * empty (after startAtHorizon) or at seq 1.
   */
  importEntries(entries: readonly Entry[]): Promise<void> {
    let expect = this.writtenSeq + 1;
    for (const e of entries) {
      if (e.seq !== expect) return Promise.reject(new LogStoreError(`import out of order: expected seq ${expect}, got ${e.seq}`));
      expect = (lostRange(e)?.toSeq ?? e.seq) + 1;
    }
    return this.writeBatch(entries, {}, true).then(() => {
      const last = entries[entries.length - 1];
      const covered = last ? lostRange(last)?.toSeq : undefined;
      if (covered !== undefined) {
        this.writtenSeq = covered;
        this.nextSeq = covered + 1;
      }
    });
  }

  /** Start an empty log at a retention horizon: its snapshot stands for every entry before it. */
  async startAtHorizon(horizon: HorizonMeta, snapshot: SnapshotInput, snapshotAt: string, logBytes: number): Promise<void> {
    this.refuseWrites('start at a horizon');
    await this.writeChain;
    if (this.writtenSeq !== 0) throw new LogStoreError('only an empty log can start at a retention horizon');
    const seq = horizon.firstSeq - 1;
    const tail: TailMeta = { lastSeq: seq, lastAt: snapshotAt, bytes: logBytes };
    const ops: BatchOp[] = [
      ...this.snapshotOps(seq, snapshotAt, logBytes, snapshot),
      { type: 'put', sublevel: this.meta, key: 'horizon', value: JSON.stringify(horizon) },
      { type: 'put', sublevel: this.meta, key: 'tail', value: JSON.stringify(tail) },
    ];
    await this.db.batch(ops);
    this.horizonMeta = horizon;
    this.writtenSeq = this.checkpointSeq = seq;
    this.nextSeq = seq + 1;
    this.writtenAt = this.stampedAt = snapshotAt;
    this.bytes = logBytes;
  }
}

/** Seqs of one pod within a batch: the first in full, then deltas (short, and sorted by construction). */
function encodeSeqs(seqs: number[]): string {
  let out = String(seqs[0]);
  for (let i = 1; i < seqs.length; i++) out += `,${seqs[i] - seqs[i - 1]}`;
  return out;
}

function decodeSeqs(text: string): number[] {
  const out: number[] = [];
  let acc = 0;
  for (const part of text.split(',')) {
    const n = Number(part);
    if (!Number.isInteger(n)) return out;
    acc = out.length === 0 ? n : acc + n;
    out.push(acc);
  }
  return out;
}

function toRaw(op: BatchOp): RawOp {
  if (op.type !== 'put') throw new Error('only puts go through the raw path');
  return { type: 'put', key: op.sublevel.prefix + op.key, value: op.value };
}

function readIndexed(text: string | undefined, seq: number): EntryRead {
  return text === undefined ? { ok: false, seq, error: 'by-pod index names an entry that is not in the log' } : decodeEntry(text, seq);
}

/** Read `at` without decoding the whole entry (bisection and retention touch many entries). */
function extractAt(text: string): string | undefined {
  const m = /"at":"([^"]+)"/.exec(text);
  return m ? m[1] : undefined;
}

function extractPodUid(text: string): string | undefined {
  try {
    const uid = (JSON.parse(text) as { pod?: { uid?: unknown } }).pod?.uid;
    return typeof uid === 'string' ? uid : undefined;
  } catch {
    return undefined;
  }
}

/** RFC 3339 in, millisecond UTC ISO out (the one format stored, so strings compare as times). */
const CANONICAL_TIME = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{3}Z$/;

function normaliseTime(iso: string): string {
  if (CANONICAL_TIME.test(iso)) return iso;
  const ms = Date.parse(iso);
  if (Number.isNaN(ms)) throw new LogStoreError(`not an RFC 3339 time: ${JSON.stringify(iso)}`);
  return new Date(ms).toISOString();
}

function describeOpenError(dir: string, err: unknown): string {
  const e = err as { code?: string; cause?: { code?: string; message?: string }; message?: string };
  const cause = e.cause?.code ?? e.code;
  if (cause === 'LEVEL_LOCKED') {
    return `the log at ${dir} is locked by another process (a running agent?); stop it or read a copy of the directory`;
  }
  if (e.cause?.message?.includes('does not exist')) return `no log at ${dir}`;
  return `cannot open the log at ${dir}: ${e.cause?.message ?? e.message ?? String(err)}`;
}
