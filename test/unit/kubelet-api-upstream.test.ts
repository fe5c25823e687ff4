// The kubelet API where it now matches upstream: credentials that fail are 401 even with anonymous
// on, unknown methods get an empty verb, the authorization cache keys on the whole user,
// tlsMinVersion/tlsCipherSuites, streamingConnectionIdleTimeout, the read-only port's paths, and
// the start-up warning for settings without effect.
import { expect } from 'chai';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type { IncomingMessage } from 'node:http';
import { createServer, type Server } from 'node:https';
import { connect as tlsConnect } from 'node:tls';
import { PassThrough } from 'node:stream';
import { generate } from 'selfsigned';
import { bearerToken, decisionKey, KubeletAuth, verbFor } from '../../src/agent/kubelet-auth.ts';
import { closeWhenIdle } from '../../src/agent/kubelet-streaming.ts';
import { readOnlyDisposition } from '../../src/agent/kubelet-read-only.ts';
import type { KubeClients } from '../../src/adapters/kube/connect.ts';
import type { UserInfo } from '../../src/adapters/kube/access-review.ts';
import { kubeletConfigDefaults, parseKubeletConfig } from '../../src/model/kubelet-config.ts';
import { settingsWithoutEffect, SETTINGS_NOT_ACTED_ON } from '../../src/model/kubelet-config-ignored.ts';
import { insecureCipherSuites, servingTlsSettings } from '../../src/model/tls-settings.ts';

const fakeReq = (headers: Record<string, string>, cert: object = {}, authorized = false) =>
  ({ headers, method: 'GET', socket: { authorized, getPeerCertificate: () => cert } }) as unknown as IncomingMessage;

function auth(over: { anonymous?: boolean; clientCA?: string; users?: Record<string, UserInfo>; allow?: (u: UserInfo) => boolean } = {}) {
  const calls = { token: 0, access: 0 };
  const a = new KubeletAuth({
    authentication: { ...kubeletConfigDefaults.authentication, x509: { clientCAFile: over.clientCA ?? '' }, anonymous: { enabled: over.anonymous ?? false } },
    authorization: kubeletConfigDefaults.authorization,
    clients: {} as KubeClients,
    nodeName: 'n1',
    now: () => 0,
    review: {
      token: async (_c, token) => (calls.token++, over.users?.[token]),
      access: async (_c, user) => (calls.access++, { allowed: over.allow?.(user) ?? true }),
    },
  });
  return { a, calls };
}

describe('kubelet API authentication as upstream', () => {
  it('given anonymous auth on, when a bearer token is invalid, then it is 401 (not anonymous); no token is anonymous', async () => {
    const { a } = auth({ anonymous: true, users: { good: { name: 'alice', groups: ['dev'] } } });
    expect(await a.authenticate(fakeReq({ authorization: 'Bearer bad' }))).to.deep.equal({ ok: false, status: 401, message: 'Unauthorized' });
    expect(await a.authenticate(fakeReq({}))).to.deep.include({ ok: true, user: { name: 'system:anonymous', groups: ['system:unauthenticated'] } });
    expect(await a.authenticate(fakeReq({ authorization: 'bearer good' }))).to.deep.include({ ok: true, user: { name: 'alice', groups: ['dev'] } });
  });

  it('given a client CA and anonymous on, when a presented certificate does not verify, then it is 401', async () => {
    const { a } = auth({ anonymous: true, clientCA: '/ca.crt' });
    expect((await a.authenticate(fakeReq({}, { subject: { CN: 'mallory' } }, false))).ok).to.equal(false);
    expect(await a.authenticate(fakeReq({}, { subject: { CN: 'alice', O: 'dev' } }, true))).to.deep.include({ ok: true, user: { name: 'alice', groups: ['dev', 'system:authenticated'] } });
  });

  it('given Authorization headers, when read as upstream, then only "Bearer <token>" (any case) carries a token', () => {
    expect(bearerToken('Bearer abc')).to.equal('abc');
    expect(bearerToken('BEARER abc')).to.equal('abc');
    expect(bearerToken('Bearer  abc')).to.equal(undefined); // upstream: the empty second part
    expect(bearerToken('Bearer')).to.equal(undefined);
    expect(bearerToken('Basic abc')).to.equal(undefined);
    expect(bearerToken(undefined)).to.equal(undefined);
  });

  it('given methods, when mapped to verbs, then anything but GET/POST/PUT/PATCH/DELETE is the empty verb', () => {
    expect(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS', 'PROPFIND', undefined].map(verbFor)).to.deep.equal(['get', 'create', 'update', 'patch', 'delete', '', '', '', '']);
  });

  it('given two users with one name, when authorized, then the cache keeps their decisions apart (uid, groups, extra)', async () => {
    const base = { name: 'bob', groups: ['g'] };
    const keys = new Set([
      decisionKey(base, 'get', 'proxy'),
      decisionKey({ ...base, uid: '1' }, 'get', 'proxy'),
      decisionKey({ ...base, groups: ['g', 'admins'] }, 'get', 'proxy'),
      decisionKey({ ...base, extra: { scopes: ['a'] } }, 'get', 'proxy'),
      decisionKey(base, '', 'proxy'),
    ]);
    expect(keys.size).to.equal(5);
    expect(decisionKey({ ...base, extra: { a: ['1'], b: ['2'] } }, 'get', 'proxy')).to.equal(decisionKey({ ...base, extra: { b: ['2'], a: ['1'] } }, 'get', 'proxy'));

    const { a, calls } = auth({ allow: (u) => u.groups.includes('admins') });
    expect((await a.authorize({ name: 'bob', groups: ['admins'] }, 'GET', '/pods')).ok).to.equal(true);
    // same name, other groups: asked again (the cached "allowed" is not reused) and refused
    const other = await a.authorize({ name: 'bob', groups: [] }, 'GET', '/pods');
    expect(other).to.include({ ok: false, status: 403 });
    expect(calls.access).to.equal(2);
    await a.authorize({ name: 'bob', groups: ['admins'] }, 'GET', '/pods');
    expect(calls.access).to.equal(2); // cached
    expect(await a.authorize({ name: 'bob', groups: ['admins'] }, 'HEAD', '/pods')).to.include({ ok: true });
    expect(calls.access).to.equal(3); // the empty verb is its own question
  });
});

describe('tlsMinVersion and tlsCipherSuites', () => {
  it('given Go names, when mapped, then Node gets OpenSSL names, TLS 1.3 suites always on', () => {
    const r = servingTlsSettings('VersionTLS12', ['TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305', 'TLS_AES_128_GCM_SHA256']);
    expect(isRight(r) && r.right).to.deep.equal({ minVersion: 'TLSv1.2', ciphers: 'TLS_AES_128_GCM_SHA256:TLS_AES_256_GCM_SHA384:TLS_CHACHA20_POLY1305_SHA256:ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-CHACHA20-POLY1305' });
    const none = servingTlsSettings('', []);
    expect(isRight(none) && none.right).to.deep.equal({ minVersion: undefined });
    expect(insecureCipherSuites(['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256'])).to.deep.equal(['TLS_RSA_WITH_AES_128_CBC_SHA', 'TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA256']);
  });

  it('given unknown names, when the configuration is parsed, then start-up fails naming them', () => {
    const v = parseKubeletConfig('tlsMinVersion: TLS1.3\n');
    expect(isLeft(v) && v.left[0]).to.match(/tlsMinVersion: unknown TLS version "TLS1.3"/);
    const c = parseKubeletConfig('tlsCipherSuites: [TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, ECDHE-RSA-AES128-GCM-SHA256]\n');
    expect(isLeft(c) && c.left[0]).to.match(/tlsCipherSuites: cipher suite ECDHE-RSA-AES128-GCM-SHA256 not supported/);
    const ok = parseKubeletConfig('tlsMinVersion: VersionTLS13\nstreamingConnectionIdleTimeout: 5m\nreadOnlyPort: 10255\n');
    expect(isRight(ok) && [ok.right.tlsMinVersion, ok.right.streamingConnectionIdleTimeout, ok.right.readOnlyPort]).to.deep.equal(['VersionTLS13', '5m', 10255]);
    expect([kubeletConfigDefaults.streamingConnectionIdleTimeout, kubeletConfigDefaults.readOnlyPort]).to.deep.equal(['4h', 0]);
    expect(isLeft(parseKubeletConfig('readOnlyPort: 70000\n'))).to.equal(true);
  });

  describe('on a real TLS server', () => {
    let server: Server;
    let port = 0;
    const start = async (minVersion: string, suites: string[]) => {
      const s = servingTlsSettings(minVersion, suites);
      if (isLeft(s)) throw new Error(s.left);
      const pems = await generate([{ name: 'commonName', value: 'n1' }], { keyType: 'ec', algorithm: 'sha256' });
      server = createServer({ cert: pems.cert, key: pems.private, minVersion: s.right.minVersion, ciphers: s.right.ciphers }, (_q, r) => r.end('ok'));
      await new Promise<void>((r) => server.listen(0, '127.0.0.1', () => r()));
      port = (server.address() as { port: number }).port;
    };
    const handshake = (opts: object) => new Promise<string>((resolve) => {
      const sock = tlsConnect({ host: '127.0.0.1', port, rejectUnauthorized: false, ...opts }, () => {
        const v = `${sock.getProtocol()} ${sock.getCipher().standardName}`;
        sock.end();
        resolve(v);
      });
      sock.on('error', (e) => resolve(`refused: ${e.message}`));
    });
    afterEach(() => server?.close());

    it('given VersionTLS13, when a TLS 1.2 client connects, then the handshake is refused; TLS 1.3 works', async () => {
      await start('VersionTLS13', []);
      expect(await handshake({ maxVersion: 'TLSv1.2' })).to.match(/^refused/);
      expect(await handshake({})).to.match(/^TLSv1\.3 /);
    });

    it('given one TLS 1.2 suite, when clients offer others only, then they are refused; that suite is used', async () => {
      await start('VersionTLS12', ['TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384']);
      expect(await handshake({ maxVersion: 'TLSv1.2', ciphers: 'ECDHE-ECDSA-AES128-GCM-SHA256' })).to.match(/^refused/);
      expect(await handshake({ maxVersion: 'TLSv1.2' })).to.equal('TLSv1.2 TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384');
      expect(await handshake({})).to.match(/^TLSv1\.3 /);
    });
  });
});

describe('streamingConnectionIdleTimeout', () => {
  it('given a stream pair, when no byte moves for the timeout, then both ends are closed; traffic keeps them open', async () => {
    const a = new PassThrough();
    const b = new PassThrough();
    a.resume();
    b.resume();
    closeWhenIdle(a, b, 150);
    for (let i = 0; i < 6; i++) {
      await new Promise((r) => setTimeout(r, 60));
      (i % 2 ? a : b).write('x');
    }
    expect([a.destroyed, b.destroyed]).to.deep.equal([false, false]);
    await new Promise((r) => setTimeout(r, 300));
    expect([a.destroyed, b.destroyed]).to.deep.equal([true, true]);
  });

  it('given 0, when idle, then nothing is closed', async () => {
    const a = new PassThrough();
    const b = new PassThrough();
    closeWhenIdle(a, b, 0);
    await new Promise((r) => setTimeout(r, 50));
    expect([a.destroyed, b.destroyed]).to.deep.equal([false, false]);
  });
});

describe('the read-only port', () => {
  it('given paths, when asked on the read-only port, then only upstream\'s unauthenticated ones are served, debugging ones 405', () => {
    expect(['/healthz', '/pods', '/pods/', '/stats/summary', '/metrics', '/metrics/resource'].map((p) => readOnlyDisposition('GET', p))).to.deep.equal(Array(6).fill('serve'));
    expect(['/containerLogs/ns/p/c', '/exec/ns/p/c', '/attach/ns/p/c', '/portForward/ns/p', '/run/ns/p/c', '/logs/syslog', '/debug/pprof/heap'].map((p) => readOnlyDisposition('GET', p))).to.deep.equal(Array(7).fill('debugging'));
    expect(['/configz', '/podsx', '/', '/cri/exec'].map((p) => readOnlyDisposition('GET', p))).to.deep.equal(Array(4).fill('not-found'));
    expect(readOnlyDisposition('POST', '/pods')).to.equal('method');
  });
});

describe('settings without effect', () => {
  it('given a file setting unused and unknown fields, when read, then each is named once; honoured ones are not', () => {
    const w = settingsWithoutEffect('kind: KubeletConfiguration\nserializeImagePulls: false\npodPidsLimit: 100\nmaxPods: 20\nfeatureGates: {A: true}\ntlsMinVersion: VersionTLS13\n');
    expect(w.map((x) => x.setting)).to.deep.equal(['serializeImagePulls', 'podPidsLimit', 'featureGates']);
    expect(w[2].why).to.match(/not a KubeletConfiguration field/);
    expect(settingsWithoutEffect('')).to.deep.equal([]);
    expect(settingsWithoutEffect('- a list')).to.deep.equal([]);
  });

  it('given the list, when checked against the codec, then every entry is a field the file may set (so it is accepted, then warned about)', () => {
    for (const k of Object.keys(SETTINGS_NOT_ACTED_ON)) {
      const r = parseKubeletConfig(`${k}: ${JSON.stringify((kubeletConfigDefaults as Record<string, unknown>)[k])}\n`);
      expect(isRight(r), k).to.equal(true);
    }
  });
});
