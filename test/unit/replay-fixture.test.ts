// Temporal-style replay test: a log recorded from a real run on the testbed is folded through
// today's reducers, and every recorded decision must come out again. A reducer change that alters
// behaviour fails here; if the change is intended, re-record the fixture
// (test/fixtures/incident-1/record.sh) and review the new decisions.
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importFile } from '../../scripts/record-incident.ts';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { nodeDecider } from '../../src/reducers/index.ts';
import { verifyLog } from '../../src/runtime/verify.ts';

describe('replay of recorded incidents', function () {
  this.timeout(30_000);

  const fixtures = [
    { dir: 'replay-1', what: 'crash loop, liveness kill, graceful delete', minEntries: 100, minDecisions: 20 },
    { dir: 'eviction-1', what: 'memory-pressure eviction across three agent runs', minEntries: 100, minDecisions: 20 },
  ];
  for (const f of fixtures) {
    it(`${f.dir} (${f.what}): today's reducers make exactly the decisions recorded on the testbed`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'ledgerlet-replay-'));
      const n = await importFile(resolve(import.meta.dirname, `../fixtures/${f.dir}/entries.jsonl`), root);
      expect(n).to.be.greaterThan(f.minEntries);
      const store = await LogStore.open(logDir(root));
      try {
        const report = await verifyLog(store, nodeDecider);
        expect(report.divergence, JSON.stringify(report.divergence)).to.equal(undefined);
        expect(report.ok).to.equal(true);
        expect(report.decisions).to.be.greaterThan(f.minDecisions);
        expect(report.reducerErrors).to.deep.equal([]);
      } finally {
        await store.close();
      }
    });
  }
});
