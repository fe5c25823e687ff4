import { expect } from 'chai';
import { podManifest, readyNode, refFor, runPod, only, types } from './scenario.ts';
import { probeTargets } from '../../../src/reducers/pods/probe-targets.ts';

const probed = (uid: string, restartPolicy = 'Always') =>
  podManifest(uid, {}, {
    restartPolicy,
    containers: [{
      name: 'app', image: 'agnhost:1', ports: [{ name: 'http', containerPort: 8080 }],
      livenessProbe: { httpGet: { path: '/healthz', port: 'http' }, failureThreshold: 3, periodSeconds: 1 },
      readinessProbe: { tcpSocket: { port: 8080 } },
    }],
  });

function report(s: ReturnType<typeof readyNode>, uid: string, type: string, data: Record<string, unknown>) {
  const id = s.pod(uid).containers.app.current!.id;
  return s.observe(type, { container: 'app', containerId: id, ...data }, refFor(uid), 'prober');
}

describe('pods: probes', () => {
  it('lists running containers with probes as prober targets, with their pod IP and ports', () => {
    const s = readyNode();
    runPod(s, 'p1', probed('p1'));
    const targets = probeTargets(s.state.pods);
    expect(targets).to.have.length(1);
    expect(targets[0]).to.include({ podUid: 'p1', container: 'app', containerId: 'c-p1-app-0', podIP: '10.88.0.7' });
    expect(targets[0].liveness?.httpGet?.path).to.equal('/healthz');
  });

  it('a container is not Ready until its readiness probe succeeds, and unready again when it fails', () => {
    const s = readyNode();
    runPod(s, 'p2', probed('p2'));
    expect(s.pod('p2').lastStatus!.conditions.find((c) => c.type === 'Ready')!.status).to.equal('False');
    report(s, 'p2', 'ProbeResultChanged', { probe: 'readiness', result: 'success', previous: 'unknown' });
    expect(s.pod('p2').lastStatus!.containerStatuses[0].ready).to.equal(true);
    expect(s.pod('p2').lastStatus!.conditions.find((c) => c.type === 'Ready')!.status).to.equal('True');
    report(s, 'p2', 'ProbeResultChanged', { probe: 'readiness', result: 'failure', previous: 'success' });
    expect(s.pod('p2').lastStatus!.conditions.find((c) => c.type === 'ContainersReady')!.status).to.equal('False');
  });

  it('a liveness failure kills the container, naming the failed probe results as its causes', () => {
    const s = readyNode();
    runPod(s, 'p3', probed('p3'));
    const f1 = report(s, 'p3', 'ProbeFailed', { probe: 'liveness', consecutiveFailures: 1, failureThreshold: 3, handler: 'httpGet', detail: 'HTTP probe failed with statuscode: 500' });
    expect(f1).to.deep.equal([]);
    report(s, 'p3', 'ProbeFailed', { probe: 'liveness', consecutiveFailures: 2, failureThreshold: 3, handler: 'httpGet', detail: 'HTTP probe failed with statuscode: 500' });
    report(s, 'p3', 'ProbeFailed', { probe: 'liveness', consecutiveFailures: 3, failureThreshold: 3, handler: 'httpGet', detail: 'HTTP probe failed with statuscode: 500' });
    const failedSeqs = s.log.filter((e) => e.type === 'ProbeFailed').map((e) => e.seq);
    const ds = report(s, 'p3', 'ProbeResultChanged', { probe: 'liveness', result: 'failure', previous: 'success' });
    const kill = only(ds, 'ContainerKilled');
    expect(kill.reason).to.equal('LivenessProbeFailed');
    expect(kill.cause).to.equal(s.log.find((e) => e.type === 'ProbeResultChanged')!.seq);
    expect(kill.data).to.deep.include({ probe: 'liveness', failures: failedSeqs });
    // The kill's outcome restarts the container (restartPolicy Always), once.
    const after = s.outcome(kill, 'ContainerStopped', { name: 'app', containerId: 'c-p3-app-0', exitCode: 137 });
    expect(only(after, 'ContainerStartRequested').data).to.have.nested.property('plan.attempt', 1);
  });

  it('with restartPolicy Never a liveness-killed container stays dead', () => {
    const s = readyNode();
    runPod(s, 'p4', probed('p4', 'Never'));
    const kill = only(report(s, 'p4', 'ProbeResultChanged', { probe: 'liveness', result: 'failure', previous: 'success' }), 'ContainerKilled');
    const after = s.outcome(kill, 'ContainerStopped', { name: 'app', containerId: 'c-p4-app-0', exitCode: 137 });
    expect(types(after)).to.not.include('ContainerStartRequested');
    expect(s.pod('p4').lastStatus!.phase).to.equal('Failed');
  });

  it('reports about an older container instance are ignored', () => {
    const s = readyNode();
    runPod(s, 'p5', probed('p5'));
    const ds = s.observe('ProbeResultChanged', { container: 'app', containerId: 'old-id', probe: 'liveness', result: 'failure', previous: 'success' }, refFor('p5'), 'prober');
    expect(types(ds)).to.not.include('ContainerKilled');
  });
});

describe('pods: probe failure runs', () => {
  it('a liveness kill names only the failures of the current run, not ones before a success', () => {
    const s = readyNode();
    runPod(s, 'p6', probed('p6'));
    const fail = (n: number) => report(s, 'p6', 'ProbeFailed', { probe: 'liveness', consecutiveFailures: n, failureThreshold: 3, handler: 'httpGet', detail: 'connection refused' });
    fail(1); // an early failure, followed by successes (not logged: the result never flipped)
    fail(1);
    fail(2);
    fail(3);
    const run = s.log.filter((e) => e.type === 'ProbeFailed').slice(1).map((e) => e.seq);
    const kill = only(report(s, 'p6', 'ProbeResultChanged', { probe: 'liveness', result: 'failure', previous: 'success' }), 'ContainerKilled');
    expect((kill.data as { failures: number[] }).failures).to.deep.equal(run);
  });
});
