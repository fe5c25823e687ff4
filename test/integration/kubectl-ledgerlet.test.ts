// The node log's read side from anywhere kubectl works: `kubectl ledgerlet` (the plugin found on
// the PATH by the real kubectl) and `kubectl get --raw .../proxy/ledger/...` go through the
// testbed's API server to the agent's kubelet API, as RBAC-limited service accounts: one allowed
// nodes/proxy (same answer as the local CLI), one without it (403). A deleted pod is still
// explained: its node is found from its events.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { kubectl, kubeletApiArgs, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const REPO = resolve(import.meta.dirname, '../..');
const NS = `ledger-${process.pid}`;
const POD = 'explained';

interface Ran { code: number | null; out: string; err: string }

function run(cmd: string, args: string[], env: NodeJS.ProcessEnv = process.env): Promise<Ran> {
  return new Promise((res) => {
    const child = execFile(cmd, args, { env, maxBuffer: 64 << 20 });
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (err += d));
    child.on('close', (code) => res({ code, out, err }));
  });
}

describe('kubectl ledgerlet and /ledger through the API server (nodes/proxy)', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent;
  let dir: string;
  let reader: string;
  let outsider: string;
  let pathEnv: NodeJS.ProcessEnv;

  const localWhy = () => run('node', [join(REPO, 'bin/ledgerlet.js'), 'why', `${NS}/${POD}`, '--socket', join(agent.rootDir, 'ledgerlet.sock')]);
  const plugin = (kubeconfig: string, args: string[]) => run(join(env.TESTBED_BIN, 'kubectl'), ['ledgerlet', ...args, '--kubeconfig', kubeconfig], pathEnv); // kubectl hands every argument after the plugin's name to it

  async function tokenKubeconfig(sa: string): Promise<string> {
    const token = (await kubectl(env, ['-n', NS, 'create', 'token', sa, '--duration=1h'])).trim();
    const file = join(dir, `${sa}.kubeconfig`);
    writeFileSync(file, JSON.stringify({
      apiVersion: 'v1', kind: 'Config', 'current-context': 'c',
      clusters: [{ name: 'c', cluster: { server: env.TESTBED_APISERVER, 'certificate-authority': env.TESTBED_CA_CERT } }],
      users: [{ name: sa, user: { token } }],
      contexts: [{ name: 'c', context: { cluster: 'c', user: sa, namespace: NS } }],
    }), { mode: 0o600 });
    return file;
  }

  before(async () => {
    env = await testbedEnv();
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-kubectl-plugin-'));
    // kubectl finds plugins as executables named kubectl-<name> on the PATH.
    symlinkSync(join(REPO, 'bin/kubectl-ledgerlet.js'), join(dir, 'kubectl-ledgerlet'));
    pathEnv = { ...process.env, PATH: `${dir}:${process.env.PATH}` };
    await kubectl(env, ['create', 'namespace', NS]);
    const rbac = [
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'reader', namespace: NS } },
      { apiVersion: 'v1', kind: 'ServiceAccount', metadata: { name: 'outsider', namespace: NS } },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRole', metadata: { name: `${NS}-nodes-proxy` }, rules: [{ apiGroups: [''], resources: ['nodes/proxy'], verbs: ['get'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'ClusterRoleBinding', metadata: { name: `${NS}-nodes-proxy` }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'ClusterRole', name: `${NS}-nodes-proxy` }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NS }] },
      // Both may read pods and events in the namespace (the plugin finds the node from them).
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'Role', metadata: { name: 'pods-events', namespace: NS }, rules: [{ apiGroups: [''], resources: ['pods', 'events'], verbs: ['get', 'list'] }] },
      { apiVersion: 'rbac.authorization.k8s.io/v1', kind: 'RoleBinding', metadata: { name: 'pods-events', namespace: NS }, roleRef: { apiGroup: 'rbac.authorization.k8s.io', kind: 'Role', name: 'pods-events' }, subjects: [{ kind: 'ServiceAccount', name: 'reader', namespace: NS }, { kind: 'ServiceAccount', name: 'outsider', namespace: NS }] },
    ];
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({ apiVersion: 'v1', kind: 'List', items: rbac }));
    reader = await tokenKubeconfig('reader');
    outsider = await tokenKubeconfig('outsider');
    agent = await startAgent(env, { extraArgs: kubeletApiArgs(env) });
    // Restarts once (exit 1, then sleeps): decisions worth explaining.
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify({
      apiVersion: 'v1', kind: 'Pod', metadata: { name: POD, namespace: NS },
      spec: {
        nodeName: env.TESTBED_NODE_NAME, automountServiceAccountToken: false, terminationGracePeriodSeconds: 1,
        volumes: [{ name: 'state', emptyDir: {} }],
        containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', '[ -f /state/ran ] || { touch /state/ran; exit 1; }; exec sleep 3600'], volumeMounts: [{ name: 'state', mountPath: '/state' }] }],
      },
    }));
    await waitFor('the pod restarted once and runs', async () => {
      const s = JSON.parse(await kubectl(env, ['-n', NS, 'get', 'pod', POD, '-o', 'json'])).status;
      const c = s?.containerStatuses?.[0];
      return c?.restartCount >= 1 && c?.state?.running ? true : undefined;
    }, 180_000);
  });

  after(async () => {
    await agent?.stop();
    await kubectl(env, ['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
    await kubectl(env, ['delete', 'clusterrole,clusterrolebinding', `${NS}-nodes-proxy`, '--ignore-not-found']).catch(() => undefined);
    rmSync(dir, { recursive: true, force: true });
  });

  it('`kubectl ledgerlet why pod/NAME` as a user with nodes/proxy prints what the local `ledgerlet why` prints', async () => {
    const before = await localWhy();
    const remote = await plugin(reader, ['why', `pod/${POD}`, '-n', NS]);
    const after = await localWhy();
    expect(remote.err).to.equal('');
    expect(remote.code).to.equal(0);
    expect(before.code).to.equal(0);
    expect(remote.out).to.match(new RegExp(`^${NS}/${POD} \\(uid `));
    expect(remote.out).to.match(/ContainerStartRequested|started|restart/i);
    expect([before.out, after.out]).to.include(remote.out);
  });

  it('the same user reads the rendered answer and a page of entries with `kubectl get --raw`', async () => {
    const raw = await run(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', reader, 'get', '--raw', `/api/v1/nodes/${env.TESTBED_NODE_NAME}/proxy/ledger/why/${NS}/${POD}`]);
    expect(raw.code, raw.err).to.equal(0);
    expect(raw.out).to.match(new RegExp(`^${NS}/${POD} \\(uid `));
    const page = await run(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', reader, 'get', '--raw', `/api/v1/nodes/${env.TESTBED_NODE_NAME}/proxy/ledger/export?format=jsonl&limit=5`]);
    expect(page.code, page.err).to.equal(0);
    const lines = page.out.trim().split('\n').map((l) => JSON.parse(l) as { seq?: number; next?: number });
    expect(lines).to.have.length(6);
    expect(lines.slice(0, 5).map((e) => e.seq)).to.deep.equal([1, 2, 3, 4, 5]);
    expect(lines[5]).to.deep.equal({ next: 6 });
  });

  it('a user without nodes/proxy is refused (403) and gets no answer', async () => {
    const r = await plugin(outsider, ['why', `pod/${POD}`, '-n', NS]);
    expect(r.code).to.equal(1);
    expect(r.out).to.equal('');
    expect(r.err).to.match(/\(403\).*forbidden.*nodes\/proxy/i);
  });

  it('an unknown pod gets the node\'s answer (404 with the pods it knows) and exit code 1', async () => {
    const r = await plugin(reader, ['why', 'pod/never-was', '-n', NS, '--node', env.TESTBED_NODE_NAME]);
    expect(r.code).to.equal(1);
    expect(r.err).to.match(new RegExp(`\\(404\\): no pod ${NS}/never-was in the retained log`));
  });

  it('a deleted pod is still explained: its node comes from its events, the answer ends with its kill', async () => {
    await kubectl(env, ['-n', NS, 'delete', 'pod', POD, '--grace-period=1', '--wait=true']);
    const r = await waitFor('the pod\'s teardown is in the log', async () => {
      const x = await plugin(reader, ['why', `pod/${POD}`, '-n', NS]);
      return x.code === 0 && /ContainerKillRequested|kill/i.test(x.out) ? x : undefined;
    }, 60_000);
    expect(r.err).to.equal('');
    expect(r.out).to.equal((await localWhy()).out);
  });
});
