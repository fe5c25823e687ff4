// httpGet probes, as upstream's pkg/probe/http:
// - URL scheme://host:port/path; host defaults to the pod IP; port by number or by container port
//   name; headers from httpHeaders, plus `User-Agent: kube-probe/<major>.<minor>` and
//   `Accept: */*` unless given (an empty Accept removes it); a Host header sets the Host;
// - no keep-alive (each probe is a new connection, `Connection: close`); HTTPS without
//   certificate verification; at most 10 KiB of the body is read;
// - 200–399 is success; redirects are followed while they stay on the same host name (any port
//   or scheme), at most 10 (the 11th is a failure, "stopped after 10 redirects"); a redirect to
//   another host ends the chain and the 3xx counts as success with a warning;
// - anything else is a failure: "HTTP probe failed with statuscode: N", or the connection error;
// - timeoutSeconds bounds the whole exchange, redirects and body included.
import * as http from 'node:http';
import * as https from 'node:https';
import type { HttpGetAction } from '../../model/pod.ts';
import type * as t from 'io-ts';
import { resolveProbePort, type ProbeHandler, type ProbeOutcome } from './types.ts';

/** The kubelet version the probes announce themselves as (upstream: kube-probe/<major>.<minor>). */
export const PROBE_USER_AGENT = 'kube-probe/1.36';
export const MAX_BODY = 10 * 1024;
export const MAX_REDIRECTS = 10;

type HttpGet = t.TypeOf<typeof HttpGetAction>;

const joinHostPort = (host: string, port: number) => (host.includes(':') && !host.startsWith('[') ? `[${host}]:${port}` : `${host}:${port}`);

/** The probe's URL, or a reason it cannot be built. */
export function probeUrl(g: HttpGet, podIP: string | undefined, ports: { name?: string; containerPort: number }[]): URL | string {
  const port = resolveProbePort(g.port, ports);
  if (port === undefined) return `unable to resolve port ${JSON.stringify(g.port)}: no container port with that name`;
  const host = g.host || podIP;
  if (!host) return 'the pod has no IP address yet';
  const scheme = (g.scheme || 'HTTP').toLowerCase();
  const path = g.path ?? '';
  try {
    return new URL(`${scheme}://${joinHostPort(host, port)}${path.startsWith('/') || path === '' ? path : `/${path}`}`);
  } catch (e) {
    return `invalid URL: ${(e as Error).message}`;
  }
}

/** Request headers as upstream builds them (names are case-insensitive; the first spelling wins). */
export function probeHeaders(g: HttpGet): Record<string, string> {
  const out: Record<string, string> = {};
  const names = new Map<string, string>();
  for (const h of g.httpHeaders ?? []) {
    const key = h.name.toLowerCase();
    const name = names.get(key) ?? h.name;
    names.set(key, name);
    out[name] = out[name] !== undefined ? `${out[name]}, ${h.value}` : h.value;
  }
  if (!names.has('user-agent')) out['User-Agent'] = PROBE_USER_AGENT;
  if (!names.has('accept')) out.Accept = '*/*';
  else if (out[names.get('accept')!] === '') delete out[names.get('accept')!];
  return out;
}

interface Answer {
  status: number;
  location?: string;
  body: string;
}

function getOnce(url: URL, headers: Record<string, string>, signal: AbortSignal): Promise<Answer> {
  return new Promise<Answer>((resolve, reject) => {
    const mod = url.protocol === 'https:' ? https : http;
    const req = mod.request(
      {
        protocol: url.protocol,
        hostname: url.hostname.replace(/^\[(.*)\]$/, '$1'),
        port: url.port || (url.protocol === 'https:' ? 443 : 80),
        path: `${url.pathname}${url.search}`,
        method: 'GET',
        headers: { ...headers, Connection: 'close' },
        agent: false,
        rejectUnauthorized: false,
        signal,
      },
      (res) => {
        const chunks: Buffer[] = [];
        let size = 0;
        const done = () => {
          res.removeAllListeners('data');
          resolve({ status: res.statusCode ?? 0, location: res.headers.location, body: Buffer.concat(chunks).toString('utf8').slice(0, MAX_BODY) });
          res.destroy();
        };
        res.on('data', (c: Buffer) => {
          chunks.push(c);
          size += c.length;
          if (size >= MAX_BODY) done();
        });
        res.on('end', done);
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

const REDIRECTS = new Set([301, 302, 303, 307, 308]);

function errText(e: unknown, timeoutSeconds: number, signal: AbortSignal): string {
  if (signal.aborted) return `timeout: no answer within ${timeoutSeconds}s`;
  const err = e as NodeJS.ErrnoException;
  return err?.message ?? String(e);
}

/** One httpGet check against a URL (exported for tests and other callers). */
export async function httpProbe(url: URL, headers: Record<string, string>, timeoutSeconds: number, outer?: AbortSignal): Promise<ProbeOutcome> {
  const timeout = AbortSignal.timeout(Math.max(1, timeoutSeconds) * 1000);
  const signal = outer ? AbortSignal.any([timeout, outer]) : timeout;
  const firstHost = url.hostname;
  let current = url;
  let h = headers;
  for (let redirects = 0; ; ) {
    let a: Answer;
    try {
      a = await getOnce(current, h, signal);
    } catch (e) {
      return { result: 'failure', detail: `Get ${JSON.stringify(current.href)}: ${errText(e, timeoutSeconds, signal)}` };
    }
    if (REDIRECTS.has(a.status) && a.location) {
      let next: URL;
      try {
        next = new URL(a.location, current);
      } catch {
        return classify(a);
      }
      if (next.hostname !== firstHost) return classify(a); // upstream: http.ErrUseLastResponse
      if (redirects >= MAX_REDIRECTS) return { result: 'failure', detail: `Get ${JSON.stringify(next.href)}: stopped after ${MAX_REDIRECTS} redirects` };
      redirects++;
      // a custom Host header survives only a relative redirect (as Go's client)
      if (/^[a-z][a-z0-9+.-]*:|^\/\//i.test(a.location)) h = Object.fromEntries(Object.entries(h).filter(([k]) => k.toLowerCase() !== 'host'));
      current = next;
      continue;
    }
    return classify(a);
  }
}

function classify(a: Answer): ProbeOutcome {
  if (a.status >= 200 && a.status < 400) {
    if (a.status >= 300) {
      const warning = `Probe terminated redirects, Response body: ${a.body.trim().slice(0, 1024)}`;
      return { result: 'success', detail: warning, warning };
    }
    return { result: 'success', detail: '' };
  }
  // upstream keeps the body out of the user-facing message (kubernetes#99425)
  return { result: 'failure', detail: `HTTP probe failed with statuscode: ${a.status}` };
}

export function httpGetProbe(): ProbeHandler {
  return async ({ probe, target, timeoutSeconds, signal }) => {
    const g = probe.httpGet!;
    const url = probeUrl(g, target.podIP, target.ports);
    // upstream: a request that cannot be built is a prober error, thrown away (not a failure)
    if (typeof url === 'string') throw new Error(url);
    return httpProbe(url, probeHeaders(g), timeoutSeconds, signal);
  };
}
