import { expect } from 'chai';
import { redactSecrets, REDACTED } from '../../src/model/entry-redact.ts';
import { isEmpty, MIN_SECRET_LENGTH, register, release, releaseAll, replace, scrub, SCRUBBED } from '../../src/runtime/secret-values.ts';
import { probeWithHeaders, withholdPodHeaders } from '../../src/runtime/withheld-headers.ts';

describe('secret value registry and scrubber', () => {
  afterEach(() => releaseAll(''));

  it('given nothing registered, when scrubbing, then the same string is returned and the registry is empty', () => {
    const s = 'exec: "echo hunter2hunter2": not found';
    expect(isEmpty()).to.equal(true);
    expect(scrub(s)).to.equal(s);
  });

  it('given a registered value, when it occurs inside a longer string, then every occurrence is replaced', () => {
    register('pod/a/container/app/env', ['Pa55word-xyz']);
    expect(scrub('exec: "sh -c echo Pa55word-xyz": executable file not found; Pa55word-xyzPa55word-xyz'))
      .to.equal(`exec: "sh -c echo ${SCRUBBED}": executable file not found; ${SCRUBBED}${SCRUBBED}`);
  });

  it('given a value with quotes and backslashes, when it appears JSON- or %q-escaped, then the escaped form is replaced too', () => {
    const v = 'pa"ss\\word-1234';
    register('o', [v]);
    expect(scrub(`raw ${v} end`)).to.equal(`raw ${SCRUBBED} end`);
    expect(scrub(JSON.stringify({ m: `x ${v} y` }))).to.equal(`{"m":"x ${SCRUBBED} y"}`);
  });

  it('given a value with a trailing newline (a file from kubectl create secret --from-file), then the trimmed value is replaced', () => {
    register('o', [Buffer.from('file-secret-value\n')]);
    expect(scrub('started with file-secret-value.')).to.equal(`started with ${SCRUBBED}.`);
  });

  it('given a multi-line value (a key), then each line is replaced on its own', () => {
    register('o', ['-----BEGIN KEY-----\nMIIEvQIBADANBgkqhkiG9w0BAQEFAASC\n-----END KEY-----']);
    expect(scrub('bad line MIIEvQIBADANBgkqhkiG9w0BAQEFAASC in file')).to.equal(`bad line ${SCRUBBED} in file`);
  });

  it('given a value and its base64 form, then both are replaced', () => {
    register('o', ['base64-me-please']);
    expect(scrub(`data: ${Buffer.from('base64-me-please').toString('base64')}`)).to.equal(`data: ${SCRUBBED}`);
  });

  it(`given a value shorter than ${MIN_SECRET_LENGTH} characters, then it is not registered (no false positives on short words)`, () => {
    register('o', ['admin', 'true', '']);
    expect(isEmpty()).to.equal(true);
    expect(scrub('admin is true')).to.equal('admin is true');
  });

  it('given a value with regexp metacharacters, then it is matched literally', () => {
    register('o', ['a.b*c+d?(e)[f]{g}|h^$']);
    expect(scrub('xa.b*c+d?(e)[f]{g}|h^$x')).to.equal(`x${SCRUBBED}x`);
    expect(scrub('aXbbbcdde')).to.equal('aXbbbcdde');
  });

  it('given two values where one contains the other, then the longer one is replaced whole', () => {
    register('o', ['secret-12345', 'secret-12345-and-more']);
    expect(scrub('v=secret-12345-and-more')).to.equal(`v=${SCRUBBED}`);
  });

  it('given a released owner, then its values are no longer scrubbed; a value another owner holds still is', () => {
    register('pod/a/volume/s', ['shared-value-1', 'only-a-value-1']);
    register('pod/b/volume/s', ['shared-value-1']);
    release('pod/a/volume/s');
    expect(scrub('shared-value-1 only-a-value-1')).to.equal(`${SCRUBBED} only-a-value-1`);
    releaseAll('pod/b/');
    expect(isEmpty()).to.equal(true);
    expect(scrub('shared-value-1')).to.equal('shared-value-1');
  });

  it('given a refreshed volume (replace), then the rotated-out token is no longer held and the new one is', () => {
    replace('pod/a/volume/tok', ['token-generation-1']);
    replace('pod/a/volume/tok', ['token-generation-2']);
    expect(scrub('token-generation-1 token-generation-2')).to.equal(`token-generation-1 ${SCRUBBED}`);
    replace('pod/a/volume/tok', []);
    expect(isEmpty()).to.equal(true);
  });

  it('given binary contents (invalid utf8), then nothing is registered for them', () => {
    register('o', [Buffer.from([0xff, 0xfe, 0x00, 0x41, 0x42, 0x43, 0x44, 0x45, 0x46, 0x47, 0x48, 0x49])]);
    expect(isEmpty()).to.equal(true);
  });

  it('given a registered value, when an entry is redacted with the scrubber, then every string in it is scrubbed and the rest kept', () => {
    register('o', ['MyPassw0rd!']);
    const data = { name: 'app', stage: 'create', message: 'failed to create: exec "echo MyPassw0rd!"', list: ['MyPassw0rd!', 'ok'] };
    expect(redactSecrets(data, scrub)).to.deep.equal({ name: 'app', stage: 'create', message: `failed to create: exec "echo ${SCRUBBED}"`, list: [SCRUBBED, 'ok'] });
    const clean = { name: 'app', n: 1 };
    expect(redactSecrets(clean, scrub)).to.equal(clean);
  });
});

describe('redaction of credential names', () => {
  it('given keys like access_token, client_secret, db_password, then their string values are redacted; references are kept', () => {
    const out = redactSecrets({ access_token: 'a', client_secret: 'b', db_password: 'c', Cookie: 'd', secretName: 'my-secret', secret: 'envfrom-name', tokenPath: 'p', expirationSeconds: 3600 });
    expect(out).to.deep.equal({ access_token: REDACTED, client_secret: REDACTED, db_password: REDACTED, Cookie: REDACTED, secretName: 'my-secret', secret: 'envfrom-name', tokenPath: 'p', expirationSeconds: 3600 });
  });

  it('given probe httpHeaders, then Authorization, Cookie and *token* header values are redacted and other headers kept', () => {
    const probe = { httpGet: { port: 80, httpHeaders: [{ name: 'Authorization', value: 'Bearer abc' }, { name: 'X-Auth-Token', value: 't' }, { name: 'cookie', value: 'c=1' }, { name: 'Accept', value: 'text/plain' }] } };
    expect(redactSecrets(probe).httpGet.httpHeaders).to.deep.equal([
      { name: 'Authorization', value: REDACTED }, { name: 'X-Auth-Token', value: REDACTED }, { name: 'cookie', value: REDACTED }, { name: 'Accept', value: 'text/plain' },
    ]);
  });

  it('given env entries named like a password, then they are kept (the spec is not a secret; secretKeyRef values are scrubbed by value)', () => {
    const env = { env: [{ name: 'DB_PASSWORD', value: 'literal' }] };
    expect(redactSecrets(env)).to.equal(env);
  });
});

describe('withheld probe header values', () => {
  afterEach(() => releaseAll(''));

  it('given a pod with an Authorization probe header, then the redacted probe gets the real value back for the request, and the value is scrubbed', () => {
    const pod = { metadata: { name: 'p', uid: 'u1' }, spec: { containers: [{ name: 'app', image: 'i', livenessProbe: { httpGet: { port: 80, httpHeaders: [{ name: 'Accept', value: 'x' }, { name: 'Authorization', value: 'Bearer real-token-value' }] } } }] } };
    withholdPodHeaders('u1', pod as never);
    const logged = redactSecrets(pod).spec.containers[0].livenessProbe;
    expect(logged.httpGet.httpHeaders[1].value).to.equal(REDACTED);
    const sent = probeWithHeaders(logged as never, 'u1', 'app', 'liveness');
    expect(sent.httpGet?.httpHeaders).to.deep.equal([{ name: 'Accept', value: 'x' }, { name: 'Authorization', value: 'Bearer real-token-value' }]);
    expect(probeWithHeaders(logged as never, 'u1', 'app', 'readiness').httpGet?.httpHeaders?.[1].value).to.equal(REDACTED);
    expect(scrub('GET / Authorization: Bearer real-token-value')).to.equal(`GET / Authorization: ${SCRUBBED}`);
  });
});
