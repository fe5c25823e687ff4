import { expect } from 'chai';
import { containerExited, only, podManifest, readyNode, refFor, types } from './scenario.ts';

describe('pods: init container status (upstream convertToAPIContainerStatuses, prober UpdatePodStatus)', () => {
  it('completed init containers are ready; app containers wait as PodInitializing while init containers run or fail', () => {
    const s = readyNode();
    const m = podManifest('i1', {}, {
      initContainers: [{ name: 'init-a', image: 'busybox:1', command: ['true'] }, { name: 'init-b', image: 'busybox:1', command: ['false'] }],
    });
    const sb = only(s.observe('PodObserved', { pod: m, origin: 'api' }, refFor('i1')), 'PodSandboxRequested');
    const status = () => s.pod('i1').lastStatus!;
    const waiting = (list: 'containerStatuses' | 'initContainerStatuses', name: string) => status()[list].find((c) => c.name === name)!.state.waiting?.reason;
    expect(waiting('containerStatuses', 'app')).to.equal('PodInitializing');
    const a = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-i1', ip: '10.88.0.9' }), 'ContainerStartRequested');
    expect(waiting('initContainerStatuses', 'init-a')).to.equal('PodInitializing');
    s.outcome(a, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' });
    expect(status().initContainerStatuses[0].ready).to.equal(false);
    expect(waiting('containerStatuses', 'app')).to.equal('PodInitializing');
    const b = only(containerExited(s, 'i1', 'init-a', 0), 'ContainerStartRequested');
    expect(status().initContainerStatuses[0]).to.include({ name: 'init-a', ready: true });
    expect(status().initContainerStatuses[0].state.terminated?.exitCode).to.equal(0);
    s.outcome(b, 'ContainerStarted', { name: 'init-b', containerId: 'c-b', attempt: 0, startedAt: '2026-11-23T10:00:02Z' });
    const after = containerExited(s, 'i1', 'init-b', 1);
    expect(types(after).filter((t) => t === 'ContainerStartRequested')).to.have.length.at.most(1);
    expect(status().initContainerStatuses[1].ready).to.equal(false);
    expect(waiting('containerStatuses', 'app')).to.equal('PodInitializing');
    expect(status().phase).to.equal('Pending');
  });

  it('a pod without init containers keeps ContainerCreating', () => {
    const s = readyNode();
    s.observe('PodObserved', { pod: podManifest('i2'), origin: 'api' }, refFor('i2'));
    expect(s.pod('i2').lastStatus!.containerStatuses[0].state.waiting?.reason).to.equal('ContainerCreating');
  });
});
