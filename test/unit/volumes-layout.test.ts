// Volume layout on disk, downward API rendering, token rotation timing, refresh targets.
import { expect } from 'chai';
import { createHash } from 'node:crypto';
import { csiMountDir, csiStagingDir, volumeDir, volumeKind, pluginsRegistryDir } from '../../src/effects/volumes/layout.ts';
import { formatMap, renderDownwardItem } from '../../src/effects/volumes/downward-api.ts';
import { refreshAt, tokenDue, tokenTimes } from '../../src/effects/volumes/token.ts';
import { ephemeralHandle } from '../../src/effects/volumes/csi.ts';
import type { VolumePlan } from '../../src/model/volume-plan.ts';
import { volumeRefreshTargets } from '../../src/reducers/pods/volume-targets.ts';
import { initialPodsState } from '../../src/reducers/pods/state.ts';
import { newPodRecord } from '../../src/reducers/pods/records.ts';

const plan: VolumePlan = {
  podUid: 'u1', namespace: 'ns', podName: 'web', nodeName: 'n1', serviceAccountName: 'default',
  volumes: [], labels: { app: 'web', tier: 'fe"x' }, annotations: { a: '1' },
  containers: [{ name: 'app', resources: { limits: { cpu: '500m', memory: '128Mi' }, requests: { cpu: '250m' } } }, { name: 'bare' }],
};

describe('volumes: layout', () => {
  it('puts volumes where upstream does', () => {
    expect(volumeDir('/var/lib/kubelet', 'u1', 'configMap', 'cfg')).to.equal('/var/lib/kubelet/pods/u1/volumes/kubernetes.io~configmap/cfg');
    expect(volumeDir('/r', 'u1', 'emptyDir', 'e')).to.equal('/r/pods/u1/volumes/kubernetes.io~empty-dir/e');
    expect(volumeDir('/r', 'u1', 'secret', 's')).to.equal('/r/pods/u1/volumes/kubernetes.io~secret/s');
    expect(volumeDir('/r', 'u1', 'projected', 'p')).to.equal('/r/pods/u1/volumes/kubernetes.io~projected/p');
    expect(volumeDir('/r', 'u1', 'downwardAPI', 'd')).to.equal('/r/pods/u1/volumes/kubernetes.io~downward-api/d');
    expect(csiMountDir('/r', 'u1', 'data')).to.equal('/r/pods/u1/volumes/kubernetes.io~csi/data/mount');
    const h = createHash('sha256').update('vol-1').digest('hex');
    expect(csiStagingDir('/r', 'hostpath.csi.k8s.io', 'vol-1')).to.equal(`/r/plugins/kubernetes.io/csi/hostpath.csi.k8s.io/${h}/globalmount`);
    expect(pluginsRegistryDir('/r')).to.equal('/r/plugins_registry');
    expect(ephemeralHandle('u1', 'scratch')).to.equal(`csi-${createHash('sha256').update('u1scratch').digest('hex')}`);
  });

  it('tells the volume kind from its source', () => {
    expect(volumeKind({ name: 'a', emptyDir: {} })).to.equal('emptyDir');
    expect(volumeKind({ name: 'a', persistentVolumeClaim: { claimName: 'c' } })).to.equal('persistentVolumeClaim');
    expect(volumeKind({ name: 'a', nfs: { server: 'x' } })).to.deep.equal({ unsupported: 'nfs' });
  });
});

describe('volumes: downward API', () => {
  it('renders metadata fields and maps as upstream (sorted key="value" lines)', () => {
    expect(renderDownwardItem(plan, { path: 'n', fieldRef: { fieldPath: 'metadata.name' } })).to.equal('web');
    expect(renderDownwardItem(plan, { path: 'n', fieldRef: { fieldPath: 'metadata.namespace' } })).to.equal('ns');
    expect(renderDownwardItem(plan, { path: 'n', fieldRef: { fieldPath: 'metadata.uid' } })).to.equal('u1');
    expect(renderDownwardItem(plan, { path: 'l', fieldRef: { fieldPath: 'metadata.labels' } })).to.equal('app="web"\ntier="fe\\"x"');
    expect(renderDownwardItem(plan, { path: 'l', fieldRef: { fieldPath: "metadata.labels['app']" } })).to.equal('web');
    expect(formatMap({})).to.equal('');
    expect(() => renderDownwardItem(plan, { path: 'x', fieldRef: { fieldPath: 'status.podIP' } })).to.throw(/unsupported fieldPath/);
  });

  it('renders container resources with divisors, unset limits from allocatable', () => {
    const r = (resource: string, divisor?: string, containerName = 'app') => renderDownwardItem(plan, { path: 'r', resourceFieldRef: { containerName, resource, divisor } }, { cpu: '2', memory: '4Gi' });
    expect(r('limits.cpu')).to.equal('1'); // 0.5 cpu rounds up to 1 core
    expect(r('limits.cpu', '1m')).to.equal('500');
    expect(r('requests.cpu', '1m')).to.equal('250');
    expect(r('limits.memory')).to.equal(String(128 * 1024 * 1024));
    expect(r('limits.memory', '1Mi')).to.equal('128');
    expect(r('limits.memory', '1Mi', 'bare')).to.equal('4096');
    expect(r('requests.memory', '1', 'bare')).to.equal('0');
    // The API server stores an unset divisor as "0": it means 1.
    expect(r('limits.cpu', '0', 'bare')).to.equal('2');
    expect(r('limits.memory', '0')).to.equal(String(128 * 1024 * 1024));
    expect(() => renderDownwardItem(plan, { path: 'r', resourceFieldRef: { resource: 'limits.cpu' } })).to.throw(/containerName/);
  });
});

const jwt = (claims: object) => `h.${Buffer.from(JSON.stringify(claims)).toString('base64url')}.sig`;

describe('volumes: token rotation', () => {
  it('is due after 80% of the lifetime asked for (warnafter when the server extended it)', () => {
    const iat = Date.parse('2026-11-23T10:00:00Z') / 1000;
    const tok = jwt({ iat, exp: iat + 3600 });
    expect(tokenTimes(tok)).to.deep.equal({ issuedAt: iat * 1000, expiresAt: (iat + 3600) * 1000 });
    expect(tokenDue(tok, new Date((iat + 2879) * 1000))).to.equal(false);
    expect(tokenDue(tok, new Date((iat + 2880) * 1000))).to.equal(true);
    const extended = jwt({ iat, exp: iat + 365 * 86400, 'kubernetes.io': { warnafter: iat + 3607 } });
    expect(refreshAt(tokenTimes(extended)!)).to.equal((iat + 3607 * 0.8) * 1000);
    const long = jwt({ iat, exp: iat + 7 * 86400 });
    expect(refreshAt(tokenTimes(long)!)).to.equal((iat + 86400) * 1000);
    expect(tokenDue('not-a-jwt', new Date())).to.equal(true);
  });
});

describe('volumes: refresh targets', () => {
  it('lists configMap/secret/downwardAPI/projected volumes of pods whose volumes are ready', () => {
    const s = initialPodsState();
    const pod = {
      metadata: { name: 'web', namespace: 'ns', uid: 'u1' },
      spec: { containers: [{ name: 'app', image: 'x' }], volumes: [{ name: 'cfg', configMap: { name: 'c' } }, { name: 'tmp', emptyDir: {} }, { name: 'tok', projected: { sources: [] } }] },
    };
    const rec = newPodRecord(pod as never, 'api', '2026-11-23T10:00:00Z');
    expect(volumeRefreshTargets({ ...s, pods: { u1: rec } })).to.deep.equal([]);
    const ready = { ...rec, volumes: { ...rec.volumes, state: 'ready' as const, mounts: { cfg: { hostPath: '/c' }, tmp: { hostPath: '/t' }, tok: { hostPath: '/p' } } } };
    const t = volumeRefreshTargets({ ...s, pods: { u1: ready } });
    expect(t).to.have.length(1);
    expect(t[0].volumes).to.deep.equal([{ name: 'cfg', kind: 'configMap', hostPath: '/c' }, { name: 'tok', kind: 'projected', hostPath: '/p' }]);
    expect(t[0].plan.podUid).to.equal('u1');
    expect(volumeRefreshTargets({ ...s, pods: { u1: { ...ready, terminating: { since: 'x', reason: 'r', gracePeriodSeconds: 1 } } } })).to.deep.equal([]);
  });
});
