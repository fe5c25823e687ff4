// Container log rotation on the testbed: a chatty container's log is rotated through CRI
// ReopenContainerLog at containerLogMaxSize, older files are gzip-compressed, at most
// containerLogMaxFiles remain, nothing in between is lost, and `kubectl logs` keeps working.
import { expect } from 'chai';
import { spawn } from 'node:child_process';
import { mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { gunzipSync } from 'node:zlib';
import { getJson, kubectl, kubeletApiArgs, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const LABEL = 'ledgerlet-test=log-rotation';
const lineNumbers = (text: string) => [...text.matchAll(/ F line (\d+) /g)].map((m) => Number(m[1]));

describe('container log rotation on the testbed', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let dir: string;

  before(async () => {
    env = await testbedEnv();
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-rotation-'));
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    const config = join(dir, 'config.yaml');
    writeFileSync(config, 'containerLogMaxSize: 64Ki\ncontainerLogMaxFiles: 3\ncontainerLogMonitorInterval: 1s\n');
    agent = await startAgent(env, { extraArgs: ['--config', config, '--container-runtime-endpoint', env.TESTBED_CRI_ENDPOINT,
      // kubectl logs goes through the API server, which dials the node's address (testbed serving certificate).
      ...kubeletApiArgs(env)] });
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    rmSync(dir, { recursive: true, force: true });
  });

  it('rotates, compresses, keeps maxFiles, loses no line, and kubectl logs follows the live file', async () => {
    const pad = 'x'.repeat(200);
    const pod = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'chatty', namespace: 'default', labels: { 'ledgerlet-test': 'log-rotation' } },
      spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1,
        containers: [{ name: 'chatty', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', `i=0; while true; do echo "line $i ${pad}"; i=$((i+1)); sleep 0.005; done`] }] } };
    await kubectl(env, ['apply', '-f', '-'], JSON.stringify(pod));
    const uid = await waitFor('chatty Running', async () => {
      const p = await getJson(env, ['get', 'pod', 'chatty']);
      return p.status?.phase === 'Running' ? (p.metadata.uid as string) : undefined;
    });
    const logDir = `/var/log/pods/default_chatty_${uid}/chatty`;
    // A follower from before the first rotation: it must see every line, across rotations.
    const follower = spawn(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', env.TESTBED_ADMIN_KUBECONFIG, 'logs', '-f', 'chatty'], { stdio: ['ignore', 'pipe', 'pipe'] });
    let followed = '';
    follower.stdout.on('data', (d) => (followed += d));
    const files = await waitFor('a compressed rotated log', async () => {
      const names = readdirSync(logDir).sort();
      // Between the rename and ReopenContainerLog there is a moment without 0.log (as upstream): list again.
      return names.some((n) => n.endsWith('.gz')) && names.includes('0.log') ? names : undefined;
    }, 120_000, 500);
    expect(files.length).to.be.at.most(3);
    expect(files).to.include('0.log');
    for (const n of files.filter((n) => n !== '0.log')) expect(n).to.match(/^0\.log\.\d{8}-\d{6}(\.gz)?$/);

    // Read the oldest first: compressed, then the plain rotated one, then the live file.
    const rotated = files.filter((n) => n !== '0.log');
    const texts = rotated.map((n) => (n.endsWith('.gz') ? gunzipSync(readFileSync(join(logDir, n))).toString() : readFileSync(join(logDir, n), 'utf8')));
    texts.push(readFileSync(join(logDir, '0.log'), 'utf8'));
    const numbers = texts.flatMap(lineNumbers);
    expect(numbers.length).to.be.above(300);
    // Consecutive across every file boundary: rotation through ReopenContainerLog drops nothing.
    for (let i = 1; i < numbers.length; i++) expect(numbers[i], `after line ${numbers[i - 1]}`).to.equal(numbers[i - 1] + 1);

    // Two more rotations with the follower attached, then its output must be gapless.
    const rotationsSeen = (await waitFor('two more rotations', async () => {
      const now = readdirSync(logDir).filter((n) => n !== '0.log').sort();
      return now.length > 0 && now[now.length - 1] > rotated[rotated.length - 1] ? now : undefined;
    }, 120_000, 500));
    expect(rotationsSeen.length).to.be.at.most(2);
    await new Promise((r) => setTimeout(r, 3000));
    follower.kill();
    const seen = lineNumbers(followed.split('\n').map((l) => ` F ${l}`).join('\n'));
    expect(seen.length).to.be.above(300);
    for (let i = 1; i < seen.length; i++) expect(seen[i], `kubectl logs -f after line ${seen[i - 1]}`).to.equal(seen[i - 1] + 1);

    const tail = await kubectl(env, ['logs', 'chatty', '--tail=1']).catch((e: Error) => {
      throw new Error(`${e.message}\nagent's kubelet API lines:\n${agent!.output().split('\n').filter((l) => /kubelet API/.test(l)).join('\n')}`);
    });
    const shown = lineNumbers(` F ${tail}`)[0];
    expect(shown).to.be.at.least(numbers[numbers.length - 1]);
    expect(agent!.output()).to.not.contain('ContainerLogRotationFailed');
  });
});
