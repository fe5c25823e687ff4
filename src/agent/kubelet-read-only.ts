// The kubelet's read-only port (readOnlyPort, off by default as upstream; 10255 by convention):
// plain HTTP, no authentication, only the paths upstream installs there without authorization
// (/healthz, /pods, /stats, /metrics...). The debugging paths answer 405 as upstream's
// InstallDebuggingDisabledHandlers; anything else is 404.
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import { route, send, type KubeletServerOptions } from './kubelet-server.ts';

const READ_ONLY = ['/healthz', '/pods', '/stats', '/metrics'];
const DEBUGGING = ['/run', '/exec', '/attach', '/portForward', '/containerLogs', '/runningpods', '/debug/pprof', '/logs'];

const under = (path: string, p: string) => path === p || path.startsWith(`${p}/`);

/** What the read-only port does with a request path: serve it, refuse it as debugging (405), or 404. */
export function readOnlyDisposition(method: string | undefined, path: string): 'serve' | 'debugging' | 'method' | 'not-found' {
  if (DEBUGGING.some((p) => under(path, p))) return 'debugging';
  if (!READ_ONLY.some((p) => under(path, p))) return 'not-found';
  return method === 'GET' || method === 'HEAD' ? 'serve' : 'method';
}

export interface ReadOnlyOptions {
  host: string;
  port: number;
  /** The kubelet API's handlers (their authentication is not used here). */
  api: KubeletServerOptions;
  onListening: (address: string) => void;
  onError: (err: Error) => void;
}

export function serveReadOnlyKubeletApi(o: ReadOnlyOptions): { close(): Promise<void> } {
  const server = createServer((req: IncomingMessage, res: ServerResponse) => {
    const url = new URL(req.url ?? '/', 'http://kubelet');
    const what = readOnlyDisposition(req.method, url.pathname);
    if (what === 'debugging') return send(res, 405, 'Debug endpoints are disabled.');
    if (what === 'not-found') return send(res, 404, `404 page not found: ${url.pathname}`);
    if (what === 'method') return send(res, 405, `${req.method} is not allowed on the read-only port`);
    route(o.api, req, res, url).catch((e: Error) => {
      if (!res.headersSent) send(res, 500, e.message);
      else res.destroy(e);
    });
  });
  server.on('error', o.onError);
  server.listen(o.port, o.host, () => o.onListening(`${o.host}:${o.port}`));
  return {
    close: () => new Promise<void>((resolve) => {
      server.closeAllConnections();
      server.close(() => resolve());
    }),
  };
}
