// /ledger on the kubelet API: the paths and their bounds, against a real LevelDB log in a temp dir;
// and the unauthenticated read-only port never serves it.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PassThrough } from 'node:stream';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { LogStore } from '../../src/adapters/store/index.ts';
import { serveLedger } from '../../src/agent/kubelet-ledger.ts';
import { readOnlyDisposition } from '../../src/agent/kubelet-read-only.ts';
import { storeSource } from '../../src/postmortem/root-dir.ts';

/** A ServerResponse stand-in that records status, headers and body (the handler writes to it as to a socket). */
function response(): { res: ServerResponse; done: Promise<{ status: number; type: string; body: string }> } {
  const sink = new PassThrough();
  let status = 0;
  let type = '';
  const chunks: Buffer[] = [];
  const res = Object.assign(sink, {
    headersSent: false,
    writeHead(s: number, h: Record<string, string>) { status = s; type = h['Content-Type'] ?? ''; this.headersSent = true; return this; },
  });
  sink.on('data', (c: Buffer) => chunks.push(c));
  const done = new Promise<{ status: number; type: string; body: string }>((r) => sink.on('finish', () => r({ status, type, body: Buffer.concat(chunks).toString('utf8') })));
  return { res: res as unknown as ServerResponse, done };
}

describe('kubelet API /ledger', () => {
  let dir: string;
  let store: LogStore;
  const get = async (path: string, cap?: number) => {
    const url = new URL(path, 'https://kubelet');
    const { res, done } = response();
    const served = await serveLedger(storeSource(store, 'test', false), { method: 'GET' } as IncomingMessage, res, url.pathname, url.searchParams, cap);
    return served ? done : undefined;
  };

  before(async () => {
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-ledger-api-'));
    store = await LogStore.open(join(dir, 'log'));
    const pod = { uid: 'u1', namespace: 'default', name: 'web' };
    const at = (s: number) => new Date(Date.UTC(2026, 11, 3, 10, 0, s)).toISOString();
    const entries = [];
    for (let i = 0; i < 30; i++) entries.push({ type: 'PodObserved', kind: 'observation' as const, source: 'api', at: at(i), pod, data: { i } });
    await store.append(entries);
  });

  after(async () => {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  });

  it('pages the entries as JSON lines: limit entries, then where the next page starts', async () => {
    const r = await get('/ledger/export?format=jsonl&limit=4&from=3');
    expect(r?.status).to.equal(200);
    const lines = r!.body.trim().split('\n').map((l) => JSON.parse(l));
    expect(lines.slice(0, 4).map((e) => e.seq)).to.deep.equal([3, 4, 5, 6]);
    expect(lines[4]).to.deep.equal({ next: 7 });
    const last = await get('/ledger/export?format=jsonl&from=28');
    expect(last!.body.trim().split('\n').map((l) => JSON.parse(l).seq)).to.deep.equal([28, 29, 30]);
  });

  it('refuses a page larger than the cap, and bad parameters, with a sentence (400)', async () => {
    expect((await get('/ledger/export?format=jsonl&limit=100000'))!.body.trim().split('\n')).to.have.length(30);
    const bad = await get('/ledger/export?format=jsonl&limit=-1');
    expect(bad).to.deep.include({ status: 400 });
    expect(bad!.body).to.match(/limit a positive integer/);
    expect(await get('/ledger/replay')).to.deep.include({ status: 400, body: 'replay needs ?at= (#SEQ, an RFC 3339 time or a relative time such as -10m)\n' });
  });

  it('cuts a rendered answer at the cap and says how to narrow it', async () => {
    const r = await get('/ledger/history/default/web', 600);
    expect(r?.status).to.equal(200);
    expect(Buffer.byteLength(r!.body)).to.be.below(800);
    expect(r!.body).to.match(/\(answer cut at 600 bytes: narrow it with container, since, until, type or pod\)\n$/);
    const whole = await get('/ledger/history/default/web');
    expect(whole!.body).to.not.match(/answer cut/);
    expect(whole!.body.split('\n').filter((l) => l.includes('PodObserved'))).to.have.length(30);
  });

  it('answers 404 with the known pods for an unknown pod, 404 for an unknown path, and leaves other paths alone', async () => {
    expect(await get('/ledger/why/default/nope')).to.deep.include({ status: 404, body: 'no pod default/nope in the retained log (pods: default/web)\n' });
    expect((await get('/ledger/whatever'))?.status).to.equal(404);
    expect(await get('/pods')).to.equal(undefined);
    expect(await get('/ledgerx')).to.equal(undefined);
  });

  it('is not served on the unauthenticated read-only port', () => {
    for (const p of ['/ledger', '/ledger/why/default/web', '/ledger/export']) expect(readOnlyDisposition('GET', p)).to.equal('not-found');
  });
});
