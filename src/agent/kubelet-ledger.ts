// The node log's read side on the kubelet API, under /ledger (authorized as nodes/proxy, as every
// path upstream does not map to another subresource), so an operator reaches it through the API
// server: `kubectl get --raw /api/v1/nodes/NODE/proxy/ledger/why/NS/POD`. The answers are the
// postmortem commands' own output (the same functions render both), read-only and bounded:
//   GET /ledger/why/NS/NAME        ?container= &all=true &json=true
//   GET /ledger/history[/NS/NAME]  ?container= &since= &until= &type=A,B &json=true
//   GET /ledger/replay             ?at= (required) &pod=NS/NAME &json=true
//   GET /ledger/diff               ?from= &to= (required) &pod= &json=true
//   GET /ledger/export             ?format=jsonl|html &pod= &since= &until=  (jsonl: &from=SEQ &limit=N)
import type { IncomingMessage, ServerResponse } from 'node:http';
import { runDiff } from '../cli/commands/diff.ts';
import { exportHtml } from '../cli/commands/export.ts';
import { runHistory } from '../cli/commands/history.ts';
import { runReplay } from '../cli/commands/replay.ts';
import { runWhy } from '../cli/commands/why.ts';
import { resolvePods } from '../postmortem/pods.ts';
import { PostmortemError, type LogSource } from '../postmortem/source.ts';

/** A rendered answer larger than this is cut, with a last line saying how to narrow it. */
export const LEDGER_RESPONSE_CAP = 16 * 1024 * 1024;
/** Entries per /ledger/export?format=jsonl page; `limit` may ask for fewer, never more. */
export const LEDGER_EXPORT_PAGE = 10_000;

class ResponseFull extends Error {}

type Lines = { out: (line: string) => void; text: () => string; full: () => boolean };

/** Collects output lines up to the cap; past it, stops the command (it cannot stream, its `out` is synchronous). */
function lines(cap: number): Lines {
  const parts: string[] = [];
  let bytes = 0;
  let full = false;
  return {
    out: (line) => {
      const n = Buffer.byteLength(line) + 1;
      if (bytes + n > cap) {
        full = true;
        throw new ResponseFull();
      }
      bytes += n;
      parts.push(line);
    },
    text: () => (parts.length ? `${parts.join('\n')}\n` : ''),
    full: () => full,
  };
}

function send(res: ServerResponse, status: number, text: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'Content-Type': type });
  res.end(text);
}

const flag = (q: URLSearchParams, k: string) => q.get(k) === 'true';
const opt = (q: URLSearchParams, k: string) => q.get(k) ?? undefined;

/** Serves a /ledger path; false when the path is not one of them. */
export async function serveLedger(src: LogSource, req: IncomingMessage, res: ServerResponse, path: string, q: URLSearchParams, cap = LEDGER_RESPONSE_CAP): Promise<boolean> {
  if (path !== '/ledger' && !path.startsWith('/ledger/')) return false;
  if (req.method !== 'GET' && req.method !== 'HEAD') {
    send(res, 405, 'the ledger is read-only: GET only\n');
    return true;
  }
  const parts = path.split('/').slice(2).map(decodeURIComponent).filter((p) => p !== '');
  const [what, ns, name] = parts;
  const pod = ns && name ? `${ns}/${name}` : undefined;
  const json = flag(q, 'json');
  const l = lines(cap);
  const note = (line: string) => (json ? undefined : l.out(line));
  try {
    if (what === 'export' && (q.get('format') ?? 'jsonl') === 'jsonl') return await exportJsonl(src, res, q), true;
    if (what === 'why' && pod && parts.length === 3) await runWhy(src, pod, { container: opt(q, 'container'), all: flag(q, 'all'), json }, l.out);
    else if (what === 'history' && (parts.length === 1 || (pod && parts.length === 3))) {
      await runHistory(src, { pod: pod ?? opt(q, 'pod'), container: opt(q, 'container'), since: opt(q, 'since'), until: opt(q, 'until'), type: q.get('type')?.split(',').filter(Boolean), json }, l.out, note);
    } else if (what === 'replay' && parts.length === 1) {
      const at = q.get('at');
      if (!at) throw new PostmortemError('replay needs ?at= (#SEQ, an RFC 3339 time or a relative time such as -10m)');
      await runReplay(src, { at, pod: opt(q, 'pod'), json }, l.out);
    } else if (what === 'diff' && parts.length === 1) {
      const from = q.get('from');
      const to = q.get('to');
      if (!from || !to) throw new PostmortemError('diff needs ?from= and ?to= (moments as in `ledgerlet diff`)');
      await runDiff(src, from, to, { pod: opt(q, 'pod'), json }, l.out);
    } else if (what === 'export' && q.get('format') === 'html') {
      const { html } = await exportHtml(src, { pod: opt(q, 'pod'), since: opt(q, 'since'), until: opt(q, 'until') }, () => undefined);
      if (Buffer.byteLength(html) > cap) throw new PostmortemError(`the page would be ${Buffer.byteLength(html)} bytes, more than the ${cap} this endpoint answers: narrow it with pod, since or until`);
      send(res, 200, html, 'text/html; charset=utf-8');
      return true;
    } else {
      send(res, 404, `no such ledger path ${path}: use why/NS/NAME, history[/NS/NAME], replay?at=, diff?from=&to=, export?format=jsonl|html\n`);
      return true;
    }
  } catch (e) {
    if (e instanceof PostmortemError) {
      send(res, /^no pod /.test(e.message) ? 404 : 400, `${e.message}\n`);
      return true;
    }
    if (!(e instanceof ResponseFull)) throw e;
  }
  const body = l.text() + (l.full() ? `(answer cut at ${cap} bytes: narrow it with container, since, until, type or pod)\n` : '');
  send(res, 200, body, json ? 'application/x-ndjson' : 'text/plain; charset=utf-8');
  return true;
}

/** The log's entries as JSON lines, one page at a time, streamed with back-pressure. */
async function exportJsonl(src: LogSource, res: ServerResponse, q: URLSearchParams): Promise<void> {
  const int = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
  const from = int('from');
  const limit = Math.min(int('limit') ?? LEDGER_EXPORT_PAGE, LEDGER_EXPORT_PAGE);
  if ((from !== undefined && (!Number.isInteger(from) || from < 0)) || !Number.isInteger(limit) || limit <= 0) {
    throw new PostmortemError('from must be a sequence number and limit a positive integer');
  }
  const time = (k: string) => {
    const v = q.get(k);
    if (v === null) return undefined;
    if (Number.isNaN(Date.parse(v))) throw new PostmortemError(`${k} must be an RFC 3339 time`);
    return new Date(Date.parse(v)).toISOString();
  };
  const podArg = q.get('pod');
  const uids = podArg ? new Set((await resolvePods(src, podArg)).map((p) => p.ref.uid)) : undefined;
  const query = { from, since: time('since'), until: time('until'), pod: uids?.size === 1 ? [...uids][0] : undefined };
  res.writeHead(200, { 'Content-Type': 'application/x-ndjson' });
  let n = 0;
  for await (const r of src.entries(query)) {
    if (uids && (!r.ok || !r.entry.pod || !uids.has(r.entry.pod.uid))) continue;
    if (n === limit) {
      // One more exists: say where the next page starts (a trailer line, as the entries are JSON lines too).
      res.write(`${JSON.stringify({ next: r.ok ? r.entry.seq : r.seq })}\n`);
      break;
    }
    if (!res.write(`${JSON.stringify(r.ok ? r.entry : r)}\n`)) await new Promise((ok) => { res.once('drain', ok); res.once('close', ok); });
    if (res.destroyed) return;
    n++;
  }
  res.end();
}
