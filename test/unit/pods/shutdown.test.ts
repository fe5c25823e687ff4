// Graceful node shutdown over the real reducers: Ready turns False with upstream's message, the
// regular pod is killed first within (period − critical period), the critical one only once the
// regular group is over, each reported Failed / Terminated; new pods are refused.
import { expect } from 'chai';
import { SHUTDOWN_POD_MESSAGE, shutdownGroups } from '../../../src/model/node-shutdown.ts';
import { containerExited, podManifest, readyNode, refFor, runPod, types, type Scenario } from './scenario.ts';

const groups = shutdownGroups({ shutdownGracePeriod: '30s', shutdownGracePeriodCriticalPods: '10s', shutdownGracePeriodByPodPriority: [] });
const ready = (s: Scenario) => s.state.node.conditions.find((c) => c.type === 'Ready');

function node(): Scenario {
  const s = readyNode();
  s.observe('NodeRegistered', {});
  runPod(s, 'regular', podManifest('regular', {}, { terminationGracePeriodSeconds: 60 }));
  runPod(s, 'critical', podManifest('critical', {}, { priorityClassName: 'system-node-critical', terminationGracePeriodSeconds: 5 }));
  return s;
}

describe('graceful node shutdown (reducers)', () => {
  it('computes upstream groups from shutdownGracePeriod and the critical period, or by priority', () => {
    expect(groups).to.deep.equal([{ priority: Number.MIN_SAFE_INTEGER, gracePeriodSeconds: 20 }, { priority: 2_000_000_000, gracePeriodSeconds: 10 }]);
    expect(shutdownGroups({ shutdownGracePeriod: '0s', shutdownGracePeriodCriticalPods: '0s', shutdownGracePeriodByPodPriority: [] })).to.deep.equal([]);
    expect(shutdownGroups({ shutdownGracePeriod: '0s', shutdownGracePeriodCriticalPods: '0s', shutdownGracePeriodByPodPriority: [{ priority: 100, shutdownGracePeriodSeconds: 5 }, { priority: 0, shutdownGracePeriodSeconds: 7 }] }))
      .to.deep.equal([{ priority: 0, gracePeriodSeconds: 7 }, { priority: 100, gracePeriodSeconds: 5 }]);
  });

  it('given a shutdown, then Ready is False, regular pods are killed first with min(own, group) grace, critical ones after, all Failed/Terminated', () => {
    const s = node();
    const first = s.observe('NodeShutdownRequested', { trigger: 'cli', groups }, undefined, 'node-shutdown');
    expect(ready(s)).to.include({ status: 'False', reason: 'KubeletNotReady', message: 'node is shutting down' });
    const start = first.find((e) => e.type === 'NodeShutdownGroupStarted');
    expect(start?.data).to.deep.equal({ index: 0, priority: Number.MIN_SAFE_INTEGER, gracePeriodSeconds: 20, until: new Date(Date.parse(start!.at) + 20_000).toISOString(), pods: ['regular'] });
    const kills = first.filter((e) => e.type === 'PodShutdownKilled');
    expect(kills.map((e) => [e.pod?.uid, (e.data as { gracePeriodSeconds: number }).gracePeriodSeconds])).to.deep.equal([['regular', 20]]);
    const containerKill = first.find((e) => e.type === 'ContainerKilled' && e.pod?.uid === 'regular');
    expect(containerKill?.data).to.have.property('gracePeriodSeconds', 20);
    expect(first.filter((e) => e.pod?.uid === 'critical' && e.type !== 'PodStatusChanged')).to.deep.equal([]);
    const st = s.pod('regular').lastStatus!;
    expect(st).to.include({ phase: 'Failed', reason: 'Terminated', message: SHUTDOWN_POD_MESSAGE });

    // The regular pod stops: the critical group starts at once, with the pod's own 5 s (< 10 s).
    containerExited(s, 'regular', 'app', 143);
    const second = s.observe('PodSandboxStateChanged', { sandbox: { id: 'sb-regular', podUid: 'regular', name: 'regular', namespace: 'default', attempt: 0, state: 'notready' } }, refFor('regular'), 'pleg');
    const crit = second.filter((e) => e.type === 'PodShutdownKilled');
    expect(crit.map((e) => [e.pod?.uid, (e.data as { gracePeriodSeconds: number }).gracePeriodSeconds])).to.deep.equal([['critical', 5]]);
    expect(second.find((e) => e.type === 'NodeShutdownGroupStarted')?.data).to.include({ index: 1, gracePeriodSeconds: 10 });
    expect(s.pod('critical').lastStatus).to.include({ phase: 'Failed', reason: 'Terminated', message: SHUTDOWN_POD_MESSAGE });
  });

  it('given the regular group still running when its period ends, then the critical group starts at the timer outcome', () => {
    const s = node();
    const first = s.observe('NodeShutdownRequested', { trigger: 'signal', groups }, undefined, 'node-shutdown');
    const timer = first.find((e) => e.type === 'NodeShutdownGroupStarted')!;
    s.at(25);
    const ds = s.outcome(timer, 'NodeShutdownGroupEnded', { index: 0 });
    expect(ds.filter((e) => e.type === 'PodShutdownKilled').map((e) => e.pod?.uid)).to.deep.equal(['critical']);
  });

  it('given a shutdown in progress, then a new pod is refused with upstream reason; a second announcement changes nothing', () => {
    const s = node();
    s.observe('NodeShutdownRequested', { trigger: 'cli', groups }, undefined, 'node-shutdown');
    expect(types(s.observe('NodeShutdownRequested', { trigger: 'cli', groups }, undefined, 'node-shutdown'))).to.not.include('PodShutdownKilled');
    s.observe('PodObserved', { pod: podManifest('late'), origin: 'api', resourceVersion: '9' }, refFor('late'), 'apiserver');
    expect(s.pod('late').rejected).to.deep.equal({ reason: 'NodeShutdown', message: 'Pod was rejected as the node is shutting down.' });
  });
});
