// Who is calling the kubelet API and whether they may: x509 client certificates (clientCAFile),
// bearer tokens (TokenReview), anonymous if enabled; then AlwaysAllow or a SubjectAccessReview
// on nodes/<subresource>, with upstream's cache lifetimes.
import type { IncomingMessage } from 'node:http';
import type { TLSSocket } from 'node:tls';
import type { KubeClients } from '../adapters/kube/connect.ts';
import { reviewAccess, reviewToken, type UserInfo } from '../adapters/kube/access-review.ts';
import type { KubeletAuthentication, KubeletAuthorization } from '../model/kubelet-config.ts';
import { parseDurationMs } from '../model/duration.ts';

export type AuthResult = { ok: true; user: UserInfo } | { ok: false; status: 401 | 403 | 503; message: string };

/** Upstream's mapping of request paths to the nodes subresource checked. */
export function subresourceFor(path: string): string {
  const under = (p: string) => path === p || path.startsWith(`${p}/`);
  if (under('/stats')) return 'stats';
  if (under('/metrics')) return 'metrics';
  if (under('/logs')) return 'log';
  return 'proxy';
}

/** Upstream's verbs; any other method (HEAD, OPTIONS, ...) gets an empty verb, which RBAC never allows. */
export function verbFor(method: string | undefined): string {
  switch (method) {
    case 'GET': return 'get';
    case 'POST': return 'create';
    case 'PUT': return 'update';
    case 'PATCH': return 'patch';
    case 'DELETE': return 'delete';
    default: return '';
  }
}

/**
 * The bearer token of an Authorization header, as upstream's bearertoken authenticator reads it:
 * scheme case-insensitive, the token the second space-separated part; empty means none.
 */
export function bearerToken(header: string | undefined): string | undefined {
  const parts = (header ?? '').trim().split(' ');
  if (parts.length < 2 || parts[0].toLowerCase() !== 'bearer' || !parts[1]) return undefined;
  return parts[1];
}

/** The authorization cache key: everything the SubjectAccessReview is made of, as upstream's webhook cache. */
export function decisionKey(user: UserInfo, verb: string, subresource: string): string {
  const extra = Object.keys(user.extra ?? {}).sort().map((k) => [k, user.extra![k]]);
  return JSON.stringify([user.name, user.uid ?? '', user.groups, extra, verb, subresource]);
}

/** A verified client certificate's user: CN is the name, each O a group. */
export function userFromCertificate(subject: { CN?: string | string[]; O?: string | string[] } | undefined): UserInfo | undefined {
  const cn = Array.isArray(subject?.CN) ? subject?.CN[0] : subject?.CN;
  if (!cn) return undefined;
  const o = subject?.O;
  return { name: cn, groups: [...(Array.isArray(o) ? o : o ? [o] : []), 'system:authenticated'] };
}

class TtlCache<V> {
  private readonly m = new Map<string, { v: V; until: number }>();
  get(k: string, now: number): V | undefined {
    const hit = this.m.get(k);
    if (!hit) return undefined;
    if (hit.until > now) return hit.v;
    this.m.delete(k);
    return undefined;
  }
  set(k: string, v: V, ttlMs: number, now: number): void {
    if (ttlMs <= 0) return;
    if (this.m.size > 10_000) this.m.clear();
    this.m.set(k, { v, until: now + ttlMs });
  }
}

export interface KubeletAuthOptions {
  authentication: KubeletAuthentication;
  authorization: KubeletAuthorization;
  clients?: KubeClients;
  nodeName: string;
  now: () => number;
  /** The API server's TokenReview and SubjectAccessReview (replaceable in unit tests). */
  review?: { token: typeof reviewToken; access: typeof reviewAccess };
}

export class KubeletAuth {
  private readonly tokens = new TtlCache<UserInfo | null>();
  private readonly decisions = new TtlCache<{ allowed: boolean; reason?: string }>();

  constructor(private readonly o: KubeletAuthOptions) {}

  async check(req: IncomingMessage, path: string): Promise<AuthResult> {
    const who = await this.authenticate(req);
    if (!who.ok) return who;
    return this.authorize(who.user, req.method, path);
  }

  async authenticate(req: IncomingMessage): Promise<AuthResult> {
    const sock = req.socket as TLSSocket;
    if (sock.authorized) {
      const user = userFromCertificate(sock.getPeerCertificate?.()?.subject as never);
      if (user) return { ok: true, user };
    }
    // As upstream, a credential that fails is an error, never anonymous: a client certificate the
    // CA does not verify, or a token the TokenReview rejects, is 401 even with anonymous enabled.
    const untrusted = this.o.authentication.x509.clientCAFile && sock.getPeerCertificate && !sock.authorized && Object.keys(sock.getPeerCertificate() ?? {}).length > 0;
    const token = bearerToken(req.headers.authorization);
    if (token && this.o.authentication.webhook.enabled && this.o.clients) {
      const now = this.o.now();
      let user = this.tokens.get(token, now);
      if (user === undefined) {
        try {
          user = (await (this.o.review?.token ?? reviewToken)(this.o.clients, token)) ?? null;
        } catch (e) {
          return { ok: false, status: 503, message: `token review failed: ${(e as Error).message}` };
        }
        this.tokens.set(token, user, parseDurationMs(this.o.authentication.webhook.cacheTTL) ?? 120_000, now);
      }
      if (user) return { ok: true, user };
      return { ok: false, status: 401, message: 'Unauthorized' };
    }
    if (untrusted) return { ok: false, status: 401, message: 'Unauthorized' };
    if (this.o.authentication.anonymous.enabled) return { ok: true, user: { name: 'system:anonymous', groups: ['system:unauthenticated'] } };
    return { ok: false, status: 401, message: 'Unauthorized' };
  }

  async authorize(user: UserInfo, method: string | undefined, path: string): Promise<AuthResult> {
    if (this.o.authorization.mode === 'AlwaysAllow') return { ok: true, user };
    const verb = verbFor(method);
    const subresource = subresourceFor(path);
    const forbidden = `Forbidden (user=${user.name}, verb=${verb}, resource=nodes, subresource=${subresource})`;
    if (!this.o.clients) return { ok: false, status: 403, message: `${forbidden}: no API server to ask (standalone)` };
    const key = decisionKey(user, verb, subresource);
    const now = this.o.now();
    let d = this.decisions.get(key, now);
    if (!d) {
      try {
        d = await (this.o.review?.access ?? reviewAccess)(this.o.clients, user, { verb, subresource, nodeName: this.o.nodeName });
      } catch (e) {
        return { ok: false, status: 503, message: `authorization check failed: ${(e as Error).message}` };
      }
      const w = this.o.authorization.webhook;
      this.decisions.set(key, d, parseDurationMs(d.allowed ? w.cacheAuthorizedTTL : w.cacheUnauthorizedTTL) ?? 0, now);
    }
    return d.allowed ? { ok: true, user } : { ok: false, status: 403, message: d.reason ? `${forbidden}: ${d.reason}` : forbidden };
  }
}
