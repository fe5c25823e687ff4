// Privileged containers, no_new_privs and runAsNonRoot against the real agent, containerd and API
// server (issue #14 causes 10 and 11).
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { parseCriLogLine } from '../../src/adapters/fs/cri-log.ts';
import { getJson, kubectl, startWithCleanPods, stopAfterDeletingPods, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const NS = 'default';
const LABEL = 'ledgerlet-test=security-context';

function pod(env: TestbedEnv, name: string, spec: Record<string, unknown>, containers: Record<string, unknown>[]): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { 'ledgerlet-test': 'security-context' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, ...spec, containers: containers.map((c) => ({ image: env.TESTBED_IMAGE_BUSYBOX, ...c })) },
  });
}

/** A container's output, from its CRI log file (the testbed's API server does not trust the agent's serving certificate). */
async function output(env: TestbedEnv, name: string, container: string, until: string): Promise<string> {
  return waitFor(`${name}/${container} printed ${until}`, async () => {
    const p = await getJson(env, ['-n', NS, 'get', 'pod', name]);
    const file = `/var/log/pods/${NS}_${name}_${p.metadata.uid}/${container}/0.log`;
    if (!existsSync(file)) return undefined;
    const out = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => parseCriLogLine(l)?.message ?? '').join('\n');
    return out.includes(until) ? out : undefined;
  }, 120_000, 1000);
}

describe('security context (ledgerlet run + containerd)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;

  before(async () => ({ env, agent } = await startWithCleanPods(NS, LABEL)));
  after(() => stopAfterDeletingPods(env, agent, NS, LABEL));

  it('privileged init and app containers run (the sandbox is marked privileged) with CAP_SYS_ADMIN', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'sc-privileged', { initContainers: [{ name: 'init', image: env.TESTBED_IMAGE_BUSYBOX, command: ['true'], securityContext: { privileged: true } }] }, [
      { name: 'main', command: ['sh', '-c', 'grep CapEff /proc/self/status; echo DONE; sleep 3600'], securityContext: { privileged: true } },
    ]));
    const out = await output(env, 'sc-privileged', 'main', 'DONE');
    // CAP_SYS_ADMIN (bit 21), which the runtime's default set lacks (this testbed's own process has no CAP_SYS_RESOURCE to hand on).
    const capEff = BigInt(`0x${/CapEff:\s+([0-9a-f]+)/.exec(out)![1]}`);
    expect(capEff & (1n << 21n), out).to.not.equal(0n);
    const p = await getJson(env, ['-n', NS, 'get', 'pod', 'sc-privileged']);
    expect(p.status.phase).to.equal('Running');
  });

  it('allowPrivilegeEscalation: false sets no_new_privs; unset leaves it off', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'sc-nnp', {}, [
      { name: 'nnp', command: ['sh', '-c', 'grep NoNewPrivs /proc/self/status; echo DONE; sleep 3600'], securityContext: { allowPrivilegeEscalation: false } },
      { name: 'plain', command: ['sh', '-c', 'grep NoNewPrivs /proc/self/status; echo DONE; sleep 3600'] },
    ]));
    expect(await output(env, 'sc-nnp', 'nnp', 'DONE')).to.match(/NoNewPrivs:\s+1/);
    expect(await output(env, 'sc-nnp', 'plain', 'DONE')).to.match(/NoNewPrivs:\s+0/);
  });

  it('runAsNonRoot: a root image is refused with CreateContainerConfigError and upstream message; a non-root user runs', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'sc-nonroot-bad', { securityContext: { runAsNonRoot: true } }, [{ name: 'main', command: ['sleep', '3600'] }]));
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'sc-nonroot-ok', { securityContext: { runAsNonRoot: true, runAsUser: 1000 } }, [{ name: 'main', command: ['sh', '-c', 'echo UID=$(id -u); sleep 3600'] }]));
    const uid = (await getJson(env, ['-n', NS, 'get', 'pod', 'sc-nonroot-bad'])).metadata.uid;
    const waiting = await waitFor('the root container refused', async () => {
      const w = (await getJson(env, ['-n', NS, 'get', 'pod', 'sc-nonroot-bad'])).status?.containerStatuses?.[0]?.state?.waiting;
      return w?.reason === 'CreateContainerConfigError' ? w : undefined;
    }, 120_000, 1000);
    expect(waiting.message).to.equal(`container has runAsNonRoot and image will run as root (pod: "sc-nonroot-bad_${NS}(${uid})", container: main)`);
    expect(await output(env, 'sc-nonroot-ok', 'main', 'UID=')).to.contain('UID=1000');
    // Never created: nothing of it on the runtime.
    const events = await kubectl(env, ['-n', NS, 'get', 'events', '--field-selector', 'involvedObject.name=sc-nonroot-bad', '-o', 'jsonpath={.items[*].message}']);
    expect(events).to.contain('Error: container has runAsNonRoot and image will run as root');
  });
});
