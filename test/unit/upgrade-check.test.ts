// `verify --rules current`: refold a recorded log with the installed rules and list, per pod, the
// first decision that would differ and why.
import { expect } from 'chai';
import { mkdtempSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { importFile } from '../../scripts/record-incident.ts';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import type { Decider } from '../../src/reducers/decider.ts';
import { nodeDecider } from '../../src/reducers/index.ts';
import { makeRules, rules, versionedDecider } from '../../src/reducers/rules.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { checkAgainstCurrentRules } from '../../src/runtime/upgrade-check.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { describeUpgradeCheck, runUpgradeCheck } from '../../src/cli/commands/verify.ts';
import { tempDirs } from './helpers/temp-dir.ts';

type Seen = Record<string, number>;
/** Under rules 2, pod b is started for another reason and pod c is not started at all. */
const starter: Decider<Seen> = {
  initialState: () => ({}),
  evolve: (s, e) => (e.type === 'PodAdded' && e.pod ? { ...s, [e.pod.name]: (s[e.pod.name] ?? 0) + 1 } : s),
  decide: (s, e) => {
    if (e.type !== 'PodAdded' || !e.pod) return [];
    const v2 = rules().version >= 2;
    if (v2 && e.pod.name === 'c') return [];
    return [{ type: 'StartPod', reason: v2 && e.pod.name === 'b' ? 'PodAddedAgain' : 'PodAdded', pod: e.pod, data: { n: s[e.pod.name] } }];
  },
};
const under = (v: number, current: number) => versionedDecider(starter, v, { current, rulesOf: (x) => makeRules(x, {}, current) });
const ref = (name: string) => ({ uid: `uid-${name}`, namespace: 'default', name });

describe('verify --rules current (upgrade check)', function () {
  this.timeout(30_000);
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('given a log recorded under rules 1, the installed rules 2 list per pod the first decision that differs, with its cause and the rule changes', async () => {
    const store = await LogStore.open(dirs.make());
    try {
      const engine = await Engine.start({ store, decider: under(1, 1), effects: {}, clock: new VirtualClock('2026-12-01T10:00:00.000Z') });
      for (const name of ['a', 'b', 'c', 'b']) await engine.submit({ type: 'PodAdded', source: 'test', data: {}, pod: ref(name) });
      await engine.settled();
      await engine.stop({ timeoutMs: 50 });

      const report = await checkAgainstCurrentRules(store, under(2, 2), { 'start-reasons': { since: 2, what: 'pods b and c start differently' } });
      expect(report.recordedRules).to.deep.equal([1]);
      expect(report.currentRules).to.equal(2);
      // a: same decisions; b: first difference only (its second PodAdded is not compared); c: no start now.
      expect(report.differences.map((d) => ({ pod: d.pod, cause: d.causeSeq, recorded: d.recorded?.reason, current: d.current?.reason ?? null }))).to.deep.equal([
        { pod: 'default/b', cause: 4, recorded: 'PodAdded', current: 'PodAddedAgain' },
        { pod: 'default/c', cause: 6, recorded: 'PodAdded', current: null },
      ]);
      expect(report.differences[0].changes).to.deep.equal([{ id: 'start-reasons', since: 2, what: 'pods b and c start differently' }]);
      const text = describeUpgradeCheck(report).join('\n');
      expect(text).to.include('default/c (uid uid-c): on #6 PodAdded');
      expect(text).to.include('installed rules: nothing');
      expect(text).to.include('rule changes since: start-reasons (version 2: pods b and c start differently)');
      // Under the rules that wrote it, nothing differs.
      expect((await checkAgainstCurrentRules(store, under(1, 1))).differences).to.deep.equal([]);
    } finally {
      await store.close();
    }
  });

  it('given the recorded replay-1 fixture and unchanged rules, the CLI finds no difference and exits 0', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledgerlet-upgrade-'));
    await importFile(resolve(import.meta.dirname, '../fixtures/replay-1/entries.jsonl'), root);
    const lines: string[] = [];
    const code = await runUpgradeCheck(root, false, async () => nodeDecider as Decider<unknown>, (l) => lines.push(l));
    expect(lines.join('\n')).to.match(/refolded 19\d entries recorded under rules version 1 with the installed rules/);
    expect(lines.at(-1)).to.match(/the installed rules make every recorded decision \(\d+ pods and the node\)/);
    expect(code).to.equal(0);
  });

  it('given a decision of the recorded fixture changed by hand (a stand-in for changed rules), the CLI names that pod and exits 1', async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledgerlet-upgrade-'));
    await importFile(resolve(import.meta.dirname, '../fixtures/replay-1/entries.jsonl'), root);
    const store = await LogStore.open(logDir(root));
    let target: { seq: number; name: string } | undefined;
    try {
      for await (const r of store.readRange()) {
        if (r.ok && r.entry.type === 'ContainerStartRequested' && r.entry.pod) {
          target = { seq: r.entry.seq, name: `${r.entry.pod.namespace}/${r.entry.pod.name}` };
          break;
        }
      }
    } finally {
      await store.close();
    }
    // Rewrite the fixture with that decision's reason altered, and check the copy.
    const { readFileSync, writeFileSync } = await import('node:fs');
    const src = readFileSync(resolve(import.meta.dirname, '../fixtures/replay-1/entries.jsonl'), 'utf8').split('\n').map((l) => {
      if (!l.trim()) return l;
      const e = JSON.parse(l) as { seq: number; reason?: string };
      return e.seq === target!.seq ? JSON.stringify({ ...e, reason: 'SomethingElse' }) : l;
    });
    const altered = join(mkdtempSync(join(tmpdir(), 'ledgerlet-upgrade-')), 'entries.jsonl');
    writeFileSync(altered, src.join('\n'));
    const root2 = mkdtempSync(join(tmpdir(), 'ledgerlet-upgrade-'));
    await importFile(altered, root2);
    const lines: string[] = [];
    const code = await runUpgradeCheck(root2, false, async () => nodeDecider as Decider<unknown>, (l) => lines.push(l));
    expect(code).to.equal(1);
    const text = lines.join('\n');
    expect(text).to.include(`${target!.name} (uid`);
    expect(text).to.include(`recorded (rules 1): ContainerStartRequested (SomethingElse) #${target!.seq}`);
    expect(text).to.match(/installed rules: ContainerStartRequested \(\w+\)/);
  });
});
