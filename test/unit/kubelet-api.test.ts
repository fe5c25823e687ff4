// The kubelet API's pure parts: upstream's path →
// subresource mapping, certificate users, and which container instance a log request reads.
import { expect } from 'chai';
import { subresourceFor, userFromCertificate, verbFor } from '../../src/agent/kubelet-auth.ts';
import { findPod, logTarget, podList, readySandbox, runningContainer, stillRunning } from '../../src/agent/kubelet-api-queries.ts';
import type { PodRecord, PodsState } from '../../src/reducers/pods/state.ts';
import { parseKubeletConfig } from '../../src/model/kubelet-config.ts';

describe('kubelet API authorization attributes', () => {
  it('given request paths, when mapped, then they check the subresources upstream checks', () => {
    expect(subresourceFor('/stats/summary')).to.equal('stats');
    expect(subresourceFor('/metrics/cadvisor')).to.equal('metrics');
    expect(subresourceFor('/logs/syslog')).to.equal('log');
    expect(subresourceFor('/containerLogs/ns/pod/c')).to.equal('proxy');
    expect(subresourceFor('/statsx')).to.equal('proxy');
    expect([verbFor('GET'), verbFor('POST'), verbFor('PUT'), verbFor('PATCH'), verbFor('DELETE'), verbFor('HEAD')]).to.deep.equal(['get', 'create', 'update', 'patch', 'delete', '']);
  });

  it('given a client certificate subject, when read, then CN is the user and each O a group', () => {
    expect(userFromCertificate({ CN: 'kube-apiserver-kubelet-client', O: 'system:masters' })).to.deep.equal({ name: 'kube-apiserver-kubelet-client', groups: ['system:masters', 'system:authenticated'] });
    expect(userFromCertificate({ CN: 'u', O: ['a', 'b'] })?.groups).to.deep.equal(['a', 'b', 'system:authenticated']);
    expect(userFromCertificate({ O: 'x' })).to.equal(undefined);
  });
});

const inst = (id: string, state: 'running' | 'exited') => ({ id, attempt: 0, state });
function rec(uid: string, firstSeenAt: string, containers: PodRecord['containers']): PodRecord {
  return { ref: { uid, namespace: 'default', name: 'web' }, origin: 'api', pod: { metadata: { name: 'web', namespace: 'default', uid }, spec: { containers: [] } }, firstSeenAt, containers } as unknown as PodRecord;
}
const container = (over: object) => ({ name: 'app', kind: 'regular', restartCount: 0, nextAttempt: 1, ...over }) as unknown as PodRecord['containers'][string];

describe('kubelet API log targets', () => {
  const old = rec('u-old', '2026-11-23T10:00:00.000Z', { app: container({ current: inst('c-old', 'exited') }) });
  const crashing = rec('u-new', '2026-11-23T11:00:00.000Z', { app: container({ last: inst('c-last', 'exited'), waiting: { reason: 'CrashLoopBackOff' } }) });
  const state = { pods: { 'u-old': old, 'u-new': crashing } } as unknown as PodsState;

  it('given two records with one name, when looked up, then the newest is used', () => {
    expect(findPod(state, 'default', 'web')?.ref.uid).to.equal('u-new');
    expect(findPod(state, 'other', 'web')).to.equal(undefined);
  });

  it('given a container waiting to restart, when its logs are asked for, then its last run is read (and --previous reads the same)', () => {
    expect(logTarget(crashing, 'web', 'app', false)).to.deep.equal({ ok: true, containerId: 'c-last', running: false });
    expect(logTarget(crashing, 'web', 'app', true)).to.deep.equal({ ok: true, containerId: 'c-last', running: false });
  });

  it('given missing pods, containers or instances, when asked, then the upstream messages come back', () => {
    expect(logTarget(undefined, 'web', 'app', false)).to.include({ ok: false, status: 404 });
    expect(logTarget(crashing, 'web', 'nope', false)).to.deep.equal({ ok: false, status: 400, message: 'container nope is not valid for pod web' });
    expect(logTarget(old, 'web', 'app', true)).to.deep.equal({ ok: false, status: 400, message: 'previous terminated container "app" in pod "web" not found' });
    const waiting = rec('u-w', '2026-11-23T12:00:00.000Z', { app: container({ waiting: { reason: 'ImagePullBackOff' } }) });
    expect(logTarget(waiting, 'web', 'app', false)).to.deep.equal({ ok: false, status: 400, message: 'container "app" in pod "web" is waiting to start: ImagePullBackOff' });
  });

  it('given a followed instance, when it is replaced or exits, then following stops', () => {
    const running = { pods: { u: rec('u', 't', { app: container({ current: inst('c1', 'running') }) }) } } as unknown as PodsState;
    expect(stillRunning(running, 'u', 'app', 'c1')).to.equal(true);
    expect(stillRunning(running, 'u', 'app', 'c0')).to.equal(false);
    expect(stillRunning(state, 'u-old', 'app', 'c-old')).to.equal(false);
    expect(podList(state).items).to.have.length(2);
  });
});

describe('kubelet API streaming targets', () => {
  it('given containers in various states, when exec or attach asks, then only a running instance is a target', () => {
    const r = rec('u', 't', { app: container({ current: inst('c1', 'running') }), done: container({ current: inst('c2', 'exited') }) });
    expect(runningContainer(r, 'web', 'app')).to.deep.equal({ ok: true, id: 'c1' });
    expect(runningContainer(r, 'web', 'done')).to.deep.equal({ ok: false, status: 400, message: 'container "done" in pod "web" is not running' });
    expect(runningContainer(r, 'web', 'nope')).to.include({ ok: false, status: 400 });
    expect(runningContainer(undefined, 'web', 'app')).to.include({ ok: false, status: 404 });
  });

  it('given a pod, when port-forward asks, then its sandbox must be ready', () => {
    const ready = { ...rec('u', 't', {}), sandbox: { state: 'ready', id: 's1' } } as unknown as PodRecord;
    const stopped = { ...rec('u', 't', {}), sandbox: { state: 'stopped', id: 's1' } } as unknown as PodRecord;
    expect(readySandbox(ready, 'web')).to.deep.equal({ ok: true, id: 's1' });
    expect(readySandbox(stopped, 'web')).to.deep.equal({ ok: false, status: 400, message: 'pod "web" has no running sandbox' });
  });
});

describe('kubelet API configuration', () => {
  it('given no authentication or authorization in the file, when parsed, then upstream defaults apply (Webhook, no anonymous)', () => {
    const r = parseKubeletConfig('kind: KubeletConfiguration\napiVersion: kubelet.config.k8s.io/v1beta1\n');
    expect(r._tag).to.equal('Right');
    if (r._tag === 'Right') {
      expect(r.right.authorization.mode).to.equal('Webhook');
      expect(r.right.authentication.anonymous.enabled).to.equal(false);
      expect(r.right.authentication.webhook).to.deep.equal({ enabled: true, cacheTTL: '2m' });
      expect(r.right.enableServer).to.equal(true);
      expect(r.right.port).to.equal(10250);
    }
  });

  it('given one nested field, when parsed, then the rest of its section keeps the defaults', () => {
    const r = parseKubeletConfig('authentication:\n  x509:\n    clientCAFile: /ca.crt\nauthorization:\n  mode: AlwaysAllow\n');
    if (r._tag !== 'Right') throw new Error(r.left.join('; '));
    expect(r.right.authentication).to.deep.equal({ x509: { clientCAFile: '/ca.crt' }, webhook: { enabled: true, cacheTTL: '2m' }, anonymous: { enabled: false } });
    expect(r.right.authorization).to.deep.equal({ mode: 'AlwaysAllow', webhook: { cacheAuthorizedTTL: '5m', cacheUnauthorizedTTL: '30s' } });
  });

  it('given an unknown authorization mode, when parsed, then the error names the field', () => {
    const r = parseKubeletConfig('authorization:\n  mode: Sometimes\n');
    expect(r._tag).to.equal('Left');
    if (r._tag === 'Left') expect(r.left.join('; ')).to.match(/authorization/);
  });
});
