// The postmortem read model: moments, the retention horizon, unreadable entries, and the local
// endpoint answering exactly as the root directory does.
import { join } from 'node:path';
import { expect } from 'chai';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { runHistory } from '../../src/cli/commands/history.ts';
import { runReplay } from '../../src/cli/commands/replay.ts';
import { runWhy } from '../../src/cli/commands/why.ts';
import { agentEndpoint } from '../../src/postmortem/endpoint.ts';
import { serveLocalApi } from '../../src/postmortem/local-api.ts';
import { parseMoment } from '../../src/postmortem/moments.ts';
import { openRootDir, storeSource } from '../../src/postmortem/root-dir.ts';
import { LOCAL_API_SOCKET, PostmortemError } from '../../src/postmortem/source.ts';
import { capture, rebuildIncident } from '../fixtures/incident-1/harness.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const NOW = new Date('2026-11-23T12:00:00.000Z');

describe('postmortem moments', () => {
  it('reads #SEQ, a bare seq, RFC 3339 and relative times', () => {
    expect(parseMoment('#812', NOW)).to.deep.equal({ kind: 'seq', seq: 812 });
    expect(parseMoment('44', NOW)).to.deep.equal({ kind: 'seq', seq: 44 });
    expect(parseMoment('-10m', NOW)).to.deep.include({ kind: 'time', iso: '2026-11-23T11:50:00.000Z' });
    expect(parseMoment('2026-11-23T13:01:07+01:00', NOW)).to.deep.include({ kind: 'time', iso: '2026-11-23T12:01:07.000Z' });
  });
  it('rejects anything else with a sentence saying what is accepted', () => {
    expect(() => parseMoment('yesterday', NOW)).to.throw(PostmortemError, /#SEQ, an RFC 3339 time .* or a relative time/);
  });
});

describe('postmortem over a log cut by retention', () => {
  const dirs = tempDirs();
  let root: string;
  let firstAt: string;
  let cutSeq: number;
  let first: number;
  before(async () => {
    root = dirs.make('ledgerlet-horizon-');
    await rebuildIncident(root);
    const store = await LogStore.open(logDir(root));
    const src = storeSource(store, 'test', false);
    // Cut right at the first crash-loop back-off, so the restart after it has a cause before the horizon.
    for await (const r of src.entries({ types: ['RestartBackedOff'] })) {
      if (r.ok && r.entry.reason === 'CrashLoopBackOff') {
        cutSeq = r.entry.seq;
        break;
      }
    }
    expect(cutSeq, 'the fixture has a crash-loop back-off').to.be.a('number');
    first = cutSeq + 1;
    const snap = await src.stateAt(cutSeq);
    await store.putSnapshot(cutSeq, { state: snap.state, unfinished: [] });
    const cut = await store.applyRetention({ maxBytes: 1 }, NOW);
    expect(cut.firstSeq).to.equal(first);
    firstAt = store.horizon!.firstAt;
    await store.close();
  });
  after(() => dirs.cleanup());

  /** Run one read against the root dir, closing the source whatever happens. */
  async function withSource(read: (src: Awaited<ReturnType<typeof openRootDir>>) => Promise<void>): Promise<void> {
    const src = await openRootDir(root);
    try {
      await read(src);
    } finally {
      await src.close();
    }
  }

  it('replay before the horizon says so, naming the first retained entry', () => withSource(async (src) => {
    const err = await runReplay(src, { at: '#12' }, () => undefined, NOW).catch((e: Error) => e);
    expect(err).to.be.instanceOf(PostmortemError);
    expect((err as Error).message).to.equal(`#12 is before the retention horizon (first retained entry #${first} at ${firstAt})`);
    const byTime = await runReplay(src, { at: '2026-11-23T11:25:38Z' }, () => undefined, NOW).catch((e: Error) => e);
    expect((byTime as Error).message).to.include(`before the retention horizon (first retained entry #${first} at `);
  }));

  it('replay at the horizon starts from its snapshot', () => withSource(async (src) => {
    const c = capture();
    await runReplay(src, { at: `#${cutSeq}` }, c.out, NOW);
    expect(c.lines[0]).to.match(new RegExp(`^node ledgerlet-node-1 after #${cutSeq} \\(2026-`));
    expect(c.text()).to.match(/container app \[app\]: exited .*restarts 1/);
  }));

  it('history from before the horizon notes it and shows what is left', () => withSource(async (src) => {
    const out = capture();
    const notes = capture();
    await runHistory(src, { since: '#1', until: `#${first + 1}` }, out.out, notes.out, NOW);
    expect(notes.lines[0]).to.equal(`note: --since #1 is before the retention horizon (first retained entry #${first} at ${firstAt}); showing from #${first}`);
    expect(out.lines.filter((l) => / #\d+ /.test(l)).map((l) => Number(/ #(\d+) /.exec(l)![1]))).to.deep.equal([first, first + 1]);
  }));

  it('why marks a cause chain that reaches before the horizon', () => withSource(async (src) => {
    const c = capture();
    await runWhy(src, 'incident/crashy', {}, c.out);
    expect(c.text()).to.include(`← #${cutSeq} before the retention horizon (first retained entry #${first} at ${firstAt})`);
  }));
});

describe('postmortem with unreadable entries', () => {
  const dirs = tempDirs();
  after(() => dirs.cleanup());

  it('history reports the bad entry by seq and goes on', async () => {
    const root = dirs.make('ledgerlet-bad-');
    const store = await LogStore.open(logDir(root));
    const drafts = ['AgentStarted', 'RuntimeRelisted', 'ApiServerReachable'].map((type) => ({ kind: 'observation' as const, type, source: 'test', data: {}, at: '2026-11-23T10:00:00.000Z' }));
    const entries = store.stamp(drafts);
    await store.write(entries, { encoded: [JSON.stringify(entries[0]), '{"seq":2, not json', JSON.stringify(entries[2])] });
    await store.close();
    const src = await openRootDir(root);
    try {
      const c = capture();
      expect(await runHistory(src, {}, c.out, c.out, NOW)).to.equal(0);
      expect(c.lines.some((l) => /#2 +UNREADABLE +not valid JSON/.test(l))).to.equal(true);
      expect(c.lines.some((l) => / #3 observed ApiServerReachable/.test(l))).to.equal(true);
    } finally {
      await src.close();
    }
  });
});

describe('postmortem through the local endpoint', () => {
  const dirs = tempDirs();
  let root: string;
  let store: LogStore;
  let api: { close(): Promise<void> };
  before(async () => {
    root = dirs.make('ledgerlet-api-');
    await rebuildIncident(root);
    store = await LogStore.open(logDir(root)); // holds the lock, as a running agent does
    api = await serveLocalApi({ store, socketPath: join(root, LOCAL_API_SOCKET) });
  });
  after(async () => {
    await api?.close();
    await store?.close();
    dirs.cleanup();
  });

  it('openRootDir falls back to the endpoint when the log is locked', async () => {
    const src = await openRootDir(root);
    expect(src.origin).to.equal(`agent at ${join(root, LOCAL_API_SOCKET)}`);
    expect((await src.bounds()).lastSeq).to.equal(store.lastSeq);
  });

  it('why and replay answer the same through the endpoint as from the store', async () => {
    const local = storeSource(store, 'store', false);
    const remote = agentEndpoint(join(root, LOCAL_API_SOCKET));
    for (const pod of ['incident/crashy', 'incident/graceful']) {
      const a = capture();
      const b = capture();
      await runWhy(local, pod, {}, a.out);
      await runWhy(remote, pod, {}, b.out);
      expect(b.text()).to.equal(a.text());
      expect(a.lines.length).to.be.greaterThan(3);
    }
    const a = capture();
    const b = capture();
    await runReplay(local, { at: '#100', json: true }, a.out, NOW);
    await runReplay(remote, { at: '#100', json: true }, b.out, NOW);
    expect(b.text()).to.equal(a.text());
  });

  it('filters entries by type and refuses a malformed query', async () => {
    const remote = agentEndpoint(join(root, LOCAL_API_SOCKET));
    const types = new Set<string>();
    for await (const r of remote.entries({ types: ['ContainerStarted'] })) if (r.ok) types.add(r.entry.type);
    expect([...types]).to.deep.equal(['ContainerStarted']);
    const bad = await (async () => {
      for await (const r of remote.entries({ since: 'not-a-time' })) void r;
    })().catch((e: Error) => e);
    expect((bad as Error).message).to.match(/answered 400: .*since must be an RFC 3339 time/);
  });
});
