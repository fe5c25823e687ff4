// Golden tests of why, replay, diff and history over the recorded incident (test/fixtures/incident-1).
// The goldens were reviewed against the fixture's entries; UPDATE_GOLDEN=1 rewrites them.
import { expect } from 'chai';
import { runDiff } from '../../src/cli/commands/diff.ts';
import { runHistory } from '../../src/cli/commands/history.ts';
import { runReplay } from '../../src/cli/commands/replay.ts';
import { runWhy } from '../../src/cli/commands/why.ts';
import { openRootDir } from '../../src/postmortem/root-dir.ts';
import type { LogSource } from '../../src/postmortem/source.ts';
import { capture, expectGolden, rebuildIncident } from '../fixtures/incident-1/harness.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const NOW = new Date('2030-01-01T00:00:00Z'); // relative moments are not used by these goldens

describe('postmortem goldens over incident-1', () => {
  const dirs = tempDirs();
  let src: LogSource;
  before(async () => {
    const root = dirs.make('ledgerlet-incident-');
    expect(await rebuildIncident(root)).to.be.greaterThan(100);
    src = await openRootDir(root);
  });
  after(async () => {
    await src?.close();
    dirs.cleanup();
  });

  for (const pod of ['incident/crashy', 'incident/graceful', 'incident/web']) {
    it(`why ${pod}`, async () => {
      const c = capture();
      expect(await runWhy(src, pod, {}, c.out)).to.equal(0);
      expectGolden(`why-${pod.split('/')[1]}.txt`, c.text());
    });
  }

  it('why names the liveness kill with the failed probe results that counted', async () => {
    const c = capture();
    await runWhy(src, 'incident/web', { container: 'web' }, c.out);
    const kill = c.lines.find((l) => / killed container web/.test(l));
    expect(kill, 'a liveness kill of web is recorded').to.match(/liveness probe .* failed 3 times in a row \(500, 500, 500\)/);
    expect(kill).to.match(/: liveness probe [^ ]+ failed 3 times in a row \(500, 500, 500\)( ← #\d+){4}$/);
  });

  it('replay as the liveness probe turns to failure, text', async () => {
    const c = capture();
    await runReplay(src, { at: LIVENESS_FAILED_AT }, c.out, NOW);
    expectGolden('replay-liveness-failed.txt', c.text());
  });

  it('replay by time folds every entry stamped at or before that time', async () => {
    const e = await src.entry(Number(LIVENESS_FAILED_AT.slice(1)));
    const at = e!.ok ? e!.entry.at : '';
    // Decisions carry the time of their cause, so the last entry at that time may come later.
    let last = 0;
    for await (const r of src.entries({ since: at, until: at })) if (r.ok) last = r.entry.seq;
    expect(last).to.be.greaterThan(Number(LIVENESS_FAILED_AT.slice(1)));
    const byTime = capture();
    const bySeq = capture();
    await runReplay(src, { at }, byTime.out, NOW);
    await runReplay(src, { at: `#${last}` }, bySeq.out, NOW);
    expect(byTime.lines[0]).to.equal(`node ledgerlet-node-1 after #${last} (${at})`);
    expect(byTime.text()).to.equal(bySeq.text());
  });

  it('replay at the crash loop, JSON view of one pod', async () => {
    const c = capture();
    await runReplay(src, { at: CRASH_LOOP_AT, pod: 'incident/crashy', json: true }, c.out, NOW);
    expectGolden('replay-crash-loop-crashy.json', c.text());
  });

  it('diff from the first start to the crash loop', async () => {
    const c = capture();
    await runDiff(src, FIRST_START_AT, CRASH_LOOP_AT, {}, c.out, NOW);
    expectGolden('diff-start-to-crash-loop.txt', c.text());
  });

  it('diff across the deletion of graceful', async () => {
    const c = capture();
    await runDiff(src, CRASH_LOOP_AT, AFTER_DELETION_AT, { pod: 'incident/graceful' }, c.out, NOW);
    expectGolden('diff-graceful-deletion.txt', c.text());
  });

  it('history of graceful', async () => {
    const c = capture();
    await runHistory(src, { pod: 'incident/graceful' }, c.out, c.out, NOW);
    expectGolden('history-graceful.txt', c.text());
  });
});

// Moments chosen by reading the fixture (see docs/postmortem.md): crashy's first start, web's
// liveness probe turning to failure, crashy's third back-off, graceful gone from the API server.
const FIRST_START_AT = '#45';
const LIVENESS_FAILED_AT = '#141';
const CRASH_LOOP_AT = '#190';
const AFTER_DELETION_AT = '#219';
