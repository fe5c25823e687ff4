// exec, attach and port-forward on the kubelet API, as upstream: ask the runtime (CRI Exec, Attach,
// PortForward) for a streaming URL, then proxy the caller's upgraded connection (SPDY or
// WebSocket, spoken by the API server and containerd's streaming server) to it byte for byte.
import { connect, type Socket } from 'node:net';
import { STATUS_CODES, type IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { CriClient } from '../adapters/cri/index.ts';
import type { PodsState } from '../reducers/pods/state.ts';
import type { KubeletAuth } from './kubelet-auth.ts';
import { findPod, readySandbox, runningContainer } from './kubelet-api-queries.ts';

export interface StreamingOptions {
  auth: KubeletAuth;
  pods: () => PodsState;
  cri: Pick<CriClient, 'exec' | 'attach' | 'portForward'>;
  /** streamingConnectionIdleTimeout in ms; 0 or undefined: streams may idle for ever. */
  idleTimeoutMs?: number;
}

/** The API server's query flags: "1" (or "true") turns a stream on. */
const flag = (q: URLSearchParams, ...names: string[]) => names.some((n) => q.get(n) === '1' || q.get(n) === 'true');

function refuse(socket: Duplex, status: number, message: string): void {
  const reason = STATUS_CODES[status] ?? 'Error';
  const body = `${message}\n`;
  socket.end(`HTTP/1.1 ${status} ${reason}\r\nContent-Type: text/plain; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nConnection: close\r\n\r\n${body}`);
}

/** The runtime's streaming URL for this request, or why there is none. */
async function streamingUrl(o: StreamingOptions, path: string, q: URLSearchParams): Promise<{ url: string } | { status: number; message: string }> {
  const m = /^\/(exec|attach)\/([^/]+)\/([^/]+)\/([^/]+)\/?$/.exec(path) ?? /^\/(portForward)\/([^/]+)\/([^/]+)\/?$/.exec(path);
  if (!m) return { status: 404, message: `404 page not found: ${path}` };
  const [, kind, ns, name, container] = m.map((x) => (x === undefined ? x : decodeURIComponent(x)));
  const rec = findPod(o.pods(), ns, name);
  const io = { tty: flag(q, 'tty'), stdin: flag(q, 'input', 'stdin'), stdout: flag(q, 'output', 'stdout'), stderr: flag(q, 'error', 'stderr') };
  if (kind === 'portForward') {
    const sb = readySandbox(rec, name);
    if (!sb.ok) return sb;
    const port = q.getAll('port').flatMap((p) => p.split(',')).map(Number).filter((n) => Number.isInteger(n) && n > 0 && n < 65536);
    return { url: await o.cri.portForward({ podSandboxId: sb.id, port }) };
  }
  const c = runningContainer(rec, name, container);
  if (!c.ok) return c;
  if (kind === 'attach') return { url: await o.cri.attach({ containerId: c.id, ...io }) };
  const cmd = q.getAll('command');
  if (cmd.length === 0) return { status: 400, message: 'you must specify at least 1 command' };
  return { url: await o.cri.exec({ containerId: c.id, cmd, ...io }) };
}

/** Handle an upgrade request (the server's 'upgrade' event). */
export async function handleStreamingUpgrade(o: StreamingOptions, req: IncomingMessage, socket: Duplex, head: Buffer): Promise<void> {
  socket.on('error', () => socket.destroy());
  const url = new URL(req.url ?? '/', 'https://kubelet');
  const auth = await o.auth.check(req, url.pathname);
  if (!auth.ok) return refuse(socket, auth.status, auth.message);
  let target: Awaited<ReturnType<typeof streamingUrl>>;
  try {
    target = await streamingUrl(o, url.pathname, url.searchParams);
  } catch (e) {
    return refuse(socket, 500, `the runtime refused: ${(e as Error).message}`);
  }
  if ('status' in target) return refuse(socket, target.status, target.message);
  const to = new URL(target.url);
  const upstream: Socket = connect(Number(to.port || 80), to.hostname);
  let connected = false;
  upstream.on('error', (e) => {
    if (!connected) refuse(socket, 503, `cannot reach the runtime's streaming server at ${to.host}: ${e.message}`);
    upstream.destroy();
  });
  upstream.on('connect', () => {
    connected = true;
    // Replay the caller's request to the streaming URL with its own Host; the runtime answers 101.
    let text = `${req.method} ${to.pathname}${to.search} HTTP/1.1\r\n`;
    for (let i = 0; i < req.rawHeaders.length; i += 2) {
      const k = req.rawHeaders[i].toLowerCase();
      if (k === 'host' || k === 'authorization') continue;
      text += `${req.rawHeaders[i]}: ${req.rawHeaders[i + 1]}\r\n`;
    }
    upstream.write(`${text}Host: ${to.host}\r\n\r\n`);
    if (head.length) upstream.write(head);
    upstream.pipe(socket);
    socket.pipe(upstream);
  });
  socket.on('close', () => upstream.destroy());
  upstream.on('close', () => socket.destroy());
  closeWhenIdle(socket, upstream, o.idleTimeoutMs);
}

/** Close both ends once no byte has moved either way for `ms` (streamingConnectionIdleTimeout). */
export function closeWhenIdle(a: Duplex, b: Duplex, ms: number | undefined): void {
  if (!ms || ms <= 0) return;
  let timer = setTimeout(idle, ms);
  function idle() {
    a.destroy();
    b.destroy();
  }
  const touch = () => {
    clearTimeout(timer);
    timer = setTimeout(idle, ms);
  };
  a.on('data', touch);
  b.on('data', touch);
  a.on('close', () => clearTimeout(timer));
  b.on('close', () => clearTimeout(timer));
}
