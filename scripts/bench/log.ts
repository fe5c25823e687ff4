// Log benchmark: raw `level` batched puts of the same encoded entries (the baseline), ledgerlet's
// append path, the engine end to end, full replay, and snapshot + tail replay. Prints a markdown
// table for docs/performance.md. Usage: npm run bench:log [-- --entries N --batch B]
import { execFileSync } from 'node:child_process';
import { mkdtempSync, rmSync, readdirSync, statSync } from 'node:fs';
import { tmpdir, cpus } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import { LogStore } from '../../src/adapters/store/index.ts';
import { seqKey } from '../../src/adapters/store/keys.ts';
import { encodeEntry } from '../../src/model/entry-codec.ts';
import { SCHEMA_VERSION, type AppendDraft, type Entry } from '../../src/model/entry.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { replayLog } from '../../src/runtime/replay.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { register } from '../../src/runtime/secret-values.ts';
import { counterDecider } from '../../test/unit/helpers/test-deciders.ts';

const arg = (name: string, dflt: number) => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? Number(process.argv[i + 1]) : dflt;
};
const N = arg('entries', 200_000);
const BATCH = arg('batch', 500);
const ROUNDS = arg('rounds', 8);
// --secrets K: K secret values held (as a node running pods with secrets), so every string of
// every entry goes through the scrubber; the default 0 measures the empty-registry fast path.
const SECRETS = arg('secrets', 0);
register('bench', Array.from({ length: SECRETS }, (_, i) => `bench-secret-${i}-${(i * 2654435761) % 4294967296}`));

/** A typical observation: a pod's container status from PLEG, about 250 bytes encoded. */
function draft(i: number): AppendDraft {
  const pod = i % 50;
  return {
    kind: 'observation', type: 'ContainerStateObserved', source: 'pleg', at: new Date(Date.UTC(2024, 0, 1) + i * 10).toISOString(),
    pod: { uid: `6f1c2a3e-0000-4000-8000-${String(pod).padStart(12, '0')}`, namespace: 'default', name: `web-${pod}` },
    data: { n: 1, container: 'app', containerId: `c${(i * 7919) % 1_000_003}`, state: i % 3 ? 'running' : 'exited', exitCode: i % 3 ? null : 0, restarts: i % 5 },
  };
}

const drafts = Array.from({ length: N }, (_, i) => draft(i));
// Flat strings, as if read from elsewhere: a fresh concatenation would make the baseline pay to flatten it.
const flat = (text: string) => Buffer.from(text, 'utf8').toString('utf8');
const encoded = drafts.map((d, i) => flat(encodeEntry({ v: SCHEMA_VERSION, seq: i + 1, at: d.at as string, kind: d.kind, type: d.type, source: d.source, pod: d.pod, data: d.data } as Entry)));
const tmp = (p: string) => mkdtempSync(join(tmpdir(), p));
const rate = (n: number, ms: number) => Math.round((n / ms) * 1000);
const dirBytes = (d: string) => readdirSync(d).reduce((s, f) => s + statSync(join(d, f)).size, 0);

async function rawLevel(): Promise<number> {
  const dir = tmp('bench-raw-');
  const db = new Level<string, string>(dir, { valueEncoding: 'utf8' });
  await db.open();
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const ops = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) ops.push({ type: 'put' as const, key: seqKey(j + 1), value: encoded[j] });
    await db.batch(ops);
  }
  const ms = performance.now() - t0;
  await db.close();
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

async function ledgerletAppend(keep: boolean): Promise<{ ms: number; dir: string; store?: LogStore }> {
  const dir = tmp('bench-log-');
  const store = await LogStore.open(dir);
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) await store.append(drafts.slice(i, i + BATCH));
  const ms = performance.now() - t0;
  if (!keep) {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
    return { ms, dir };
  }
  return { ms, dir, store };
}

async function enginePath(): Promise<number> {
  const dir = tmp('bench-engine-');
  const store = await LogStore.open(dir);
  const engine = await Engine.start({ store, decider: counterDecider, effects: {}, clock: new VirtualClock(), snapshotEvery: 50_000 });
  const t0 = performance.now();
  for (let i = 0; i < N; i += BATCH) {
    const burst = [];
    for (let j = i; j < Math.min(N, i + BATCH); j++) burst.push(engine.submit({ type: 'Add', source: 'bench', data: drafts[j].data, pod: drafts[j].pod }));
    await Promise.all(burst);
  }
  const ms = performance.now() - t0;
  await engine.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
  return ms;
}

const best = (xs: number[]) => Math.min(...xs);
const raws: number[] = [];
const appends: number[] = [];
// Each timed phase starts from the same place: the previous phase's dirty pages written back
// (otherwise the kernel flushes them during the next phase) and its garbage collected. The order
// alternates so neither path always runs first.
const settle = () => {
  execFileSync('sync');
  (globalThis as { gc?: () => void }).gc?.();
};
for (let r = 0; r < ROUNDS; r++) {
  const raw = async () => { settle(); raws.push(await rawLevel()); };
  const ours = async () => { settle(); appends.push((await ledgerletAppend(false)).ms); };
  if (r % 2 === 0) { await raw(); await ours(); } else { await ours(); await raw(); }
}
settle();
const engineMs = await enginePath();
const kept = await ledgerletAppend(true);
const store = kept.store!;

const t1 = performance.now();
const full = await replayLog(store, counterDecider, { useSnapshot: false });
const fullMs = performance.now() - t1;

// Snapshot at 90%: the state there, stored; then load it and fold the last 10%.
const snapSeq = Math.floor(N * 0.9);
const atSnap = await replayLog(store, counterDecider, { useSnapshot: false, toSeq: snapSeq });
await store.putSnapshot(snapSeq, { state: atSnap.state, unfinished: [] });
const t2 = performance.now();
const tail = await replayLog(store, counterDecider, { useSnapshot: true });
const tailMs = performance.now() - t2;
if (JSON.stringify(tail.state) !== JSON.stringify(full.state)) throw new Error('snapshot + tail differs from full replay');

const bytesPerEntry = store.totalBytes / N;
await store.close();
const disk = dirBytes(kept.dir);
rmSync(kept.dir, { recursive: true, force: true });

const rawRate = rate(N, best(raws));
const appendRate = rate(N, best(appends));
// Each round runs both back to back, so the per-round ratio cancels most of the machine's drift.
const ratios = raws.map((r, i) => r / appends[i]).sort((a, b) => a - b);
const medianRatio = ratios[Math.floor(ratios.length / 2)];
const rows = [
  ['raw `level` batched puts (baseline)', `${rawRate.toLocaleString('en-US')} entries/s`, `${BATCH} per batch, pre-encoded values`],
  ['ledgerlet `LogStore.append`', `${appendRate.toLocaleString('en-US')} entries/s`, `best ${Math.round((appendRate / rawRate) * 100)}% of baseline, per-round median ${Math.round(medianRatio * 100)}% (min ${Math.round(ratios[0] * 100)}%, max ${Math.round(ratios[ratios.length - 1] * 100)}%; target >= 50%); stamp + redact + encode, by-pod index checkpointed every 4,096 entries`],
  ['engine end to end (`submit`, no effects)', `${rate(N, engineMs).toLocaleString('en-US')} entries/s`, `bursts of ${BATCH}; evolve + decide + one batch per burst`],
  ['full replay (decode + evolve)', `${rate(full.folded, fullMs).toLocaleString('en-US')} entries/s`, `${full.folded.toLocaleString('en-US')} entries in ${Math.round(fullMs)} ms (target >= 100,000/s)`],
  ['snapshot + tail replay', `${Math.round(tailMs)} ms`, `snapshot at seq ${snapSeq.toLocaleString('en-US')}, ${tail.folded.toLocaleString('en-US')} tail entries`],
  ['log bytes per entry', `${bytesPerEntry.toFixed(0)} B encoded`, `${(disk / N).toFixed(0)} B on disk incl. index (LevelDB, uncompacted)`],
];
console.log(`# bench:log — ${N.toLocaleString('en-US')} entries, ${SECRETS} secret values registered, node ${process.version}, ${cpus().length} cores, best of ${ROUNDS} for the write rows\n`);
console.log('| measure | result | notes |\n|---|---|---|');
for (const r of rows) console.log(`| ${r.join(' | ')} |`);
