import { expect } from 'chai';
import { containerExited, only, podManifest, readyNode, refFor, runPod, Scenario, types } from './scenario.ts';

describe('pods: lifecycle decisions', () => {
  it('decides nothing for pods until the runtime has been relisted after a start', () => {
    const s = new Scenario();
    s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: true, staticPodPath: '' });
    const before = s.observe('PodObserved', { pod: podManifest('u1'), origin: 'api' }, refFor('u1'));
    expect(before).to.deep.equal([]);
    const after = s.observe('RuntimeRelisted', { sandboxes: [], containers: [] }, undefined, 'pleg');
    expect(types(after)).to.include('PodSandboxRequested');
  });

  it('given a new pod, when it is observed, then its sandbox is requested with the pod identity', () => {
    const s = readyNode();
    const ds = s.observe('PodObserved', { pod: podManifest('u1'), origin: 'api' }, refFor('u1'));
    const sb = only(ds, 'PodSandboxRequested');
    expect(sb.reason).to.equal('PodScheduled');
    expect(sb.cause).to.equal(s.log.find((e) => e.type === 'PodObserved')!.seq);
    const plan = (sb.data as { plan: { uid: string; attempt: number; labels: Record<string, string>; cgroupParent: string } }).plan;
    expect(plan.uid).to.equal('u1');
    expect(plan.attempt).to.equal(0);
    expect(plan.labels['io.kubernetes.pod.uid']).to.equal('u1');
    expect(plan.cgroupParent).to.equal('/kubepods/besteffort/podu1');
    expect(only(ds, 'PodStatusChanged').data).to.have.nested.property('status.phase', 'Pending');
  });

  it('given a ready sandbox, then init containers run one at a time before the app container', () => {
    const s = readyNode();
    const m = podManifest('u2', {}, {
      initContainers: [{ name: 'init-a', image: 'busybox:1', command: ['true'] }, { name: 'init-b', image: 'busybox:1', command: ['true'] }],
    });
    const sb = only(s.observe('PodObserved', { pod: m, origin: 'api' }, refFor('u2')), 'PodSandboxRequested');
    let ds = s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-u2', ip: '10.88.0.9' });
    const a = only(ds, 'ContainerStartRequested');
    expect(a.data).to.have.nested.property('plan.name', 'init-a');
    ds = s.outcome(a, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' });
    expect(types(ds)).to.not.include('ContainerStartRequested');
    ds = containerExited(s, 'u2', 'init-a', 0);
    const b = only(ds, 'ContainerStartRequested');
    expect(b.data).to.have.nested.property('plan.name', 'init-b');
    s.outcome(b, 'ContainerStarted', { name: 'init-b', containerId: 'c-b', attempt: 0 });
    ds = containerExited(s, 'u2', 'init-b', 0);
    expect(only(ds, 'ContainerStartRequested').data).to.have.nested.property('plan.name', 'app');
  });

  it('a running pod reports Running, Ready, its IP and the host IP', () => {
    const s = readyNode();
    runPod(s, 'u3');
    const st = s.pod('u3').lastStatus!;
    expect(st.phase).to.equal('Running');
    expect(st.podIP).to.equal('10.88.0.7');
    expect(st.hostIP).to.equal('10.0.0.5');
    expect(st.conditions.find((c) => c.type === 'Ready')?.status).to.equal('True');
    expect(st.containerStatuses[0]).to.include({ name: 'app', ready: true, restartCount: 0, containerID: 'containerd://c-u3-app-0' });
    expect(st.qosClass).to.equal('BestEffort');
  });

  it('crash loop: first restart at once, then 10 s, then 20 s of CrashLoopBackOff', () => {
    const s = readyNode();
    runPod(s, 'u4');
    // First crash: restarted at once.
    let ds = containerExited(s, 'u4', 'app', 1);
    let start = only(ds, 'ContainerStartRequested');
    expect(start.data).to.have.nested.property('plan.attempt', 1);
    s.at(1);
    s.outcome(start, 'ContainerStarted', { name: 'app', containerId: 'c-1', attempt: 1, startedAt: new Date(s.now).toISOString() });
    expect(s.pod('u4').containers.app.restartCount).to.equal(1);
    // Second crash at t=2: back off 10 s.
    s.at(2);
    ds = containerExited(s, 'u4', 'app', 1, 1);
    const timer = only(ds, 'RestartBackedOff');
    expect(timer.reason).to.equal('CrashLoopBackOff');
    expect((timer.data as { until: string }).until).to.equal('2026-11-23T10:00:12.000Z');
    expect(s.pod('u4').lastStatus!.containerStatuses[0].state.waiting?.reason).to.equal('CrashLoopBackOff');
    expect(s.pod('u4').lastStatus!.containerStatuses[0].lastState.terminated?.exitCode).to.equal(1);
    s.at(12);
    start = only(s.outcome(timer, 'BackOffExpired', { name: 'app', which: 'crash' }), 'ContainerStartRequested');
    expect(start.data).to.have.nested.property('plan.attempt', 2);
    s.outcome(start, 'ContainerStarted', { name: 'app', containerId: 'c-2', attempt: 2, startedAt: new Date(s.now).toISOString() });
    s.at(13);
    const t2 = only(containerExited(s, 'u4', 'app', 1, 2), 'RestartBackedOff');
    expect((t2.data as { until: string }).until).to.equal('2026-11-23T10:00:33.000Z');
  });

  it('a container that ran 10 minutes before crashing restarts at once (backoff reset)', () => {
    const s = readyNode();
    runPod(s, 'u5');
    containerExited(s, 'u5', 'app', 1);
    const start = s.log.filter((e) => e.type === 'ContainerStartRequested').pop()!;
    s.outcome(start, 'ContainerStarted', { name: 'app', containerId: 'c-1', attempt: 1, startedAt: new Date(s.now).toISOString() });
    s.at(700);
    expect(types(containerExited(s, 'u5', 'app', 1, 1))).to.include('ContainerStartRequested');
  });

  it('restartPolicy Never: a failed container makes the pod Failed and its sandbox is stopped', () => {
    const s = readyNode();
    runPod(s, 'u6', podManifest('u6', {}, { restartPolicy: 'Never' }));
    const ds = containerExited(s, 'u6', 'app', 2);
    expect(types(ds)).to.not.include('ContainerStartRequested');
    expect(only(ds, 'PodSandboxKilled').reason).to.equal('PodCompleted');
    expect(s.pod('u6').lastStatus!.phase).to.equal('Failed');
  });

  it('restartPolicy OnFailure: success ends the pod as Succeeded', () => {
    const s = readyNode();
    runPod(s, 'u7', podManifest('u7', {}, { restartPolicy: 'OnFailure' }));
    containerExited(s, 'u7', 'app', 0);
    expect(s.pod('u7').lastStatus!.phase).to.equal('Succeeded');
  });

  it('graceful deletion: kill with the grace period, stop the sandbox, then delete the pod object', () => {
    const s = readyNode();
    runPod(s, 'u8', podManifest('u8', {}, { containers: [{ name: 'app', image: 'busybox:1', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } } }] }));
    const deleting = podManifest('u8', { deletionTimestamp: '2026-11-23T10:00:30Z', deletionGracePeriodSeconds: 15 }, { containers: [{ name: 'app', image: 'busybox:1', lifecycle: { preStop: { exec: { command: ['sh', '-c', 'sleep 1'] } } } }] });
    let ds = s.observe('PodObserved', { pod: deleting, origin: 'api' }, refFor('u8'));
    const kill = only(ds, 'ContainerKilled');
    expect(kill.reason).to.equal('PodDeleted');
    expect(kill.data).to.deep.include({ name: 'app', gracePeriodSeconds: 15 });
    expect(kill.data).to.have.nested.property('preStop.exec.command[2]', 'sleep 1');
    ds = s.outcome(kill, 'ContainerStopped', { name: 'app', containerId: 'c-u8-app-0', exitCode: 143 });
    const sbKill = only(ds, 'PodSandboxKilled');
    ds = s.outcome(sbKill, 'PodSandboxStopped', { sandboxId: 'sb-u8' });
    only(ds, 'PodObjectDeleteRequested');
    ds = s.observe('PodDeletedFromApi', { uid: 'u8' }, refFor('u8'));
    const cleanup = only(ds, 'PodRuntimeCleanupRequested');
    s.outcome(cleanup, 'PodRuntimeCleanedUp', { podUid: 'u8' });
    expect(s.pod('u8')).to.equal(undefined);
  });

  it('a clean-up that left objects on the runtime is retried later, with backoff, and the pod kept until it succeeds', () => {
    const s = readyNode();
    runPod(s, 'u8b');
    let ds = s.observe('PodDeletedFromApi', { uid: 'u8b' }, refFor('u8b'));
    ds = s.outcome(only(ds, 'ContainerKilled'), 'ContainerStopped', { name: 'app', containerId: 'c-u8b-app-0', exitCode: 143 });
    ds = s.outcome(only(ds, 'PodSandboxKilled'), 'PodSandboxStopped', { sandboxId: 'sb-u8b' });
    const cleanup = only(ds, 'PodRuntimeCleanupRequested');
    const notRemoved = [{ kind: 'container', id: 'c-u8b-app-0', error: 'cannot delete running task' }];
    ds = s.outcome(cleanup, 'PodRuntimeCleanupFailed', { podUid: 'u8b', error: 'not removed: container c-u8b-app-0: cannot delete running task', notRemoved });
    // not forgotten, not retried at once: a timer for the retry
    expect(s.pod('u8b')).to.not.equal(undefined);
    expect(types(ds)).to.not.include('PodRuntimeCleanupRequested');
    const timer = only(ds, 'RestartBackedOff');
    expect(timer.reason).to.equal('EffectRetry');
    expect((timer.data as { until: string }).until).to.equal('2026-11-23T10:00:10.000Z');
    s.at(10);
    const again = only(s.outcome(timer, 'BackOffExpired', { which: 'effect' }), 'PodRuntimeCleanupRequested');
    // a second failure waits twice as long
    const timer2 = only(s.outcome(again, 'PodRuntimeCleanupFailed', { podUid: 'u8b', error: 'still there', notRemoved }), 'RestartBackedOff');
    expect((timer2.data as { until: string }).until).to.equal('2026-11-23T10:00:30.000Z');
    s.at(30);
    const third = only(s.outcome(timer2, 'BackOffExpired', { which: 'effect' }), 'PodRuntimeCleanupRequested');
    s.outcome(third, 'PodRuntimeCleanedUp', { podUid: 'u8b' });
    expect(s.pod('u8b')).to.equal(undefined);
  });

  it('a pod that disappears from the API relist is killed', () => {
    const s = readyNode();
    runPod(s, 'u9');
    const ds = s.observe('PodsRelisted', { resourceVersion: '9', uids: [] }, undefined, 'apiserver');
    expect(only(ds, 'ContainerKilled').reason).to.equal('PodRemovedFromApi');
  });

  it('a changed container spec replaces the running container', () => {
    const s = readyNode();
    runPod(s, 'u10');
    const changed = podManifest('u10', {}, { containers: [{ name: 'app', image: '127.0.0.1:5000/busybox:1.37', command: ['sleep', '3600'] }] });
    const ds = s.observe('PodObserved', { pod: changed, origin: 'api' }, refFor('u10'));
    const kill = only(ds, 'ContainerKilled');
    expect(kill.reason).to.equal('ContainerSpecChanged');
    const after = s.outcome(kill, 'ContainerStopped', { name: 'app', containerId: 'c-u10-app-0', exitCode: 137 });
    const start = only(after, 'ContainerStartRequested');
    expect(start.data).to.have.nested.property('plan.image', '127.0.0.1:5000/busybox:1.37');
    expect(start.reason).to.equal('RestartContainerSpecChanged');
  });

  it('runtime objects of unknown pods are killed once every source has listed', () => {
    const s = new Scenario();
    s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '' });
    const relist = s.observe('RuntimeRelisted', {
      sandboxes: [{ id: 'sb-x', podUid: 'ghost', name: 'ghost', namespace: 'default', attempt: 0, state: 'ready' }],
      containers: [{ id: 'c-x', podUid: 'ghost', sandboxId: 'sb-x', name: 'app', attempt: 0, state: 'running' }],
    }, undefined, 'pleg');
    expect(types(relist)).to.not.include('OrphanPodKilled'); // the API has not listed yet
    const ds = s.observe('PodsRelisted', { resourceVersion: '1', uids: [] }, undefined, 'apiserver');
    const kill = only(ds, 'OrphanPodKilled');
    expect(kill.reason).to.equal('PodNoLongerOnNode');
    expect(kill.data).to.deep.equal({ podUid: 'ghost', sandboxIds: ['sb-x'], containerIds: ['c-x'] });
  });

  it('after a restart, a start whose outcome was lost is re-checked against the runtime, not repeated', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('u11'), origin: 'api' }, refFor('u11')), 'PodSandboxRequested');
    const ds = s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-u11', ip: '10.88.0.3' });
    const start = only(ds, 'ContainerStartRequested');
    // The agent dies here. On restart the start is listed as unfinished.
    s.observe('AgentStarted', { unfinished: [{ seq: start.seq, type: start.type }] }, undefined, 'engine');
    const conf = s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    expect(types(conf).filter((t) => t !== 'NodeRegistrationRequested')).to.deep.equal([]);
    const relisted = s.observe('RuntimeRelisted', {
      sandboxes: [{ id: 'sb-u11', podUid: 'u11', name: 'pod-u11', namespace: 'default', attempt: 0, state: 'ready', ip: '10.88.0.3' }],
      containers: [{ id: 'c-real', podUid: 'u11', sandboxId: 'sb-u11', name: 'app', attempt: 0, state: 'running', startedAt: '2026-11-23T10:00:00Z' }],
    }, undefined, 'pleg');
    expect(types(relisted)).to.not.include('ContainerStartRequested');
    expect(s.pod('u11').containers.app.current?.id).to.equal('c-real');
  });

  it('a container whose config cannot be made (a refused subPath) is retried after a delay, keeping CreateContainerConfigError', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('u13'), origin: 'api' }, refFor('u13')), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-u13', ip: '10.88.0.5' }), 'ContainerStartRequested');
    const msg = 'failed to prepare subPath for volumeMount "scratch" of container "app"';
    s.at(1);
    const retry = only(s.outcome(start, 'ContainerStartFailed', { name: 'app', stage: 'config', reason: 'CreateContainerConfigError', message: msg }), 'ContainerStartRequested');
    s.at(2);
    const ds = s.outcome(retry, 'ContainerStartFailed', { name: 'app', stage: 'config', reason: 'CreateContainerConfigError', message: msg });
    expect(types(ds)).to.not.include('ContainerStartRequested');
    const timer = only(ds, 'RestartBackedOff');
    expect(timer.data).to.deep.include({ which: 'config', waitingReason: 'CreateContainerConfigError', until: '2026-11-23T10:00:12.000Z' });
    expect(s.pod('u13').lastStatus!.containerStatuses[0].state.waiting).to.deep.equal({ reason: 'CreateContainerConfigError', message: msg });
    // an unrelated entry in between does not start it early
    expect(types(s.observe('ProbeTick', {}, refFor('u13')))).to.not.include('ContainerStartRequested');
    s.at(12);
    expect(types(s.outcome(timer, 'BackOffExpired', { name: 'app', which: 'config' }))).to.include('ContainerStartRequested');
  });

  it('an image that cannot be pulled backs off with ImagePullBackOff', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('u12'), origin: 'api' }, refFor('u12')), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-u12', ip: '10.88.0.4' }), 'ContainerStartRequested');
    s.at(1);
    let ds = s.outcome(start, 'ContainerStartFailed', { name: 'app', stage: 'pull', reason: 'ErrImagePull', message: 'not found' });
    // First failure retries at once, as upstream's first backoff step is immediate.
    const retry = only(ds, 'ContainerStartRequested');
    expect(s.pod('u12').lastStatus!.containerStatuses[0].state.waiting?.reason).to.equal('ErrImagePull');
    s.at(2);
    ds = s.outcome(retry, 'ContainerStartFailed', { name: 'app', stage: 'pull', reason: 'ErrImagePull', message: 'not found' });
    expect(only(ds, 'RestartBackedOff').reason).to.equal('ImagePullBackOff');
    expect(s.pod('u12').lastStatus!.containerStatuses[0].state.waiting?.reason).to.equal('ImagePullBackOff');
  });
});

describe('pods: volumes gate the sandbox', () => {
  const withVolume = (uid: string) => podManifest(uid, {}, {
    volumes: [{ name: 'cfg', configMap: { name: 'settings' } }],
    containers: [{ name: 'app', image: 'busybox:1', volumeMounts: [{ name: 'cfg', mountPath: '/etc/cfg', readOnly: true }, { name: 'cfg', mountPath: '/etc/one', subPath: 'key1' }] }],
  });

  it('sets volumes up before the sandbox, then mounts them into the container', () => {
    const s = readyNode();
    const ds = s.observe('PodObserved', { pod: withVolume('v1'), origin: 'api' }, refFor('v1'));
    expect(types(ds)).to.not.include('PodSandboxRequested');
    const setup = only(ds, 'PodVolumesSetUpRequested');
    expect(setup.data).to.have.nested.property('plan.volumes[0].configMap.name', 'settings');
    const sb = only(s.outcome(setup, 'PodVolumesSetUp', { mounts: { cfg: { hostPath: '/var/lib/kubelet/pods/v1/volumes/kubernetes.io~configmap/cfg' } }, volumes: [] }), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-v1', ip: '10.88.0.2' }), 'ContainerStartRequested');
    expect((start.data as { plan: { mounts: unknown[] } }).plan.mounts).to.deep.equal([
      { containerPath: '/etc/cfg', hostPath: '/var/lib/kubelet/pods/v1/volumes/kubernetes.io~configmap/cfg', readOnly: true },
      // the subPath is kept as written: the start effect resolves it inside the volume
      { containerPath: '/etc/one', hostPath: '/var/lib/kubelet/pods/v1/volumes/kubernetes.io~configmap/cfg', readOnly: false, volume: 'cfg', index: 1, subPath: 'key1' },
    ]);
  });

  it('a volume that cannot be set up keeps the pod in ContainerCreating and is retried with backoff', () => {
    const s = readyNode();
    const setup = only(s.observe('PodObserved', { pod: withVolume('v2'), origin: 'api' }, refFor('v2')), 'PodVolumesSetUpRequested');
    const retry = only(s.outcome(setup, 'PodVolumesSetUpFailed', { volume: 'cfg', reason: 'FailedMount', message: 'configmap "settings" not found' }), 'PodVolumesSetUpRequested');
    expect(retry.reason).to.equal('FailedMountRetry');
    s.at(1);
    const timer = only(s.outcome(retry, 'PodVolumesSetUpFailed', { volume: 'cfg', reason: 'FailedMount', message: 'configmap "settings" not found' }), 'RestartBackedOff');
    expect(timer.data).to.include({ which: 'volumes', until: '2026-11-23T10:00:11.000Z' });
    expect(s.pod('v2').lastStatus!.containerStatuses[0].state.waiting?.reason).to.equal('ContainerCreating');
    s.at(11);
    only(s.outcome(timer, 'BackOffExpired', { which: 'volumes' }), 'PodVolumesSetUpRequested');
  });

  it('unmounts after the containers and sandbox stop, before the pod object is deleted', () => {
    const s = readyNode();
    const setup = only(s.observe('PodObserved', { pod: withVolume('v3'), origin: 'api' }, refFor('v3')), 'PodVolumesSetUpRequested');
    const sb = only(s.outcome(setup, 'PodVolumesSetUp', { mounts: { cfg: { hostPath: '/x' } }, volumes: [] }), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-v3', ip: '10.88.0.2' }), 'ContainerStartRequested');
    s.outcome(start, 'ContainerStarted', { name: 'app', containerId: 'c-v3', attempt: 0 });
    const kill = only(s.observe('PodObserved', { pod: { ...withVolume('v3'), metadata: { ...withVolume('v3').metadata, deletionTimestamp: '2026-11-23T10:01:00Z', deletionGracePeriodSeconds: 5 } }, origin: 'api' }, refFor('v3')), 'ContainerKilled');
    const sbKill = only(s.outcome(kill, 'ContainerStopped', { name: 'app', containerId: 'c-v3' }), 'PodSandboxKilled');
    const down = only(s.outcome(sbKill, 'PodSandboxStopped', { sandboxId: 'sb-v3' }), 'PodVolumesTearDownRequested');
    only(s.outcome(down, 'PodVolumesTornDown', { volumes: ['cfg'] }), 'PodObjectDeleteRequested');
  });
});

describe('pods: admission', () => {
  it('refuses a pod beyond maxPods with OutOfpods, and never runs it', () => {
    const s = new Scenario();
    s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', maxPods: 1 });
    s.observe('RuntimeRelisted', { sandboxes: [], containers: [] }, undefined, 'pleg');
    s.observe('PodsRelisted', { resourceVersion: '1', uids: [] }, undefined, 'apiserver');
    only(s.observe('PodObserved', { pod: podManifest('a1'), origin: 'api' }, refFor('a1')), 'PodSandboxRequested');
    const ds = s.observe('PodObserved', { pod: podManifest('a2'), origin: 'api' }, refFor('a2'));
    expect(types(ds)).to.deep.equal(['PodStatusChanged']);
    expect(s.pod('a2').lastStatus).to.include({ phase: 'Failed', reason: 'OutOfpods' });
  });
});

describe('pods: a crash between create and start', () => {
  it('a container the runtime has created but never started is started, with the same attempt', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('k1'), origin: 'api' }, refFor('k1')), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-k1', ip: '10.88.0.5' }), 'ContainerStartRequested');
    s.observe('AgentStarted', { unfinished: [{ seq: start.seq, type: start.type }] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    const ds = s.observe('RuntimeRelisted', {
      sandboxes: [{ id: 'sb-k1', podUid: 'k1', name: 'pod-k1', namespace: 'default', attempt: 0, state: 'ready', ip: '10.88.0.5' }],
      containers: [{ id: 'c-created', podUid: 'k1', sandboxId: 'sb-k1', name: 'app', attempt: 0, state: 'created' }],
    }, undefined, 'pleg');
    const again = only(ds, 'ContainerStartRequested');
    expect(again.reason).to.equal('ContainerCreatedNotStarted');
    expect(again.data).to.have.nested.property('plan.attempt', 0);
    expect(s.pod('k1').lastStatus!.containerStatuses[0].state.waiting?.reason).to.equal('ContainerCreating');
  });
});

describe('pods: status patches the API server refuses', () => {
  it('given a refused patch, then it is not re-sent at once but after 10 s, then 20 s; a success ends the retries', () => {
    const s = readyNode();
    runPod(s, 'u9');
    const sent = s.log.filter((e) => e.type === 'PodStatusChanged' && e.pod?.uid === 'u9').at(-1)!;
    let ds = s.outcome(sent, 'PodStatusPatchFailed', { error: 'Pod "pod-u9" is invalid: status.podIPs: may specify no more than one IP for each IP family' });
    expect(types(ds)).to.not.include('PodStatusChanged');
    const timer = only(ds, 'RestartBackedOff');
    expect(timer.reason).to.equal('StatusPatchRetry');
    expect(timer.data).to.deep.include({ which: 'status', until: '2026-11-23T10:00:10.000Z' });
    // An unrelated entry for the pod before the time does not re-send it either.
    ds = s.observe('ProbeResultChanged', { container: 'app', containerId: 'c-u9-app-0', probe: 'readiness', result: 'success', previous: 'unknown' }, refFor('u9'), 'prober');
    expect(types(ds)).to.not.include('PodStatusChanged');
    s.at(10);
    const again = only(s.outcome(timer, 'BackOffExpired', { which: 'status' }), 'PodStatusChanged');
    const second = only(s.outcome(again, 'PodStatusPatchFailed', { error: 'still invalid' }), 'RestartBackedOff');
    expect(second.data).to.have.property('until', '2026-11-23T10:00:30.000Z');
    s.at(30);
    const third = only(s.outcome(second, 'BackOffExpired', { which: 'status' }), 'PodStatusChanged');
    s.outcome(third, 'PodStatusPatched', { phase: 'Running' });
    expect(s.pod('u9').statusRetry).to.equal(undefined);
    expect(s.pod('u9').statusDirty).to.equal(false);
  });
});
