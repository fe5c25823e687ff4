// The kubelet's local health endpoint (healthzBindAddress:healthzPort, upstream 127.0.0.1:10248):
// /healthz answers ok while the runtime relists and the log accepts entries (500 with the reason
// otherwise). Nothing else, as upstream: the metrics are on the kubelet API (agent-metrics.ts).
import { createServer, type Server } from 'node:http';
import type { PlegStats } from '../streams/pleg.ts';
import type { LogWriteStatus } from '../runtime/engine.ts';

export interface HealthServerOptions {
  host: string;
  port: number;
  pleg: PlegStats;
  logStatus: () => LogWriteStatus;
  onError: (err: Error) => void;
}

export function serveHealth(o: HealthServerOptions): { close(): Promise<void> } {
  const server: Server = createServer((req, res) => {
    if (req.url === '/healthz') {
      const log = o.logStatus();
      const problem = !log.writable
        ? `node log not writable since ${log.since.toISOString()} (${log.attempts} attempts): ${log.error}`
        : !o.pleg.healthy ? 'pleg is not healthy' : undefined;
      res.writeHead(problem ? 500 : 200, { 'content-type': 'text/plain' }).end(problem ?? 'ok');
    } else res.writeHead(404).end();
  });
  server.on('error', (e) => o.onError(e));
  server.listen(o.port, o.host);
  return {
    close: () => new Promise<void>((r) => {
      server.close(() => r());
      server.closeAllConnections();
    }),
  };
}
