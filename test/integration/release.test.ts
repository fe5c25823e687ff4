// The release as an operator gets it: `scripts/release` builds the tarball, which is installed
// offline into an empty directory and run from there with plain `node` (no tsx, no Go, no dev
// dependencies, no checkout) as the testbed's node, until a pod runs.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const LABEL = 'ledgerlet-test=release';

describe('the release tarball (scripts/release)', function () {
  this.timeout(900_000);
  let env: TestbedEnv;
  let work: string;
  let installed: string;
  let agent: RunningAgent | undefined;

  before(async () => {
    env = await testbedEnv();
    work = mkdtempSync(join(tmpdir(), 'ledgerlet-release-'));
    await run('bash', [join(repo, 'scripts/release'), join(work, 'out')], { cwd: repo, maxBuffer: 64 << 20 });
    const tarballs = readdirSync(join(work, 'out')).filter((f) => f.endsWith('.tgz'));
    expect(tarballs).to.have.length(1);
    const prefix = join(work, 'node');
    // --offline: every runtime dependency must come from inside the tarball.
    await run('npm', ['install', '--offline', '--no-audit', '--no-fund', '--prefix', prefix, join(work, 'out', tarballs[0])], { cwd: work, maxBuffer: 64 << 20 });
    installed = join(prefix, 'node_modules/ledgerlet');
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    if (work) rmSync(work, { recursive: true, force: true });
  });

  it('holds JavaScript, the protos and the runtime dependencies, and nothing of the checkout or the dev tools', () => {
    expect(existsSync(join(installed, 'dist/cli/main.js'))).to.equal(true);
    expect(existsSync(join(installed, 'gen/proto/cri/api.proto'))).to.equal(true);
    expect(existsSync(join(installed, 'gen/proto/csi/csi.proto'))).to.equal(true);
    expect(existsSync(join(installed, 'src')), 'TypeScript sources').to.equal(false);
    for (const dev of ['tsx', 'typescript', 'mocha', 'esbuild']) {
      expect(existsSync(join(installed, 'node_modules', dev)), dev).to.equal(false);
      expect(existsSync(join(installed, '..', dev)), dev).to.equal(false);
    }
  });

  it('prints its version and the Kubernetes release it targets', async () => {
    const { stdout } = await run(process.execPath, [join(installed, 'bin/ledgerlet.js'), '--version'], { cwd: tmpdir() });
    expect(stdout.trim()).to.match(/^ledgerlet \d+\.\d+\.\d+ \(Kubernetes v1\.\d+\.\d+\)$/);
  });

  it('ships the kubectl plugin, which runs from the package', async () => {
    const { stdout } = await run(process.execPath, [join(installed, 'bin/kubectl-ledgerlet.js'), '--help'], { cwd: tmpdir() });
    for (const cmd of ['why', 'history', 'replay', 'diff', 'export']) expect(stdout).to.match(new RegExp(`^  ${cmd} `, 'm'));
  });

  it('runs as the node from the installed package: the node goes Ready and a pod runs', async () => {
    agent = await startAgent(env, { bin: join(installed, 'bin/ledgerlet.js') });
    await waitFor('the node Ready', async () => {
      const node = await getJson(env, ['get', 'node', env.TESTBED_NODE_NAME]);
      return node.status?.conditions?.find((c: { type: string; status: string }) => c.type === 'Ready' && c.status === 'True') ? true : undefined;
    });
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'release-web', namespace: 'default', labels: { 'ledgerlet-test': 'release' } },
      spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, containers: [{ name: 'web', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'] }] } };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify(pod));
    const status = await waitFor('the pod Running', async () => {
      const s = (await getJson(env, ['get', 'pod', 'release-web'])).status;
      return s?.phase === 'Running' ? s : undefined;
    });
    expect(status.containerStatuses[0]).to.include({ name: 'web', ready: true });
    expect(agent.output()).to.not.match(/tsx|Cannot find module|ERR_MODULE_NOT_FOUND/);
  });
});
