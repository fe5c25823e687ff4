// The cost of syncing a batch on this disk: typical agent batches (4 entries) written with and
// without `sync: true`, alternating in rounds. Run: node --import tsx scripts/bench/sync-cost.ts
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { LogStore } from '../../src/adapters/store/index.ts';

const BATCHES = Number(process.env.SYNC_COST_BATCHES ?? 500);
const dir = mkdtempSync(join(tmpdir(), 'ledgerlet-sync-cost-'));
const store = await LogStore.open(dir);
const batch = (i: number) => Array.from({ length: 4 }, (_, k) => ({
  kind: 'observation' as const, type: 'ContainerStateChanged', source: 'pleg', at: new Date(1_700_000_000_000 + i).toISOString(),
  pod: { uid: `uid-${i % 50}`, namespace: 'default', name: `pod-${i % 50}` },
  data: { container: { id: `c-${i}-${k}`, podUid: `uid-${i % 50}`, sandboxId: 'sb', name: 'app', attempt: 0, state: 'running' } },
}));
const perBatchMs = { buffered: [] as number[], synced: [] as number[] };
let n = 0;
for (let round = 0; round < 6; round++) {
  const modes: ('synced' | 'buffered')[] = round % 2 ? ['synced', 'buffered'] : ['buffered', 'synced'];
  for (const mode of modes) {
    const t0 = process.hrtime.bigint();
    for (let i = 0; i < BATCHES; i++) await store.write(store.stamp(batch(n++)), { sync: mode === 'synced' });
    perBatchMs[mode].push(Number(process.hrtime.bigint() - t0) / 1e6 / BATCHES);
  }
}
await store.close();
rmSync(dir, { recursive: true, force: true });
const med = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
console.log(`per batch of 4 entries, median of 6 rounds of ${BATCHES}: buffered ${med(perBatchMs.buffered).toFixed(3)} ms, synced ${med(perBatchMs.synced).toFixed(3)} ms (extra ${(med(perBatchMs.synced) - med(perBatchMs.buffered)).toFixed(3)} ms per synced batch)`);
