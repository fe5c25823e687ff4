// Behaviour the upstream NodeConformance specs check (issue #14), end to end on the testbed:
// downward API resources with the API server's default divisor and node allocatable defaults.
import { expect } from 'chai';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';

const LABEL = 'ledgerlet-test=node-conformance';

function podJson(env: TestbedEnv, name: string, spec: Record<string, unknown>, namespace = 'default'): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace, labels: { 'ledgerlet-test': 'node-conformance' } }, spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, ...spec } });
}

async function podStatus(env: TestbedEnv, name: string, namespace = 'default'): Promise<any> {
  return (await getJson(env, ['get', 'pod', name, '-n', namespace])).status;
}

async function running(env: TestbedEnv, name: string, namespace = 'default'): Promise<any> {
  return waitFor(`${name} Running`, async () => {
    const s = await podStatus(env, name, namespace);
    return s?.phase === 'Running' ? s : undefined;
  }, 120_000);
}

async function exec(cri: CriClient, containerID: string, cmd: string[]): Promise<string> {
  const r = await cri.execSync(containerID.replace('containerd://', ''), cmd, 20);
  return Buffer.from(r.stdout).toString('utf8');
}

function envOf(text: string): Record<string, string> {
  return Object.fromEntries(text.trim().split('\n').map((l) => [l.slice(0, l.indexOf('=')), l.slice(l.indexOf('=') + 1)]));
}

describe('node conformance behaviour on the testbed (issue #14)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent;
  let cri: CriClient;
  let node: any;

  before(async () => {
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    agent = await startAgent(env);
    node = await waitFor('node registered', async () => getJson(env, ['get', 'node', env.TESTBED_NODE_NAME]).catch(() => undefined));
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    cri?.close();
  });

  it('downward API: the default divisor reads as 1 and unset limits as node allocatable, in env and volume files', async () => {
    const items = (c: string) => [
      { path: 'cpu_limit', resourceFieldRef: { containerName: c, resource: 'limits.cpu' } },
      { path: 'memory_limit', resourceFieldRef: { containerName: c, resource: 'limits.memory' } },
      { path: 'memory_request', resourceFieldRef: { containerName: c, resource: 'requests.memory' } },
    ];
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'dapi-res', {
      containers: [
        { name: 'bare', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], env: [
          { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
          { name: 'STORAGE_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.ephemeral-storage' } } },
          { name: 'CPU_REQUEST', valueFrom: { resourceFieldRef: { resource: 'requests.cpu' } } },
        ], volumeMounts: [{ name: 'podinfo', mountPath: '/etc/podinfo' }, { name: 'proj', mountPath: '/etc/proj' }] },
        { name: 'limited', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], resources: { limits: { cpu: '1250m', memory: '64Mi' }, requests: { cpu: '250m', memory: '32Mi' } }, env: [
          { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu' } } },
          { name: 'CPU_REQUEST_M', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '1m' } } },
          { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory' } } },
        ] },
      ],
      volumes: [
        { name: 'podinfo', downwardAPI: { items: items('bare') } },
        { name: 'proj', projected: { sources: [{ downwardAPI: { items: items('limited') } }] } },
      ],
    }));
    const st = await running(env, 'dapi-res');
    // The API server stored divisor "0" for every item left without one.
    const spec = (await getJson(env, ['get', 'pod', 'dapi-res'])).spec;
    expect(spec.containers[0].env[0].valueFrom.resourceFieldRef.divisor).to.equal('0');
    const alloc = node.status.allocatable;
    const bytes = (q: string) => String(Number(/^\d+/.exec(q)![0]) * ({ '': 1, Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3 } as Record<string, number>)[/[A-Za-z]*$/.exec(q)![0]]);
    const bare = st.containerStatuses.find((c: any) => c.name === 'bare').containerID;
    const limited = st.containerStatuses.find((c: any) => c.name === 'limited').containerID;
    expect(envOf(await exec(cri, bare, ['env']))).to.include({ CPU_LIMIT: alloc.cpu, MEMORY_LIMIT: bytes(alloc.memory), STORAGE_LIMIT: bytes(alloc['ephemeral-storage']), CPU_REQUEST: '0' });
    expect(envOf(await exec(cri, limited, ['env']))).to.include({ CPU_LIMIT: '2', CPU_REQUEST_M: '250', MEMORY_LIMIT: String(64 * 1024 ** 2) });
    const files = async (dir: string) => (await exec(cri, bare, ['sh', '-c', `for f in cpu_limit memory_limit memory_request; do cat ${dir}/$f; echo; done`])).trim().split('\n');
    expect(await files('/etc/podinfo')).to.deep.equal([alloc.cpu, bytes(alloc.memory), '0']);
    expect(await files('/etc/proj')).to.deep.equal(['2', String(64 * 1024 ** 2), String(32 * 1024 ** 2)]);
  });
});
