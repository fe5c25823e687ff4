// Secret and token contents never become part of an entry.
import { expect } from 'chai';
import { redactSecrets, REDACTED } from '../../src/model/entry-redact.ts';

describe('entry secret redaction', () => {
  it('given a Secret object, when redacted, then only its key names remain', () => {
    const secret = { kind: 'Secret', metadata: { name: 'db', resourceVersion: '9' }, data: { password: 'aHVudGVyMg==', user: 'YWRtaW4=' } };
    const out = redactSecrets({ object: secret });
    expect(out.object.data).to.deep.equal({ keys: ['password', 'user'], contents: REDACTED });
    expect(out.object.metadata).to.deep.equal({ name: 'db', resourceVersion: '9' });
    expect(JSON.stringify(out)).not.to.contain('aHVudGVyMg');
  });

  it('given token and password strings anywhere, when redacted, then their values are replaced', () => {
    const out = redactSecrets({ auth: [{ bearer_token: 'abc' }, { Password: 'x' }], token: 'eyJhbGci' });
    expect(out).to.deep.equal({ auth: [{ bearer_token: REDACTED }, { Password: REDACTED }], token: REDACTED });
  });

  it('given a volume that references a secret by name, when redacted, then the reference is kept', () => {
    const data = { volumes: [{ name: 'creds', secret: { secretName: 'db' } }, { name: 'sa', projected: { sources: [{ serviceAccountToken: { path: 'token' } }] } }] };
    expect(redactSecrets(data)).to.equal(data);
  });

  it('given data with nothing secret, when redacted, then the same object is returned (no copy)', () => {
    const data = { a: { b: [1, 2, { c: 'd' }] } };
    expect(redactSecrets(data)).to.equal(data);
  });

  it('given an object with a token, when redacted, then the input is not mutated', () => {
    const data = { token: 'abc' };
    redactSecrets(data);
    expect(data.token).to.equal('abc');
  });
});
