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

  it('container environment: envFrom (prefix, optional), service links and a hostNetwork pod IP reach the container', async () => {
    await kubectl(env, ['delete', 'configmap,secret,service', 'nc-envfrom', '--ignore-not-found']);
    await kubectl(env, ['create', 'configmap', 'nc-envfrom', '--from-literal=data-1=value-1', '--from-literal=data-2=value-2']);
    await kubectl(env, ['create', 'secret', 'generic', 'nc-envfrom', '--from-literal=data-3=value-3']);
    await kubectl(env, ['create', 'service', 'clusterip', 'nc-envfrom', '--tcp=8765:8080']);
    const svc = await getJson(env, ['get', 'service', 'nc-envfrom']);
    const k8s = await getJson(env, ['get', 'service', 'kubernetes', '-n', 'default']);
    const container = (extra: Record<string, unknown> = {}) => ({ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], ...extra });
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'nc-env', { containers: [container({
      envFrom: [{ configMapRef: { name: 'nc-envfrom' } }, { prefix: 'p-', configMapRef: { name: 'nc-envfrom' } }, { secretRef: { name: 'nc-envfrom' } }, { secretRef: { name: 'nc-absent', optional: true } }],
      env: [{ name: 'API', value: '$(KUBERNETES_SERVICE_HOST):$(KUBERNETES_SERVICE_PORT)' }],
    })] }));
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'nc-nolinks', { enableServiceLinks: false, containers: [container()] }));
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'nc-hostnet', { hostNetwork: true, containers: [container({ env: [
      { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
      { name: 'HOST_IP', valueFrom: { fieldRef: { fieldPath: 'status.hostIP' } } },
    ] })] }));
    const vars = envOf(await exec(cri, (await running(env, 'nc-env')).containerStatuses[0].containerID, ['env']));
    expect(vars).to.include({ 'data-1': 'value-1', 'data-2': 'value-2', 'p-data-1': 'value-1', 'p-data-2': 'value-2', 'data-3': 'value-3' });
    expect(vars).to.include({
      NC_ENVFROM_SERVICE_HOST: svc.spec.clusterIP, NC_ENVFROM_SERVICE_PORT: '8765', NC_ENVFROM_PORT: `tcp://${svc.spec.clusterIP}:8765`,
      KUBERNETES_SERVICE_HOST: k8s.spec.clusterIP, API: `${k8s.spec.clusterIP}:${k8s.spec.ports[0].port}`,
    });
    const nolinks = envOf(await exec(cri, (await running(env, 'nc-nolinks')).containerStatuses[0].containerID, ['env']));
    expect(nolinks).to.have.property('KUBERNETES_SERVICE_HOST', k8s.spec.clusterIP);
    expect(nolinks).to.not.have.property('NC_ENVFROM_SERVICE_HOST');
    const hst = await running(env, 'nc-hostnet');
    expect(hst.podIP).to.equal(hst.hostIP);
    expect(hst.podIPs).to.deep.equal([{ ip: hst.hostIP }]);
    const hostVars = envOf(await exec(cri, hst.containerStatuses[0].containerID, ['env']));
    expect(hostVars).to.include({ POD_IP: hst.hostIP, HOST_IP: hst.hostIP });
    await kubectl(env, ['delete', 'configmap,secret,service', 'nc-envfrom', '--ignore-not-found']);
  });

  it('termination messages: from a custom path as a non-root user, from the log on error, with secret values scrubbed', async () => {
    await kubectl(env, ['delete', 'secret', 'nc-term', '--ignore-not-found']);
    await kubectl(env, ['create', 'secret', 'generic', 'nc-term', '--from-literal=password=term-s3cret-value-42']);
    const box = env.TESTBED_IMAGE_BUSYBOX;
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'nc-term', { restartPolicy: 'Never', containers: [
      { name: 'custom', image: box, command: ['sh', '-c', 'echo -n DONE > /dev/termination-custom-log'], terminationMessagePath: '/dev/termination-custom-log', securityContext: { runAsUser: 1000 } },
      { name: 'fromlog', image: box, command: ['sh', '-c', 'echo -n DONE; exit 1'], terminationMessagePolicy: 'FallbackToLogsOnError' },
      { name: 'quiet', image: box, command: ['sh', '-c', 'echo -n not-a-message; exit 0'], terminationMessagePolicy: 'FallbackToLogsOnError' },
      { name: 'leaky', image: box, command: ['sh', '-c', 'echo -n "pw=$PASSWORD" > /dev/termination-log'], env: [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'nc-term', key: 'password' } } }] },
    ] }));
    const st = await waitFor('nc-term finished', async () => {
      const s = await podStatus(env, 'nc-term');
      return s?.containerStatuses?.length === 4 && s.containerStatuses.every((c: any) => c.state.terminated) ? s : undefined;
    }, 120_000);
    const term = (n: string) => st.containerStatuses.find((c: any) => c.name === n).state.terminated;
    expect(term('custom')).to.include({ exitCode: 0, message: 'DONE' });
    expect(term('fromlog')).to.include({ exitCode: 1, message: 'DONE' });
    expect(term('quiet')).to.not.have.property('message');
    expect(term('leaky').message).to.equal('pw=[redacted]');
    const pod = await getJson(env, ['get', 'pod', 'nc-term']);
    expect(JSON.stringify(pod)).to.not.include('term-s3cret-value-42');
    await kubectl(env, ['delete', 'secret', 'nc-term', '--ignore-not-found']);
  });

  it('init containers: a completed one is ready, app containers wait as PodInitializing while another fails', async () => {
    const box = env.TESTBED_IMAGE_BUSYBOX;
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'nc-init', {
      initContainers: [{ name: 'init-ok', image: box, command: ['true'] }, { name: 'init-fail', image: box, command: ['false'] }],
      containers: [{ name: 'app', image: box, command: ['sleep', '3600'] }],
    }));
    const st = await waitFor('init-fail failed', async () => {
      const s = await podStatus(env, 'nc-init');
      const f = s?.initContainerStatuses?.find((c: any) => c.name === 'init-fail');
      return f && (f.restartCount > 0 || f.state.terminated || f.lastState?.terminated) ? s : undefined;
    }, 120_000);
    expect(st.initContainerStatuses[0]).to.include({ name: 'init-ok', ready: true });
    expect(st.initContainerStatuses[0].state.terminated.exitCode).to.equal(0);
    expect(st.initContainerStatuses[1]).to.include({ name: 'init-fail', ready: false });
    expect(st.containerStatuses[0].state.waiting.reason).to.equal('PodInitializing');
    expect(st.phase).to.equal('Pending');
    expect(st.conditions.find((c: any) => c.type === 'Initialized').status).to.equal('False');
  });
});
