// A raw GET that returns the server's JSON untouched. The generated typed client turns
// timestamps into Dates and drops fields it does not know; what the agent logs as "what the
// API server said" must be the server's own JSON, so reads that feed the log go through here.
import * as http from 'node:http';
import * as https from 'node:https';
import type { KubeClients } from './connect.ts';
import { KubeApiError, toKubeApiError, fromStatus } from './errors.ts';

export interface RawGetOptions {
  signal?: AbortSignal;
  /** Socket inactivity timeout; default 60 s. */
  timeoutMs?: number;
}

export async function rawGetJson(
  clients: KubeClients,
  path: string,
  query: Record<string, string | number | boolean | undefined>,
  opts: RawGetOptions = {},
): Promise<unknown> {
  const operation = `GET ${path}`;
  const url = new URL(clients.server.replace(/\/$/, '') + path);
  for (const [k, v] of Object.entries(query)) if (v !== undefined) url.searchParams.set(k, String(v));
  const reqOpts: https.RequestOptions = { method: 'GET', headers: { Accept: 'application/json' } };
  try {
    await clients.kubeConfig.applyToHTTPSOptions(reqOpts);
  } catch (err) {
    throw toKubeApiError(err, operation);
  }
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise<unknown>((resolve, reject) => {
    const req = mod.request(url, { ...reqOpts, signal: opts.signal, timeout: opts.timeoutMs ?? 60_000 }, (res) => {
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => chunks.push(c));
      res.on('error', (err) => reject(toKubeApiError(err, operation)));
      res.on('end', () => {
        const text = Buffer.concat(chunks).toString('utf8');
        const status = res.statusCode ?? 0;
        let body: unknown;
        try {
          body = text === '' ? undefined : JSON.parse(text);
        } catch {
          body = undefined;
        }
        if (status >= 200 && status < 300) {
          if (body === undefined) reject(new KubeApiError('Unknown', status, 'BadBody', `${operation}: response is not JSON`, operation));
          else resolve(body);
          return;
        }
        const e = body !== undefined ? fromStatus({ ...(body as object), code: status }, operation) : undefined;
        reject(e && e.status === status ? e : toKubeApiError({ code: status, body: text }, operation));
      });
    });
    req.on('timeout', () => req.destroy(Object.assign(new Error(`${operation}: timed out`), { code: 'ETIMEDOUT' })));
    req.on('error', (err) => reject(toKubeApiError(err, operation)));
    req.end();
  });
}
