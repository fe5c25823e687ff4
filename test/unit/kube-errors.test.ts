import { expect } from 'chai';
import { ApiException } from '@kubernetes/client-node';
import { fromStatus, KubeApiError, kindForStatus, toKubeApiError } from '../../src/adapters/kube/errors.ts';

describe('kube error mapping', () => {
  it('maps HTTP status codes to kinds', () => {
    expect(kindForStatus(404)).to.equal('NotFound');
    expect(kindForStatus(409)).to.equal('Conflict');
    expect(kindForStatus(409, 'AlreadyExists')).to.equal('AlreadyExists');
    expect(kindForStatus(410)).to.equal('Gone');
    expect(kindForStatus(403)).to.equal('Forbidden');
    expect(kindForStatus(401)).to.equal('Unauthorized');
    expect(kindForStatus(422)).to.equal('Invalid');
    expect(kindForStatus(429)).to.equal('TooManyRequests');
    expect(kindForStatus(503)).to.equal('ServerError');
  });

  it('reads status, reason and message from an ApiException with a JSON string body', () => {
    const body = JSON.stringify({
      kind: 'Status', apiVersion: 'v1', status: 'Failure', reason: 'Forbidden', code: 403,
      message: 'nodes "other" is forbidden: node "n1" is not allowed to modify node "other"',
    });
    const e = toKubeApiError(new ApiException(403, 'Unknown API Status Code!', body, {}), 'patch nodes/other/status');
    expect(e).to.be.instanceOf(KubeApiError);
    expect(e.kind).to.equal('Forbidden');
    expect(e.status).to.equal(403);
    expect(e.reason).to.equal('Forbidden');
    expect(e.message).to.contain('not allowed to modify node');
    expect(e.operation).to.equal('patch nodes/other/status');
    expect(e.retryable).to.equal(false);
  });

  it('tells AlreadyExists from a resourceVersion conflict', () => {
    const exists = toKubeApiError(new ApiException(409, 'x', { reason: 'AlreadyExists', code: 409, message: 'exists' }, {}));
    const conflict = toKubeApiError(new ApiException(409, 'x', { reason: 'Conflict', code: 409, message: 'modified' }, {}));
    expect(exists.kind).to.equal('AlreadyExists');
    expect(conflict.kind).to.equal('Conflict');
  });

  it('handles an ApiException without a body (401)', () => {
    const e = toKubeApiError(new ApiException(401, 'Unauthorized', undefined, {}));
    expect(e.kind).to.equal('Unauthorized');
    expect(e.status).to.equal(401);
  });

  it('maps connection failures to Unreachable, retryable', () => {
    const refused = Object.assign(new Error('request to https://127.0.0.1:1/api failed, reason: connect ECONNREFUSED'), {
      name: 'FetchError', type: 'system', code: 'ECONNREFUSED', errno: 'ECONNREFUSED',
    });
    const e = toKubeApiError(refused);
    expect(e.kind).to.equal('Unreachable');
    expect(e.status).to.equal(undefined);
    expect(e.reason).to.equal('ECONNREFUSED');
    expect(e.retryable).to.equal(true);
  });

  it('maps a watch start failure carrying statusCode', () => {
    const e = toKubeApiError(Object.assign(new Error('Gone'), { statusCode: 410 }));
    expect(e.kind).to.equal('Gone');
    expect(e.status).to.equal(410);
  });

  it('maps a watch ERROR event Status with code 410 (Expired) to Gone', () => {
    const e = fromStatus({ kind: 'Status', status: 'Failure', reason: 'Expired', code: 410, message: 'too old resource version: 1 (500)' });
    expect(e.kind).to.equal('Gone');
    expect(e.reason).to.equal('Expired');
    expect(e.message).to.contain('too old');
  });

  it('serialises to a compact, log-safe object', () => {
    const e = new KubeApiError('NotFound', 404, 'NotFound', 'pods "x" not found', 'get pods default/x');
    expect(JSON.parse(JSON.stringify(e))).to.deep.equal({
      kind: 'NotFound', status: 404, reason: 'NotFound', message: 'pods "x" not found', operation: 'get pods default/x',
    });
  });

  it('keeps an unknown error readable', () => {
    const e = toKubeApiError('something odd');
    expect(e.kind).to.equal('Unknown');
    expect(e.message).to.equal('something odd');
  });
});
