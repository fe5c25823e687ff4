import { expect } from 'chai';
import { only, podManifest, readyNode, Scenario, types } from './scenario.ts';

const staticPod = (uid: string) => ({ ...podManifest(uid, { name: `static-${uid}`, annotations: { 'kubernetes.io/config.hash': uid, 'kubernetes.io/config.source': 'file' } }) });
const ref = (uid: string) => ({ uid, namespace: 'default', name: `static-${uid}` });

describe('pods: mirror pods of static pods', () => {
  it('creates a mirror pod once the API is reachable, records it from the watch, and patches status to it', () => {
    const s: Scenario = readyNode();
    s.observe('ApiServerReachable', { attempts: 1 }, undefined, 'apiserver');
    const ds = s.observe('PodObserved', { pod: staticPod('s1'), origin: 'file', file: '/m/s1.yaml' }, ref('s1'), 'static-pods');
    const create = only(ds, 'MirrorPodCreateRequested');
    expect(create.data).to.have.nested.property('pod.metadata.name', 'static-s1');
    s.outcome(create, 'MirrorPodCreated', { mirror: { uid: 'm-1', namespace: 'default', name: 'static-s1' }, created: true });
    // The watch then shows the mirror: it is not run as a pod of its own.
    const mirrorPod = { ...staticPod('s1'), metadata: { ...staticPod('s1').metadata, uid: 'm-1', annotations: { 'kubernetes.io/config.mirror': 's1' } } };
    const seen = s.observe('PodObserved', { pod: mirrorPod, origin: 'api' }, { uid: 'm-1', namespace: 'default', name: 'static-s1' }, 'apiserver');
    expect(types(seen)).to.deep.equal([]);
    expect(s.state.pods.pods['m-1']).to.equal(undefined);
    const sb = s.log.filter((e) => e.type === 'PodSandboxRequested').pop()!;
    const after = s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb', ip: '10.88.0.8' });
    expect(only(after, 'PodStatusChanged').data).to.have.nested.property('mirror.uid', 'm-1');
  });

  it('deletes the mirror when the static pod is removed', () => {
    const s: Scenario = readyNode();
    s.observe('ApiServerReachable', { attempts: 1 }, undefined, 'apiserver');
    const create = only(s.observe('PodObserved', { pod: staticPod('s2'), origin: 'file', file: '/m/s2.yaml' }, ref('s2'), 'static-pods'), 'MirrorPodCreateRequested');
    s.outcome(create, 'MirrorPodCreated', { mirror: { uid: 'm-2', namespace: 'default', name: 'static-s2' }, created: true });
    const ds = s.observe('StaticPodRemoved', { uid: 's2', file: '/m/s2.yaml' }, ref('s2'), 'static-pods');
    expect(only(ds, 'MirrorPodDeleteRequested').data).to.deep.equal({ mirror: { uid: 'm-2', namespace: 'default', name: 'static-s2' } });
  });
});
