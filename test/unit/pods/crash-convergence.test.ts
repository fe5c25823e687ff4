// Convergence after crashes and races between the PLEG and effect outcomes: the runtime's view of
// a container is never overwritten by an older "started", and a start in flight is never decided
// again. Each step compares the whole decision list.
import { expect } from 'chai';
import type { Entry } from '../../../src/model/entry.ts';
import type { PodStatus } from '../../../src/reducers/pods/status-types.ts';
import { only, podManifest, readyNode, refFor, type Scenario } from './scenario.ts';

/** A decision as an operator reads it in the audit trail. */
const brief = (es: Entry[]) => es.map((e) => {
  const d = e.data as { plan?: { name?: string; attempt?: number }; name?: string; restartCount?: number; status?: PodStatus };
  const inits = (st: PodStatus) => (st.initContainerStatuses ?? []).map((c) => `${c.name}=${Object.keys(c.state).join('')}`).join(',');
  return e.type === 'ContainerStartRequested'
    ? `${e.type} ${d.plan?.name} attempt=${d.plan?.attempt} restart=${d.restartCount} (${e.reason})`
    : e.type === 'PodStatusChanged' ? `${e.type} ${d.status?.phase} ${inits(d.status!)}` : `${e.type} ${d.name ?? ''} (${e.reason})`;
});

const withInit = (uid: string) => podManifest(uid, {}, {
  initContainers: [{ name: 'init-a', image: 'busybox:1', command: ['true'] }, { name: 'init-b', image: 'busybox:1', command: ['true'] }],
});

const sandboxOf = (uid: string) => ({ id: `sb-${uid}`, podUid: uid, name: `pod-${uid}`, namespace: 'default', attempt: 0, state: 'ready' as const, ip: '10.88.0.9' });

function seen(s: Scenario, uid: string, name: string, id: string, state: 'created' | 'running' | 'exited', extra: Record<string, unknown> = {}) {
  return s.observe('ContainerStateChanged', {
    container: { id, podUid: uid, sandboxId: `sb-${uid}`, name, attempt: 0, state, ...extra },
  }, refFor(uid), 'pleg');
}

const exited0 = { exitCode: 0, reason: 'Completed', startedAt: '2026-11-23T10:00:01Z', finishedAt: '2026-11-23T10:00:01.5Z' };

/** A pod with init containers whose sandbox is up and whose first init container start was decided. */
function initStartDecided(uid: string): { s: Scenario; start: Entry } {
  const s = readyNode();
  const sb = only(s.observe('PodObserved', { pod: withInit(uid), origin: 'api' }, refFor(uid)), 'PodSandboxRequested');
  const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: `sb-${uid}`, ip: '10.88.0.9' }), 'ContainerStartRequested');
  expect(start.data).to.have.nested.property('plan.name', 'init-a');
  return { s, start };
}

describe('pods: convergence when the PLEG and start outcomes cross', () => {
  it('given a start in flight, when the PLEG sees the created container before the outcome, then nothing is decided again', () => {
    const { s, start } = initStartDecided('r1');
    // when: the relist catches the container between CreateContainer and StartContainer
    expect(brief(seen(s, 'r1', 'init-a', 'c-a', 'created'))).to.deep.equal(['PodStatusChanged Pending init-a=waiting,init-b=waiting']);
    expect(s.pod('r1').containers['init-a'].pending?.seq).to.equal(start.seq);
    // then: the start outcome and the runtime's exit carry the pod on to the next init container
    expect(brief(s.outcome(start, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' }))).to.deep.equal(['PodStatusChanged Pending init-a=running,init-b=waiting']);
    expect(brief(seen(s, 'r1', 'init-a', 'c-a', 'exited', exited0))).to.deep.equal([
      'PodStatusChanged Pending init-a=terminated,init-b=waiting',
      'ContainerStartRequested init-b attempt=0 restart=0 (ContainerNotStarted)',
    ]);
    expect(s.log.filter((e) => e.type === 'ContainerStartRequested' && (e.data as { plan: { name: string } }).plan.name === 'init-a')).to.have.length(1);
  });

  it('given the PLEG reported the init container exited before its start outcome, when the outcome arrives, then the exit stands and the pod goes on', () => {
    const { s, start } = initStartDecided('r2');
    // when: the container ran and exited before the effect reported (a slow node, a short init)
    expect(brief(seen(s, 'r2', 'init-a', 'c-a', 'exited', exited0))).to.deep.equal([
      'PodStatusChanged Pending init-a=terminated,init-b=waiting',
      'ContainerStartRequested init-b attempt=0 restart=0 (ContainerNotStarted)',
    ]);
    const b = s.log.at(-1)!;
    expect(brief(s.outcome(start, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' }))).to.deep.equal([]);
    // then: init-a is still known as exited, so init-b's exit starts the app container
    expect(s.pod('r2').containers['init-a'].current).to.include({ id: 'c-a', state: 'exited', exitCode: 0 });
    s.outcome(b, 'ContainerStarted', { name: 'init-b', containerId: 'c-b', attempt: 0 });
    expect(brief(seen(s, 'r2', 'init-b', 'c-b', 'exited', exited0))).to.deep.equal([
      'PodStatusChanged Pending init-a=terminated,init-b=terminated',
      'ContainerStartRequested app attempt=0 restart=0 (ContainerNotStarted)',
    ]);
  });

  it('given the PLEG saw the container running before its start outcome, when the outcome arrives, then the runtime\'s view stands', () => {
    const { s, start } = initStartDecided('r3');
    seen(s, 'r3', 'init-a', 'c-a', 'running', { startedAt: '2026-11-23T10:00:01Z' });
    s.outcome(start, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' });
    expect(s.pod('r3').containers['init-a'].current).to.include({ id: 'c-a', state: 'running', startedAt: '2026-11-23T10:00:01Z' });
    expect(brief(seen(s, 'r3', 'init-a', 'c-a', 'exited', exited0))).to.deep.equal([
      'PodStatusChanged Pending init-a=terminated,init-b=waiting',
      'ContainerStartRequested init-b attempt=0 restart=0 (ContainerNotStarted)',
    ]);
  });
});

describe('pods: convergence after kill -9', () => {
  it('given the agent died after a start outcome, when the relist at restart shows the init container exited, then the pod goes on', () => {
    const { s, start } = initStartDecided('k1');
    s.outcome(start, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' });
    // the agent is killed; init-a exits while it is down
    s.at(30);
    expect(brief(s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine'))).to.deep.equal([]);
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    s.observe('PodsRelisted', { resourceVersion: '3', uids: ['k1'] }, undefined, 'apiserver');
    const ds = s.observe('RuntimeRelisted', {
      sandboxes: [sandboxOf('k1')],
      containers: [{ id: 'c-a', podUid: 'k1', sandboxId: 'sb-k1', name: 'init-a', attempt: 0, state: 'exited', ...exited0 }],
    }, undefined, 'pleg');
    expect(brief(ds)).to.deep.equal([
      'PodStatusChanged Pending init-a=terminated,init-b=waiting',
      'ContainerStartRequested init-b attempt=0 restart=0 (ContainerNotStarted)',
    ]);
  });

  it('given the agent died between create and start, when the restarted agent starts the created container, then it is one start (not a restart) and the PLEG\'s exit before its outcome stands', () => {
    const { s, start } = initStartDecided('k2');
    s.observe('AgentStarted', { unfinished: [{ seq: start.seq, type: start.type }] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    s.observe('PodsRelisted', { resourceVersion: '3', uids: ['k2'] }, undefined, 'apiserver');
    const ds = s.observe('RuntimeRelisted', {
      sandboxes: [sandboxOf('k2')],
      containers: [{ id: 'c-a', podUid: 'k2', sandboxId: 'sb-k2', name: 'init-a', attempt: 0, state: 'created' }],
    }, undefined, 'pleg');
    expect(brief(ds)).to.deep.equal([
      'PodStatusChanged Pending init-a=waiting,init-b=waiting',
      'ContainerStartRequested init-a attempt=0 restart=0 (ContainerCreatedNotStarted)',
    ]);
    const again = ds[1];
    // the start the dead agent had asked for completes in the runtime anyway: running, then exited
    expect(brief(seen(s, 'k2', 'init-a', 'c-a', 'running', { startedAt: '2026-11-23T10:00:01Z' }))).to.deep.equal(['PodStatusChanged Pending init-a=running,init-b=waiting']);
    expect(brief(seen(s, 'k2', 'init-a', 'c-a', 'exited', exited0))).to.deep.equal([
      'PodStatusChanged Pending init-a=terminated,init-b=waiting',
      'ContainerStartRequested init-b attempt=0 restart=0 (ContainerNotStarted)',
    ]);
    // the effect finds the container already started and reports it: old news
    expect(brief(s.outcome(again, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0, startedAt: '2026-11-23T10:00:01Z' }))).to.deep.equal([]);
    expect(s.pod('k2').containers['init-a'].current?.state).to.equal('exited');
  });

  it('a start outcome older than the instance the runtime already shows changes nothing', () => {
    const { s, start } = initStartDecided('k3');
    seen(s, 'k3', 'init-a', 'c-a', 'exited', { ...exited0, exitCode: 1, reason: 'Error' });
    s.observe('ContainerStateChanged', { container: { id: 'c-a1', podUid: 'k3', sandboxId: 'sb-k3', name: 'init-a', attempt: 1, state: 'running' } }, refFor('k3'), 'pleg');
    const before = s.pod('k3').containers['init-a'];
    expect(brief(s.outcome(start, 'ContainerStarted', { name: 'init-a', containerId: 'c-a', attempt: 0 }))).to.deep.equal([]);
    expect(s.pod('k3').containers['init-a'].current).to.deep.equal(before.current);
    expect(s.pod('k3').containers['init-a'].nextAttempt).to.equal(before.nextAttempt);
  });
});

describe('pods: a status patch cut short by kill -9', () => {
  it('given a status patch in flight when the agent died, when it restarts, then the status is sent again at the relist', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('k4'), origin: 'api' }, refFor('k4')), 'PodSandboxRequested');
    const ds = s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-k4', ip: '10.88.0.9' });
    const start = only(ds, 'ContainerStartRequested');
    const running = only(s.outcome(start, 'ContainerStarted', { name: 'app', containerId: 'c-app', attempt: 0, startedAt: '2026-11-23T10:00:01Z' }), 'PodStatusChanged');
    expect(running.data).to.have.nested.property('status.phase', 'Running');
    // the agent dies before the patch's outcome; the API server may still show Pending
    s.at(30);
    s.observe('AgentStarted', { unfinished: [{ seq: running.seq, type: running.type, pod: refFor('k4') }] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    s.observe('PodsRelisted', { resourceVersion: '3', uids: ['k4'] }, undefined, 'apiserver');
    const relisted = s.observe('RuntimeRelisted', {
      sandboxes: [{ ...sandboxOf('k4') }],
      containers: [{ id: 'c-app', podUid: 'k4', sandboxId: 'sb-k4', name: 'app', attempt: 0, state: 'running', startedAt: '2026-11-23T10:00:01Z' }],
    }, undefined, 'pleg');
    expect(brief(relisted)).to.deep.equal(['PodStatusChanged Running ']);
    // once sent, it is not sent again while nothing changes
    s.outcome(relisted[0], 'PodStatusPatched', {});
    expect(brief(s.observe('PodsRelisted', { resourceVersion: '4', uids: ['k4'] }, undefined, 'apiserver'))).to.deep.equal([]);
  });

  it('given a status patch that completed before the agent died, when it restarts, then nothing is sent again', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('k5'), origin: 'api' }, refFor('k5')), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-k5', ip: '10.88.0.9' }), 'ContainerStartRequested');
    const running = only(s.outcome(start, 'ContainerStarted', { name: 'app', containerId: 'c-app', attempt: 0, startedAt: '2026-11-23T10:00:01Z' }), 'PodStatusChanged');
    s.outcome(running, 'PodStatusPatched', {});
    s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    s.observe('PodsRelisted', { resourceVersion: '3', uids: ['k5'] }, undefined, 'apiserver');
    expect(brief(s.observe('RuntimeRelisted', {
      sandboxes: [{ ...sandboxOf('k5') }],
      containers: [{ id: 'c-app', podUid: 'k5', sandboxId: 'sb-k5', name: 'app', attempt: 0, state: 'running', startedAt: '2026-11-23T10:00:01Z' }],
    }, undefined, 'pleg'))).to.deep.equal([]);
  });
});

describe('pods: a start cut short by kill -9', () => {
  it('given a created container whose start died with the agent, when the relist shows it exited, then the restart uses the next attempt', () => {
    const s = readyNode();
    const sb = only(s.observe('PodObserved', { pod: podManifest('k6'), origin: 'api' }, refFor('k6')), 'PodSandboxRequested');
    const start = only(s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-k6', ip: '10.88.0.9' }), 'ContainerStartRequested');
    s.observe('ContainerStateChanged', { container: { id: 'c-app', podUid: 'k6', sandboxId: 'sb-k6', name: 'app', attempt: 0, state: 'created' } }, refFor('k6'), 'pleg');
    // the agent dies during StartContainer; containerd gives up the start: the task exits 128
    s.at(30);
    s.observe('AgentStarted', { unfinished: [{ seq: start.seq, type: start.type, pod: refFor('k6') }] }, undefined, 'engine');
    s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5' });
    s.observe('PodsRelisted', { resourceVersion: '3', uids: ['k6'] }, undefined, 'apiserver');
    const ds = s.observe('RuntimeRelisted', {
      sandboxes: [sandboxOf('k6')],
      containers: [{ id: 'c-app', podUid: 'k6', sandboxId: 'sb-k6', name: 'app', attempt: 0, state: 'exited', exitCode: 128, reason: 'StartError', finishedAt: '2026-11-23T10:00:20Z' }],
    }, undefined, 'pleg');
    expect(brief(ds)).to.deep.equal(['PodStatusChanged Running ', 'ContainerStartRequested app attempt=1 restart=1 (ContainerFailed)']);
  });
});
