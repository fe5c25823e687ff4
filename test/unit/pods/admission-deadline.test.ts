// Admission (sysctls, OS) and activeDeadlineSeconds as upstream (issue #14 cause 8).
import { expect } from 'chai';
import type { Entry } from '../../../src/model/entry.ts';
import { normalizeSysctl } from '../../../src/model/pod-admission.ts';
import { only, podManifest, readyNode, refFor, runPod, Scenario } from './scenario.ts';

const status = (ds: Entry[]) => (only(ds, 'PodStatusChanged').data as { status: { phase: string; reason?: string; message?: string } }).status;
const summary = (ds: Entry[]) => ds.map((d) => `${d.type}(${d.reason})`);

function nodeWith(allowedUnsafeSysctls?: string[]): Scenario {
  const s = new Scenario();
  s.observe('AgentStarted', { unfinished: [] }, undefined, 'engine');
  s.observe('AgentConfigured', { nodeName: 'node-1', standalone: false, staticPodPath: '', hostIP: '10.0.0.5', ...(allowedUnsafeSysctls ? { allowedUnsafeSysctls } : {}) });
  s.observe('RuntimeRelisted', { sandboxes: [], containers: [] }, undefined, 'pleg');
  s.observe('PodsRelisted', { resourceVersion: '1', uids: [] }, undefined, 'apiserver');
  return s;
}

describe('pods: admission and active deadline', () => {
  it('an unsafe sysctl is refused at admission (SysctlForbidden): Failed, nothing started', () => {
    const s = readyNode();
    const ds = s.observe('PodObserved', { pod: podManifest('u1', {}, { securityContext: { sysctls: [{ name: 'kernel.shm_rmid_forced', value: '1' }, { name: 'kernel.msgmax', value: '9000' }] } }), origin: 'api' }, refFor('u1'));
    expect(summary(ds)).to.deep.equal(['PodStatusChanged(PodObserved)']);
    expect(status(ds)).to.include({ phase: 'Failed', reason: 'SysctlForbidden', message: 'forbidden sysctl: "kernel.msgmax" not allowlisted' });
  });

  it('a safe net sysctl with hostNetwork is refused; allowedUnsafeSysctls admits a pattern; slashes are normalised', () => {
    const s = readyNode();
    const ds = s.observe('PodObserved', { pod: podManifest('u2', {}, { hostNetwork: true, securityContext: { sysctls: [{ name: 'net/ipv4/ip_local_port_range', value: '1024 65000' }] } }), origin: 'api' }, refFor('u2'));
    expect(status(ds)).to.include({ phase: 'Failed', reason: 'SysctlForbidden', message: 'forbidden sysctl: "net.ipv4.ip_local_port_range" not allowed with host Net enabled' });
    const t = nodeWith(['kernel.msg*']);
    const ok = t.observe('PodObserved', { pod: podManifest('u3', {}, { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '9000' }] } }), origin: 'api' }, refFor('u3'));
    expect(summary(ok)).to.deep.equal(['PodStatusChanged(PodObserved)', 'PodSandboxRequested(PodScheduled)']);
    expect(normalizeSysctl('net/ipv4/conf/eth0.100/forwarding')).to.equal('net.ipv4.conf.eth0/100.forwarding');
  });

  it('os.name windows is refused (PodOSNotSupported); linux is admitted', () => {
    const s = readyNode();
    const ds = s.observe('PodObserved', { pod: podManifest('u4', {}, { os: { name: 'windows' } }), origin: 'api' }, refFor('u4'));
    expect(summary(ds)).to.deep.equal(['PodStatusChanged(PodObserved)']);
    expect(status(ds)).to.include({ phase: 'Failed', reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" });
    expect(summary(s.observe('PodObserved', { pod: podManifest('u5', {}, { os: { name: 'linux' } }), origin: 'api' }, refFor('u5')))).to.deep.equal(['PodStatusChanged(PodObserved)', 'PodSandboxRequested(PodScheduled)']);
  });

  it('activeDeadlineSeconds: a timer for the deadline, then kill and Failed DeadlineExceeded when it fires', () => {
    const s = readyNode();
    runPod(s, 'u6', podManifest('u6', {}, { activeDeadlineSeconds: 30, terminationGracePeriodSeconds: 5 }));
    const timer = s.log.filter((e) => e.type === 'RestartBackedOff');
    expect(timer.map((e) => e.data)).to.deep.equal([{ which: 'deadline', until: '2026-11-23T10:00:30.000Z', waitingReason: 'ActiveDeadline' }]);
    expect(s.pod('u6').startTime).to.equal('2026-11-23T10:00:00.000Z');
    // An observation before the deadline changes nothing about it.
    s.at(29);
    expect(summary(s.observe('PodObserved', { pod: podManifest('u6', {}, { activeDeadlineSeconds: 30, terminationGracePeriodSeconds: 5 }), origin: 'api' }, refFor('u6')))).to.not.include('PodActiveDeadlineExceeded(DeadlineExceeded)');
    s.at(30);
    const ds = s.outcome(timer[0], 'BackOffExpired', { which: 'deadline' });
    expect(summary(ds)).to.deep.equal(['PodStatusChanged(BackOffExpired)', 'PodActiveDeadlineExceeded(DeadlineExceeded)', 'ContainerKilled(DeadlineExceeded)']);
    expect(only(ds, 'PodActiveDeadlineExceeded').data).to.deep.equal({ activeDeadlineSeconds: 30, startTime: '2026-11-23T10:00:00.000Z', message: 'Pod was active on the node longer than the specified deadline' });
    expect(status(ds)).to.include({ phase: 'Failed', reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    // The containers are killed at once, with the pod's grace period.
    const kill = only(ds, 'ContainerKilled');
    expect(kill.data).to.include({ name: 'app', gracePeriodSeconds: 5 });
  });
});

describe('pods: readinessGates', () => {
  const gated = (conditions?: { type: string; status: string }[]) => ({
    ...podManifest('g1', {}, { readinessGates: [{ conditionType: 'example.com/lb' }, { conditionType: 'example.com/dns' }] }),
    ...(conditions ? { status: { conditions: [{ type: 'Ready', status: 'True' }, ...conditions] } } : {}),
  });
  const ready = (s: Scenario) => s.pod('g1').lastStatus!.conditions.find((c) => c.type === 'Ready');

  it('Ready waits for every gate condition to be True, with upstream messages; other status is not kept', async () => {
    const { decodePod } = await import('../../../src/model/pod.ts');
    const d = decodePod(gated([{ type: 'example.com/lb', status: 'False' }]));
    expect(d._tag === 'Right' && d.right.status).to.deep.equal({ conditions: [{ type: 'example.com/lb', status: 'False' }] });
    const plain = decodePod({ ...podManifest('g2'), status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } });
    expect(plain._tag === 'Right' && plain.right).to.not.have.property('status');

    const s = readyNode();
    runPod(s, 'g1', gated());
    expect(ready(s)).to.deep.include({ status: 'False', reason: 'ReadinessGatesNotReady', message: 'corresponding condition of pod readiness gate "example.com/lb" does not exist., corresponding condition of pod readiness gate "example.com/dns" does not exist.' });
    const pod1 = (d as { right: unknown }).right;
    s.observe('PodObserved', { pod: { ...(pod1 as object), status: { conditions: [{ type: 'example.com/lb', status: 'False' }, { type: 'example.com/dns', status: 'True' }] } }, origin: 'api' }, refFor('g1'));
    expect(ready(s)).to.deep.include({ status: 'False', reason: 'ReadinessGatesNotReady', message: 'the status of pod readiness gate "example.com/lb" is not "True", but False' });
    s.observe('PodObserved', { pod: { ...(pod1 as object), status: { conditions: [{ type: 'example.com/lb', status: 'True' }, { type: 'example.com/dns', status: 'True' }] } }, origin: 'api' }, refFor('g1'));
    expect(ready(s)).to.deep.include({ status: 'True' }).and.not.have.property('reason');
  });
});

describe('pod status patch: conditions of other controllers', () => {
  it('keeps a readiness gate condition the server has, never a kubelet-owned one the agent dropped', async () => {
    const { withForeignConditions } = await import('../../../src/effects/api/pod-api.ts');
    const ours = { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] };
    const server = { conditions: [{ type: 'Ready', status: 'False' }, { type: 'example.com/lb', status: 'True' }, { type: 'ContainersReady', status: 'False' }] };
    expect(withForeignConditions(ours, server)).to.deep.equal({ phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }, { type: 'example.com/lb', status: 'True' }] });
    expect(withForeignConditions(ours, { conditions: [{ type: 'Ready', status: 'False' }] })).to.equal(ours);
  });
});
