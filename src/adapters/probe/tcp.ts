// tcpSocket probes, as upstream's pkg/probe/tcp: success when a TCP connection to host:port opens
// within timeoutSeconds (host defaults to the pod IP, port by number or name); the connection is
// closed at once with a reset, as upstream's probe dialer (SO_LINGER 0) so probes leave no
// TIME_WAIT sockets behind. Any error is a failure with its message.
import * as net from 'node:net';
import { resolveProbePort, type ProbeHandler, type ProbeOutcome } from './types.ts';

export function tcpProbe(host: string, port: number, timeoutSeconds: number, outer?: AbortSignal): Promise<ProbeOutcome> {
  const addr = host.includes(':') ? `[${host}]:${port}` : `${host}:${port}`;
  return new Promise<ProbeOutcome>((resolve) => {
    let settled = false;
    const sock = net.connect({ host, port });
    const finish = (o: ProbeOutcome) => {
      if (settled) return;
      settled = true;
      clearTimeout(timer);
      outer?.removeEventListener('abort', onAbort);
      if (typeof sock.resetAndDestroy === 'function' && !sock.destroyed && sock.readyState === 'open') sock.resetAndDestroy();
      else sock.destroy();
      resolve(o);
    };
    const timer = setTimeout(() => finish({ result: 'failure', detail: `dial tcp ${addr}: i/o timeout` }), Math.max(1, timeoutSeconds) * 1000);
    const onAbort = () => finish({ result: 'failure', detail: `dial tcp ${addr}: aborted` });
    outer?.addEventListener('abort', onAbort, { once: true });
    sock.once('connect', () => finish({ result: 'success', detail: '' }));
    sock.once('error', (e) => finish({ result: 'failure', detail: `dial tcp ${addr}: ${e.message}` }));
  });
}

export function tcpSocketProbe(): ProbeHandler {
  return async ({ probe, target, timeoutSeconds, signal }) => {
    const a = probe.tcpSocket!;
    const port = resolveProbePort(a.port, target.ports);
    // upstream: a port that does not resolve is a prober error, thrown away
    if (port === undefined) throw new Error(`unable to resolve port ${JSON.stringify(a.port)}: no container port with that name`);
    const host = a.host || target.podIP;
    if (!host) throw new Error('the pod has no IP address yet');
    return tcpProbe(host, port, timeoutSeconds, signal);
  };
}
