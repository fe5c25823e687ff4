// Admission refusals and activeDeadlineSeconds against the real agent, containerd and API server
// (issue #14 cause 8): what `kubectl get pod` shows.
import { expect } from 'chai';
import { getJson, kubectl, startWithCleanPods, stopAfterDeletingPods, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const NS = 'default';
const LABEL = 'ledgerlet-test=admission';

function pod(env: TestbedEnv, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { 'ledgerlet-test': 'admission' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, restartPolicy: 'Never', containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }], ...spec },
  });
}

const failedWith = (env: TestbedEnv, name: string) => waitFor(`${name} Failed`, async () => {
  const s = (await getJson(env, ['-n', NS, 'get', 'pod', name])).status;
  return s?.phase === 'Failed' ? s : undefined;
}, 120_000, 1000);

describe('admission and active deadline (ledgerlet run + containerd)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;

  before(async () => ({ env, agent } = await startWithCleanPods(NS, LABEL)));
  after(() => stopAfterDeletingPods(env, agent, NS, LABEL));

  it('refuses unsafe sysctls and a windows pod at admission, without a sandbox', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'adm-sysctl', { securityContext: { sysctls: [{ name: 'kernel.msgmax', value: '10000' }] } }));
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'adm-windows', { os: { name: 'windows' }, securityContext: {} }));
    const a = await failedWith(env, 'adm-sysctl');
    expect({ reason: a.reason, message: a.message }).to.deep.equal({ reason: 'SysctlForbidden', message: 'forbidden sysctl: "kernel.msgmax" not allowlisted' });
    const b = await failedWith(env, 'adm-windows');
    expect({ reason: b.reason, message: b.message }).to.deep.equal({ reason: 'PodOSNotSupported', message: "Failed to admit pod as the OS field doesn't match node OS" });
    expect(a.containerStatuses?.[0]?.state?.running).to.equal(undefined);
  });

  it('activeDeadlineSeconds: the running pod is killed and Failed with DeadlineExceeded', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'adm-deadline', { activeDeadlineSeconds: 8 }));
    await waitFor('adm-deadline running', async () => ((await getJson(env, ['-n', NS, 'get', 'pod', 'adm-deadline'])).status?.phase === 'Running' ? true : undefined), 120_000, 500);
    const s = await failedWith(env, 'adm-deadline');
    expect({ reason: s.reason, message: s.message }).to.deep.equal({ reason: 'DeadlineExceeded', message: 'Pod was active on the node longer than the specified deadline' });
    const elapsed = Date.now() - Date.parse(s.startTime);
    expect(elapsed).to.be.at.least(8000);
    await waitFor('its container stopped', async () => {
      const st = (await getJson(env, ['-n', NS, 'get', 'pod', 'adm-deadline'])).status;
      return st.containerStatuses?.[0]?.state?.terminated ? true : undefined;
    }, 60_000, 1000);
  });

  it('readinessGates: Ready stays False until the gate condition is True', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'adm-gate', { restartPolicy: 'Always', readinessGates: [{ conditionType: 'example.com/gate' }] }));
    const ready = async () => ((await getJson(env, ['-n', NS, 'get', 'pod', 'adm-gate'])).status?.conditions ?? []).find((c: { type: string }) => c.type === 'Ready');
    const before = await waitFor('Ready False for the gate', async () => {
      const r = await ready();
      return r?.reason === 'ReadinessGatesNotReady' ? r : undefined;
    }, 120_000, 1000);
    expect(before).to.include({ status: 'False', message: 'corresponding condition of pod readiness gate "example.com/gate" does not exist.' });
    await kubectl(env, ['-n', NS, 'patch', 'pod', 'adm-gate', '--subresource=status', '--type=strategic', '-p', JSON.stringify({ status: { conditions: [{ type: 'example.com/gate', status: 'True' }] } })]);
    await waitFor('Ready True once the gate is True', async () => ((await ready())?.status === 'True' ? true : undefined), 60_000, 1000);
    const conds = (await getJson(env, ['-n', NS, 'get', 'pod', 'adm-gate'])).status.conditions.map((c: { type: string; status: string }) => `${c.type}=${c.status}`);
    expect(conds).to.include('example.com/gate=True');
  });
});
