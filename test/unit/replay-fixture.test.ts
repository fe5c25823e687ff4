// Temporal-style replay test: logs recorded from real runs on the testbed are folded through
// today's reducers, each stretch under the rules version that recorded it, and every recorded
// decision must come out again. A reducer change that alters the decisions of an existing rules
// version fails here: gate it behind a new rules version (src/reducers/rules-version.ts) and record
// a fixture with it; every older fixture must keep verifying under its own version.
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importFile } from '../../scripts/record-incident.ts';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { nodeDecider } from '../../src/reducers/index.ts';
import { RULES_VERSION } from '../../src/reducers/rules-version.ts';
import { verifyLog } from '../../src/runtime/verify.ts';

/** Recorded fixtures and the rules versions their stretches were decided with (from their AgentStarted entries). */
const fixtures = [
  { dir: 'replay-1', what: 'crash loop, liveness kill, graceful delete', rules: [1], minEntries: 100, minDecisions: 20 },
  { dir: 'eviction-1', what: 'memory-pressure eviction across three agent runs', rules: [1], minEntries: 100, minDecisions: 20 },
];

const bumpAdvice = (versions: number[]) =>
  `the decisions of rules version ${versions.join('/')} changed. If the change is intended, keep the old behaviour for old logs: ` +
  `add the change to RULE_CHANGES with since: ${RULES_VERSION + 1}, set RULES_VERSION = ${RULES_VERSION + 1} (src/reducers/rules-version.ts), ` +
  `guard it with rules().has('<change>') in the reducer, then record a fixture under the new version (test/fixtures/*/record.sh) and list it here`;

describe('replay of recorded incidents', function () {
  this.timeout(30_000);

  for (const f of fixtures) {
    it(`${f.dir} (${f.what}, rules ${f.rules.join(', ')}): today's reducers make exactly the decisions recorded on the testbed under those rules`, async () => {
      const root = mkdtempSync(join(tmpdir(), 'ledgerlet-replay-'));
      const n = await importFile(resolve(import.meta.dirname, `../fixtures/${f.dir}/entries.jsonl`), root);
      expect(n).to.be.greaterThan(f.minEntries);
      const store = await LogStore.open(logDir(root));
      try {
        const report = await verifyLog(store, nodeDecider);
        expect([...new Set(report.rules.map((r) => r.version))], 'rules versions recorded in the fixture').to.deep.equal(f.rules);
        expect(report.divergence, `${f.dir}: ${bumpAdvice(f.rules)}.\n${JSON.stringify(report.divergence)}`).to.equal(undefined);
        expect(report.ok).to.equal(true);
        expect(report.decisions).to.be.greaterThan(f.minDecisions);
        expect(report.reducerErrors).to.deep.equal([]);
      } finally {
        await store.close();
      }
    });
  }

  it(`the current rules version (${RULES_VERSION}) has a recorded fixture`, () => {
    expect(fixtures.some((f) => f.rules.includes(RULES_VERSION)), `record a fixture with rules version ${RULES_VERSION} (test/fixtures/eviction-1/record.sh) and list it above`).to.equal(true);
  });
});
