// The exported timeline of the recorded incident, opened in headless Chromium (Debian's package,
// driven by playwright-core): what the page shows, that it fetches nothing, and a screenshot kept
// in test-artifacts/ for a human to look at.
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { pathToFileURL } from 'node:url';
import { expect } from 'chai';
import { chromium, type BrowserContext, type Page } from 'playwright-core';
import { exportHtml } from '../../src/cli/commands/export.ts';
import { openRootDir } from '../../src/postmortem/root-dir.ts';
import { explainPods } from '../../src/postmortem/why.ts';
import { rebuildIncident } from '../fixtures/incident-1/harness.ts';

const CHROMIUM = '/usr/bin/chromium';
const ARTIFACTS = resolve(import.meta.dirname, '../../test-artifacts');

describe('postmortem HTML timeline in Chromium', function () {
  this.timeout(120_000);
  const made: string[] = [];
  let ctx: BrowserContext;
  let page: Page;
  let file: string;
  let decisions: number;
  const requests: string[] = [];

  before(async () => {
    const root = mkdtempSync(join(tmpdir(), 'ledgerlet-html-'));
    made.push(root);
    await rebuildIncident(root);
    const src = await openRootDir(root);
    try {
      const { html } = await exportHtml(src, {}, () => undefined);
      file = join(root, 'timeline.html');
      writeFileSync(file, html);
      decisions = (await explainPods(src, await src.pods())).length;
    } finally {
      await src.close();
    }
    const profile = mkdtempSync(join(tmpdir(), 'ledgerlet-chromium-'));
    made.push(profile);
    // A fresh profile directory: launchPersistentContext passes it as --user-data-dir.
    ctx = await chromium.launchPersistentContext(profile, {
      executablePath: CHROMIUM,
      headless: true,
      args: ['--headless', '--no-sandbox', '--disable-gpu', '--disable-quic', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync'],
      viewport: { width: 1300, height: 800 },
      offline: true,
    });
    page = await ctx.newPage();
    // Nothing but the page itself may load: record every request, refuse any that is not the file.
    await page.route('**/*', (route) => {
      requests.push(route.request().url());
      return route.request().url().startsWith('file:') ? route.continue() : route.abort();
    });
    await page.goto(pathToFileURL(file).href);
  });

  after(async () => {
    if (page) {
      mkdirSync(ARTIFACTS, { recursive: true });
      await page.screenshot({ path: join(ARTIFACTS, 'postmortem-timeline.png'), fullPage: true }).catch(() => undefined);
    }
    await ctx?.close();
    for (const d of made) rmSync(d, { recursive: true, force: true });
  });

  it('loads nothing but itself', () => {
    expect(requests).to.deep.equal([pathToFileURL(file).href]);
  });

  it('shows a lane per container of the incident', async () => {
    const lanes = await page.locator('g.lane').evaluateAll((gs) => gs.map((g) => g.getAttribute('data-lane')));
    for (const want of [/^incident\/crashy \[[0-9a-f]{8}\] · app$/, /^incident\/graceful \[[0-9a-f]{8}\] · server$/, /^incident\/web \[[0-9a-f]{8}\] · web$/]) {
      expect(lanes.some((l) => want.test(l ?? '')), `a lane matching ${want}`).to.equal(true);
    }
  });

  it('draws the crash loop: running and back-off segments on crashy/app', async () => {
    const states = await page.locator('g.lane[data-lane*="crashy"][data-lane$="· app"] rect.seg').evaluateAll((rs) => rs.map((r) => r.getAttribute('data-state')));
    expect(states.filter((s) => s === 'running').length).to.be.at.least(3);
    expect(states).to.include('backoff');
  });

  it('marks every decision `why` explains, and lists them', async () => {
    expect(await page.locator('.mark-decision').count()).to.equal(decisions);
    expect(await page.locator('#decisions tr').count()).to.equal(decisions);
  });

  it('shows the cause chain of the liveness kill on click', async () => {
    const row = page.locator('#decisions tr', { hasText: 'killed container web' }).first();
    await row.click();
    const text = (await page.textContent('#cause')) ?? '';
    expect(text).to.match(/killed container web .*: liveness probe .* failed 3 times in a row \(500, 500, 500\)( ← #\d+){3,}/);
    expect(text).to.match(/← #\d+ \d\d:\d\d:\d\d\.\d{3} observation ProbeFailed: liveness probe of web failed \(3\/3\)/);
  });

  it('shows a cause chain on hover over a marker', async () => {
    const seq = await page.locator('.mark-decision').first().getAttribute('data-seq');
    await page.locator(`.mark[data-seq="${seq}"]`).dispatchEvent('mouseenter');
    expect(await page.textContent('#cause')).to.match(new RegExp(`^\\d\\d:\\d\\d:\\d\\d\\.\\d{3} #${seq} `));
  });
});
