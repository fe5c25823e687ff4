// The running agent's local endpoint: read-only JSON over HTTP on a unix socket under the root
// directory, so the postmortem commands work while the agent holds the LevelDB lock.
//   GET /horizon                     bounds of the retained log
//   GET /entries?from&to&pod&type&since&until   entries as JSON lines ({ok, entry} | {ok:false, seq, error})
//   GET /entries/:seq                one entry
//   GET /seq?at=RFC3339              last seq at or before a time
//   GET /pods                        pods with entries
//   GET /state?at=SEQ                the node's folded state after SEQ (default: the end)
import { createServer, type ServerResponse } from 'node:http';
import { chmod, rm } from 'node:fs/promises';
import type { LogStore } from '../adapters/store/log-store.ts';
import { storeSource } from './root-dir.ts';
import type { EntryQuery } from './source.ts';

export { LOCAL_API_SOCKET } from './source.ts';

export interface LocalApiOptions {
  store: LogStore;
  socketPath: string;
  /** The running engine: its in-memory state answers /state at the log's end without a replay. */
  engine?: { state(): unknown };
  /** Told when the socket cannot be served (the agent runs on without it). */
  logger?: { warn(obj: object, msg: string): void };
  /** POST /shutdown (`ledgerlet shutdown`): announce a graceful node shutdown; resolves to the seq logged. */
  shutdown?: (trigger: string) => Promise<{ seq: number } | { error: string }>;
}

export interface LocalApi {
  close(): Promise<void>;
}

const INT = /^\d+$/;

function send(res: ServerResponse, status: number, value: unknown): void {
  res.writeHead(status, { 'content-type': 'application/json' });
  res.end(JSON.stringify(value));
}

export function parseQuery(p: URLSearchParams): EntryQuery | string {
  const q: EntryQuery = {};
  for (const k of ['from', 'to'] as const) {
    const v = p.get(k);
    if (v === null) continue;
    if (!INT.test(v)) return `${k} must be a sequence number`;
    q[k] = Number(v);
  }
  const pod = p.get('pod');
  if (pod) q.pod = pod;
  const type = p.get('type');
  if (type) q.types = type.split(',').filter(Boolean);
  for (const k of ['since', 'until'] as const) {
    const v = p.get(k);
    if (v === null) continue;
    if (Number.isNaN(Date.parse(v))) return `${k} must be an RFC 3339 time`;
    q[k] = new Date(Date.parse(v)).toISOString();
  }
  return q;
}

export async function serveLocalApi(o: LocalApiOptions): Promise<LocalApi> {
  const source = storeSource(o.store, 'agent', false);
  const server = createServer((req, res) => {
    void (async () => {
      const url = new URL(req.url ?? '/', 'http://ledgerlet');
      const path = url.pathname;
      // The one write: the non-systemd trigger of a graceful node shutdown (the socket is 0600).
      if (req.method === 'POST' && path === '/shutdown' && o.shutdown) {
        const r = await o.shutdown('cli');
        return send(res, 'error' in r ? 409 : 200, r);
      }
      if (req.method !== 'GET') return send(res, 405, { error: 'read-only endpoint: GET only' });
      if (path === '/horizon') return send(res, 200, await source.bounds());
      if (path === '/pods') return send(res, 200, await source.pods());
      if (path === '/seq') {
        const at = url.searchParams.get('at');
        if (!at || Number.isNaN(Date.parse(at))) return send(res, 400, { error: 'at must be an RFC 3339 time' });
        return send(res, 200, { seq: await source.seqAtOrBefore(new Date(Date.parse(at)).toISOString()) });
      }
      if (path === '/state') {
        const at = url.searchParams.get('at');
        if (at !== null && !INT.test(at)) return send(res, 400, { error: 'at must be a sequence number' });
        const seq = at === null ? o.store.lastSeq : Number(at);
        // The engine's own state is the log's end without refolding it.
        if (o.engine && seq >= o.store.lastSeq) return send(res, 200, { seq: o.store.lastSeq, at: o.store.lastAt, state: o.engine.state(), problems: [] });
        return send(res, 200, await source.stateAt(seq));
      }
      const one = /^\/entries\/(\d+)$/.exec(path);
      if (one) {
        const r = await source.entry(Number(one[1]));
        return r ? send(res, 200, r) : send(res, 404, { error: `no entry #${one[1]} in the retained log` });
      }
      if (path === '/entries') {
        const q = parseQuery(url.searchParams);
        if (typeof q === 'string') return send(res, 400, { error: q });
        res.writeHead(200, { 'content-type': 'application/x-ndjson' });
        for await (const r of source.entries(q)) {
          // Respect back-pressure: a long history must not sit in memory.
          if (!res.write(JSON.stringify(r) + '\n')) await new Promise((ok) => res.once('drain', ok));
          if (res.destroyed) return;
        }
        return res.end();
      }
      return send(res, 404, { error: `no such endpoint ${path}` });
    })().catch((e: Error) => {
      if (!res.headersSent) send(res, 500, { error: e.message });
      else res.destroy(e);
    });
  });
  // A socket left by an agent that was killed would make listen fail with EADDRINUSE.
  try {
    await rm(o.socketPath, { force: true });
    await new Promise<void>((resolve, reject) => {
      server.once('error', reject);
      server.listen(o.socketPath, () => resolve());
    });
    await chmod(o.socketPath, 0o600); // the log names pods and their specs: owner only
  } catch (e) {
    // A path too long for a unix socket, a read-only dir...: the node must not stop over it.
    o.logger?.warn({ err: (e as Error).message, socketPath: o.socketPath }, 'local endpoint not served; history commands need the agent stopped or a copy of its root dir');
    server.close();
    return { close: async () => undefined };
  }
  return {
    close: () =>
      new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      }).then(() => rm(o.socketPath, { force: true })),
  };
}
