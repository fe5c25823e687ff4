// A LogSource that asks a running agent over its local endpoint (HTTP on a unix socket, see
// local-api.ts). Everything read back crosses a process boundary, so entries are decoded again.
import { request } from 'node:http';
import { createInterface } from 'node:readline';
import type { IncomingMessage } from 'node:http';
import { decodeEntry, encodeEntry, type EntryRead } from '../model/entry-codec.ts';
import type { Entry } from '../model/entry.ts';
import { PostmortemError, type EntryQuery, type LogBounds, type LogSource, type PodSeen, type StateAt } from './source.ts';

function get(socketPath: string, path: string): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = request({ socketPath, path, method: 'GET' }, resolve);
    req.on('error', (e) => reject(new PostmortemError(`cannot reach the agent at ${socketPath}: ${e.message}`)));
    req.end();
  });
}

async function body(res: IncomingMessage): Promise<string> {
  let text = '';
  res.setEncoding('utf8');
  for await (const chunk of res) text += chunk;
  return text;
}

async function getJson<T>(socketPath: string, path: string): Promise<T | undefined> {
  const res = await get(socketPath, path);
  const text = await body(res);
  if (res.statusCode === 404) return undefined;
  if (res.statusCode !== 200) throw new PostmortemError(`agent at ${socketPath} answered ${res.statusCode} to ${path}: ${text}`);
  return JSON.parse(text) as T;
}

/** Re-check an entry that came over the wire with the same codec as one read from LevelDB. */
export function decodeWireRead(line: string): EntryRead {
  let raw: { ok?: boolean; entry?: Entry; seq?: number; error?: string };
  try {
    raw = JSON.parse(line);
  } catch (e) {
    return { ok: false, seq: 0, error: `agent sent a line that is not JSON (${(e as Error).message})` };
  }
  if (raw.ok === false) {
    const toSeq = (raw as { toSeq?: unknown }).toSeq;
    return { ok: false, seq: Number(raw.seq ?? 0), error: String(raw.error ?? 'unreadable'), ...(typeof toSeq === 'number' ? { toSeq } : {}) };
  }
  const e = raw.entry;
  if (!e || typeof e.seq !== 'number') return { ok: false, seq: 0, error: 'agent sent an entry without a seq' };
  return decodeEntry(encodeEntry(e), e.seq);
}

export function queryString(q: EntryQuery): string {
  const p = new URLSearchParams();
  if (q.from !== undefined) p.set('from', String(q.from));
  if (q.to !== undefined) p.set('to', String(q.to));
  if (q.pod) p.set('pod', q.pod);
  if (q.types?.length) p.set('type', q.types.join(','));
  if (q.since) p.set('since', q.since);
  if (q.until) p.set('until', q.until);
  const s = p.toString();
  return s ? `?${s}` : '';
}

export function agentEndpoint(socketPath: string): LogSource {
  return {
    origin: `agent at ${socketPath}`,
    bounds: async () => (await getJson<LogBounds>(socketPath, '/horizon'))!,
    async *entries(q: EntryQuery = {}) {
      const res = await get(socketPath, `/entries${queryString(q)}`);
      if (res.statusCode !== 200) throw new PostmortemError(`agent at ${socketPath} answered ${res.statusCode}: ${await body(res)}`);
      res.setEncoding('utf8');
      for await (const line of createInterface({ input: res, crlfDelay: Infinity })) {
        if (line.trim() !== '') yield decodeWireRead(line);
      }
    },
    entry: async (seq) => {
      const r = await getJson<unknown>(socketPath, `/entries/${seq}`);
      return r === undefined ? undefined : decodeWireRead(JSON.stringify(r));
    },
    seqAtOrBefore: async (iso) => (await getJson<{ seq: number }>(socketPath, `/seq?at=${encodeURIComponent(iso)}`))!.seq,
    pods: async () => (await getJson<PodSeen[]>(socketPath, '/pods'))!,
    stateAt: async (seq) => (await getJson<StateAt>(socketPath, `/state?at=${seq}`))!,
    close: async () => undefined,
  };
}
