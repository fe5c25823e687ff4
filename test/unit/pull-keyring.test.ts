import { expect } from 'chai';
import { credentialsFor, credentialsOf, keyMatches, PullSecretError, registryKey, repositoryOf, secretValuesOf, type PullSecret } from '../../src/effects/cri/pull-keyring.ts';
import { register, release, scrub } from '../../src/runtime/secret-values.ts';

const b64 = (s: string) => Buffer.from(s).toString('base64');
const dockerconfigjson = (name: string, auths: Record<string, object>): PullSecret => ({
  name, type: 'kubernetes.io/dockerconfigjson', data: { '.dockerconfigjson': JSON.stringify({ auths }) },
});

describe('pull secret keyring (upstream credentialprovider)', () => {
  it('matches registry keys to repositories as URLsMatchStr', () => {
    const cases: [string, string, boolean][] = [
      ['*.kubernetes.io', 'prefix.kubernetes.io', true],
      ['prefix.*.io', 'prefix.kubernetes.io', true],
      ['prefix.kubernetes.*', 'prefix.kubernetes.io', true],
      ['*-good.kubernetes.io', 'prefix-good.kubernetes.io', true],
      ['*.kubernetes.io/blah', 'prefix.kubernetes.io/blah', true],
      ['prefix.*.io/foo', 'prefix.kubernetes.io/foo/bar', true],
      ['*.kubernetes.io:1111/blah', 'prefix.kubernetes.io:1111/blah', true],
      ['prefix.*.io:1111/foo', 'prefix.kubernetes.io:1111/foo/bar', true],
      ['*.kubernetes.io', 'kubernetes.io', false],
      ['*.*.kubernetes.io', 'prefix.kubernetes.io', false],
      ['*kubernetes.io', 'a.kubernetes.io', false],
      ['*kubernetes.io', 'kubernetes.io', true],
      ['*.*.*.kubernetes.io', 'a.b.c.kubernetes.io', true],
      ['kubernetes.io', 'kubernetes.com', false],
      ['k*.io', 'quay.io', false],
      ['*.kubernetes.io:1234/blah', 'prefix.kubernetes.io:1111/blah', false],
      ['prefix.*.io/foo', 'prefix.kubernetes.io:1111/foo/bar', false],
      ['127.0.0.1:5103', '127.0.0.1:5103/ledgerlet/busybox', true],
      ['127.0.0.1:5103', '127.0.0.1:5003/ledgerlet/busybox', false],
      ['127.0.0.1', '127.0.0.1:5103/ledgerlet/busybox', false],
      ['127.0.0.1:5103/other', '127.0.0.1:5103/ledgerlet/busybox', false],
    ];
    for (const [glob, target, want] of cases) expect(keyMatches(glob, target), `${glob} vs ${target}`).to.equal(want);
  });

  it('keys locations as upstream Add: scheme stripped, /v1/ and /v2/ dropped', () => {
    expect(registryKey('https://index.docker.io/v1/')).to.equal('index.docker.io');
    expect(registryKey('http://127.0.0.1:5103')).to.equal('127.0.0.1:5103');
    expect(registryKey('https://reg.example.com/v2/team')).to.equal('reg.example.com/team');
    expect(registryKey('reg.example.com/team/')).to.equal('reg.example.com/team/');
  });

  it('normalises images to repositories as ParseImageName', () => {
    expect(repositoryOf('busybox')).to.equal('docker.io/library/busybox');
    expect(repositoryOf('busybox:1.36')).to.equal('docker.io/library/busybox');
    expect(repositoryOf('team/app:1@sha256:abc')).to.equal('docker.io/team/app');
    expect(repositoryOf('127.0.0.1:5103/ledgerlet/busybox:1.35.0')).to.equal('127.0.0.1:5103/ledgerlet/busybox');
    expect(repositoryOf('localhost/app')).to.equal('localhost/app');
  });

  it('reads dockerconfigjson and dockercfg secrets of the right type; auth overrides username/password', () => {
    const secrets: PullSecret[] = [
      dockerconfigjson('a', { 'https://127.0.0.1:5103': { auth: b64('alice:pa:ss') }, 'other.io': { username: 'u', password: 'p' } }),
      { name: 'legacy', type: 'kubernetes.io/dockercfg', data: { '.dockercfg': JSON.stringify({ '127.0.0.1:5103': { username: 'bob', password: 'pw', auth: b64('carol:cpw') } }) } },
      { name: 'opaque', type: 'Opaque', data: { '.dockerconfigjson': JSON.stringify({ auths: { '127.0.0.1:5103': { username: 'x', password: 'y' } } }) } },
      { name: 'wrongkey', type: 'kubernetes.io/dockerconfigjson', data: { '.dockercfg': '{}' } },
    ];
    const creds = credentialsFor('127.0.0.1:5103/ledgerlet/busybox:1.35.0', credentialsOf(secrets));
    expect(creds.map((c) => [c.secret, c.registry, c.auth])).to.deep.equal([
      ['a', '127.0.0.1:5103', { username: 'alice', password: 'pa:ss' }],
      ['legacy', '127.0.0.1:5103', { username: 'carol', password: 'cpw' }],
    ]);
    expect(credentialsFor('quay.io/x', credentialsOf(secrets))).to.deep.equal([]);
  });

  it('tries more specific paths first, and falls back to index.docker.io for Docker Hub images', () => {
    const keyed = credentialsOf([
      dockerconfigjson('host', { 'reg.io': { username: 'h', password: 'h1' } }),
      dockerconfigjson('team', { 'reg.io/team': { username: 't', password: 't1' } }),
      dockerconfigjson('hub', { 'https://index.docker.io/v1/': { username: 'd', password: 'd1' } }),
    ]);
    expect(credentialsFor('reg.io/team/app:1', keyed).map((c) => c.secret)).to.deep.equal(['team', 'host']);
    expect(credentialsFor('reg.io/other/app', keyed).map((c) => c.secret)).to.deep.equal(['host']);
    expect(credentialsFor('busybox', keyed).map((c) => c.secret)).to.deep.equal(['hub']);
    expect(credentialsFor('docker.io/team/app', keyed).map((c) => c.secret)).to.deep.equal(['hub']);
  });

  it('a malformed secret fails with a message that does not quote its content', () => {
    const bad = (data: string, type = 'kubernetes.io/dockerconfigjson', key = '.dockerconfigjson'): string => {
      try {
        credentialsOf([{ name: 'broken', type, data: { [key]: data } }]);
      } catch (e) {
        expect(e).to.be.instanceOf(PullSecretError);
        return (e as Error).message;
      }
      throw new Error('expected a PullSecretError');
    };
    const m1 = bad('{"auths": {"r.io": {"password": "hunter2-secret"');
    expect(m1).to.equal('pull secret "broken": .dockerconfigjson is not valid JSON');
    const m2 = bad(JSON.stringify({ auths: { 'r.io': { auth: b64('no-colon-hunter2') } } }));
    expect(m2).to.match(/unable to parse auth field/).and.not.include('hunter2').and.not.include(b64('no-colon-hunter2'));
    expect(bad(JSON.stringify({ auths: { 'r.io': { password: 42 } } }))).to.equal('pull secret "broken": .dockerconfigjson is not a Docker config ({"auths": {...}})');
    expect(bad('[1]', 'kubernetes.io/dockercfg', '.dockercfg')).to.equal('pull secret "broken": .dockercfg is not a map of registries to credentials');
  });

  it('gives every value to scrub: password, base64 auth (as written and re-encoded), the secret data', () => {
    const raw = b64('alice:s3cret-pw').replace(/=+$/, ''); // unpadded, as some tools write it
    const secrets = [dockerconfigjson('a', { 'r.io': { auth: raw } })];
    const values = secretValuesOf(credentialsOf(secrets), secrets);
    expect(values).to.include.members(['s3cret-pw', raw, b64('alice:s3cret-pw'), secrets[0].data['.dockerconfigjson']]);
    register('test-owner', values);
    try {
      expect(scrub(`401 for alice with s3cret-pw and Basic ${b64('alice:s3cret-pw')}`)).to.equal('401 for alice with [redacted] and Basic [redacted]');
    } finally {
      release('test-owner');
    }
    expect(scrub('s3cret-pw')).to.equal('s3cret-pw');
  });
});
