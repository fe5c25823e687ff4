// The kubelet API (address:port, upstream 0.0.0.0:10250) over TLS: what the API server calls for
// `kubectl logs` (/containerLogs), plus /pods and /healthz, the summary API (/stats/summary) and
// the metrics (/metrics, /metrics/resource, /metrics/probes, /metrics/cadvisor). Every request is authenticated and
// authorized (kubelet-auth.ts). exec, attach and port-forward are upgrades proxied to the runtime's
// streaming server (kubelet-streaming.ts); /run is not served (501).
import { createServer, type Server } from 'node:https';
import type { IncomingMessage, ServerResponse } from 'node:http';
import type { NodeAgentState } from '../reducers/index.ts';
import { stat } from 'node:fs/promises';
import { rotatedFiles } from '../adapters/fs/container-log-files.ts';
import { writeLog, type LogOptions, type LogRead } from '../adapters/fs/cri-log.ts';
import type { KubeletAuth } from './kubelet-auth.ts';
import { findPod, logTarget, podList, stillRunning } from './kubelet-api-queries.ts';
import type { ServingTls } from './kubelet-tls.ts';
import { serveLedger } from './kubelet-ledger.ts';
import type { LogSource } from '../postmortem/source.ts';
import type { Registry } from 'prom-client';
import type { Summary } from './stats-summary.ts';
import { cadvisorMetrics, resourceMetrics } from './resource-metrics.ts';
import { PROMETHEUS_TEXT } from './prometheus-text.ts';
import { handleStreamingUpgrade, type StreamingOptions } from './kubelet-streaming.ts';

export interface KubeletServerOptions {
  host: string;
  port: number;
  tls: ServingTls;
  auth: KubeletAuth;
  state: () => NodeAgentState;
  /** CRI calls that hand out streaming URLs (exec, attach, port-forward). */
  streaming: StreamingOptions['cri'];
  /** Where the runtime writes a container's log (CRI ContainerStatus.logPath). */
  containerLogPath: (containerId: string) => Promise<string>;
  now: () => number;
  /** The summary API's reads (stats-provider.ts); /stats and /metrics/{resource,cadvisor} answer 503 without it. */
  stats?: { summary(onlyCpuAndMemory: boolean): Promise<Summary> };
  /** The runtime's id and image of each running container, by `<pod uid>/<container>` (cAdvisor's labels). */
  containerIds?: () => Map<string, { id: string; image: string }>;
  /** The agent's own metrics (/metrics) and the prober's (/metrics/probes). */
  metrics?: { registry: Registry; probes: Registry };
  /** Told of a stats read that failed (the scrape answers scrape_error 1 or 500). */
  onStatsError?: (err: Error) => void;
  /** How often a followed log is polled for new lines. */
  followPollMs?: number;
  /** streamingConnectionIdleTimeout: an exec/attach/port-forward stream idle this long is closed (0: never). */
  streamIdleTimeoutMs?: number;
  onListening: (address: string) => void;
  onError: (err: Error) => void;
  /** The node log's read side, served under /ledger (kubelet-ledger.ts). */
  ledger?: LogSource;
}

const STREAMING = ['/exec', '/attach', '/portForward'];
const NOT_SERVED = ['/run', '/cri'];

export function serveKubeletApi(o: KubeletServerOptions): { close(): Promise<void> } {
  const server: Server = createServer({ cert: o.tls.cert, key: o.tls.key, ca: o.tls.clientCA, requestCert: !!o.tls.clientCA, rejectUnauthorized: false, minVersion: o.tls.minVersion, ciphers: o.tls.ciphers }, (req, res) => {
    handle(o, req, res).catch((e: Error) => {
      if (!res.headersSent) send(res, 500, e.message);
      else res.destroy(e);
    });
  });
  server.on('upgrade', (req, socket, head) => {
    handleStreamingUpgrade({ auth: o.auth, pods: () => o.state().pods, cri: o.streaming, idleTimeoutMs: o.streamIdleTimeoutMs }, req, socket, head).catch(() => socket.destroy());
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

export function send(res: ServerResponse, status: number, text: string): void {
  res.writeHead(status, { 'Content-Type': 'text/plain; charset=utf-8' });
  res.end(text.endsWith('\n') ? text : `${text}\n`);
}

async function handle(o: KubeletServerOptions, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const url = new URL(req.url ?? '/', 'https://kubelet');
  const path = url.pathname;
  const auth = await o.auth.check(req, path);
  if (!auth.ok) return send(res, auth.status, auth.message);
  return route(o, req, res, url);
}

/** The handlers behind authentication (also the read-only port's, for the paths it serves). */
export async function route(o: KubeletServerOptions, req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
  const path = url.pathname;
  if (path === '/healthz') return send(res, 200, 'ok');
  if (path === '/stats/summary' || path === '/stats/summary/') return statsSummary(o, res, url.searchParams);
  if (path === '/metrics' || path.startsWith('/metrics/')) return metrics(o, res, path);
  if (path === '/pods' || path === '/pods/') {
    res.writeHead(200, { 'Content-Type': 'application/json' });
    return void res.end(JSON.stringify(podList(o.state().pods)));
  }
  const logs = /^\/containerLogs\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (logs) return containerLogs(o, req, res, decodeURIComponent(logs[1]), decodeURIComponent(logs[2]), decodeURIComponent(logs[3]), url.searchParams);
  if (o.ledger && (await serveLedger(o.ledger, req, res, path, url.searchParams))) return;
  const under = (p: string) => path === p || path.startsWith(`${p}/`);
  if (STREAMING.some(under)) return send(res, 400, 'Upgrade request required');
  if (NOT_SERVED.some(under)) return send(res, 501, `${path.split('/')[1]} is not implemented by ledgerlet (see docs/configuration.md)`);
  return send(res, 404, `404 page not found: ${path}`);
}

async function statsSummary(o: KubeletServerOptions, res: ServerResponse, q: URLSearchParams): Promise<void> {
  if (!o.stats) return send(res, 503, 'stats are not available');
  // Upstream: exactly one only_cpu_and_memory=true asks for the CPU-and-memory summary.
  const only = q.getAll('only_cpu_and_memory');
  try {
    const summary = await o.stats.summary(only.length === 1 && only[0] === 'true');
    res.writeHead(200, { 'Content-Type': 'application/json' });
    res.end(JSON.stringify(summary));
  } catch (e) {
    o.onStatsError?.(e as Error);
    send(res, 500, `Internal Error: failed to get the summary: ${(e as Error).message}`);
  }
}

async function metrics(o: KubeletServerOptions, res: ServerResponse, path: string): Promise<void> {
  const text = (body: string) => {
    res.writeHead(200, { 'Content-Type': PROMETHEUS_TEXT });
    res.end(body);
  };
  switch (path.replace(/\/$/, '')) {
    case '/metrics':
      if (!o.metrics) return send(res, 404, '404 page not found');
      return text(await o.metrics.registry.metrics());
    case '/metrics/probes':
      if (!o.metrics) return send(res, 404, '404 page not found');
      return text(await o.metrics.probes.metrics());
    case '/metrics/resource': {
      // As upstream, a failed read still answers 200 with scrape_error 1.
      const summary = await o.stats?.summary(true).catch((e: Error) => void o.onStatsError?.(e));
      return text(resourceMetrics(summary ?? undefined));
    }
    case '/metrics/cadvisor': {
      if (!o.stats) return send(res, 503, 'stats are not available');
      const summary = await o.stats.summary(true).catch((e: Error) => e);
      if (summary instanceof Error) {
        o.onStatsError?.(summary);
        return send(res, 500, `failed to read container stats: ${summary.message}`);
      }
      return text(cadvisorMetrics(summary, o.containerIds?.() ?? new Map()));
    }
    default:
      return send(res, 404, `404 page not found: ${path}`);
  }
}

function logOptions(q: URLSearchParams, now: number): LogOptions | string {
  const int = (k: string) => (q.has(k) ? Number(q.get(k)) : undefined);
  const tailLines = int('tailLines');
  const limitBytes = int('limitBytes');
  const sinceSeconds = int('sinceSeconds');
  for (const [k, v] of [['tailLines', tailLines], ['limitBytes', limitBytes], ['sinceSeconds', sinceSeconds]] as const) {
    if (v !== undefined && (!Number.isInteger(v) || v < 0)) return `${k} must be a non-negative integer`;
  }
  let sinceMs = sinceSeconds !== undefined ? now - sinceSeconds * 1000 : undefined;
  const sinceTime = q.get('sinceTime');
  if (sinceTime) {
    sinceMs = Date.parse(sinceTime);
    if (Number.isNaN(sinceMs)) return `sinceTime: not an RFC 3339 time: ${sinceTime}`;
  }
  return { tailLines, limitBytes, sinceMs, timestamps: q.get('timestamps') === 'true' };
}

async function containerLogs(o: KubeletServerOptions, req: IncomingMessage, res: ServerResponse, ns: string, name: string, container: string, q: URLSearchParams): Promise<void> {
  const opts = logOptions(q, o.now());
  if (typeof opts === 'string') return send(res, 400, opts);
  const rec = findPod(o.state().pods, ns, name);
  const target = logTarget(rec, name, container, q.get('previous') === 'true');
  if (!target.ok) return send(res, target.status, target.message);
  let file: string;
  try {
    file = await o.containerLogPath(target.containerId);
  } catch (e) {
    return send(res, 404, `failed to find the log of container "${container}" in pod "${name}": ${(e as Error).message}`);
  }
  let closed = false;
  req.on('close', () => (closed = true));
  // Backpressure: a slow client pauses the read instead of the agent buffering the file.
  const write = async (text: string) => {
    if (closed) throw new ClientGone();
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
    if (!res.write(text)) await new Promise<void>((r) => { res.once('drain', r); res.once('close', r); });
  };
  let read: LogRead;
  try {
    read = await writeLog(file, opts, write);
    if (!res.headersSent) res.writeHead(200, { 'Content-Type': 'text/plain; charset=utf-8' });
  } catch (e) {
    if (e instanceof ClientGone) return;
    if (!res.headersSent) return send(res, 404, `failed to read the log of container "${container}" in pod "${name}" at ${file}`);
    return void res.end();
  }
  let budget = (opts.limitBytes ?? Infinity) - read.written;
  if (q.get('follow') !== 'true' || !target.running || budget <= 0) return void res.end();
  // Follow: poll for whole new lines until the client goes away or this instance stops running.
  let offset = read.next;
  let ino = read.ino;
  const uid = rec!.ref.uid;
  const poll = o.followPollMs ?? 250;
  while (!closed && budget > 0) {
    await new Promise((r) => setTimeout(r, poll));
    const running = stillRunning(o.state().pods, uid, container, target.containerId);
    // Rotated since the last poll: finish the old file (now the newest `<log>.<time>`), then start the new one.
    const now = await stat(file).catch(() => undefined);
    if (now && now.ino !== ino) {
      const old = (await rotatedFiles(file)).filter((f) => !f.endsWith('.gz')).at(-1);
      if (old && (await stat(old).catch(() => undefined))?.ino === ino) {
        const rest = await writeLog(old, { from: offset, timestamps: opts.timestamps, limitBytes: budget }, write).catch(() => undefined);
        budget -= rest?.written ?? 0;
      }
      offset = 0;
      ino = now.ino;
      if (budget <= 0) break;
    }
    const next = await writeLog(file, { from: offset, timestamps: opts.timestamps, limitBytes: budget }, write).catch(() => undefined);
    if (!next) break;
    offset = next.next;
    ino = next.ino;
    budget -= next.written;
    if (next.written === 0 && !running) break;
  }
  res.end();
}

/** The client went away while its log was being written. */
class ClientGone extends Error {}
