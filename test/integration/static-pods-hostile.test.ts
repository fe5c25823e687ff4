// Hostile static pod manifests against the real agent and containerd: a path-traversal uid and
// name, deep nesting, a huge file and duplicate container names sit next to a valid manifest.
// The valid pod runs; each bad file is one ManifestRejected entry in the log, not one per rescan;
// nothing is created outside the agent's directories; a fixed manifest's pod then runs too.
import { expect } from 'chai';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Level } from 'level';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { criClient, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

describe('hostile static pod manifests (ledgerlet run + containerd)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let dir: string;
  const pwned = join(tmpdir(), `ledgerlet-pwned-${process.pid}`);

  before(async () => {
    env = await testbedEnv();
    cri = criClient(env);
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-static-hostile-'));
  });
  after(async () => {
    rmSync(dir, { recursive: true, force: true });
    // the agent stops the static pods once their manifests are gone
    if (agent) {
      await waitFor('static pods stopped', async () => ((await running('good')).length + (await running('dup')).length === 0 ? true : undefined)).catch(() => undefined);
      await agent.stop();
    }
    cri?.close();
  });

  const pod = (name: string, extraMeta = '', containers = `  - name: main\n    image: ${'@IMAGE@'}\n    command: ["sleep", "3600"]\n`) =>
    `apiVersion: v1\nkind: Pod\nmetadata:\n  name: ${name}\n${extraMeta}spec:\n  terminationGracePeriodSeconds: 1\n  containers:\n${containers}`.replaceAll('@IMAGE@', env.TESTBED_IMAGE_BUSYBOX);
  const running = async (name: string) => (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.name': `${name}-${env.TESTBED_NODE_NAME}` } })).filter((c) => c.state === 'CONTAINER_RUNNING');

  it('runs the valid pod, rejects each hostile file once, and recovers a fixed one', async () => {
    const dupContainers = `  - {name: main, image: "${env.TESTBED_IMAGE_BUSYBOX}", command: ["sleep", "3600"]}\n  - {name: main, image: "${env.TESTBED_IMAGE_BUSYBOX}", command: ["sleep", "3600"]}\n`;
    writeFileSync(join(dir, 'uid.yaml'), pod('uid', `  uid: ../../../..${pwned}\n`));
    writeFileSync(join(dir, 'name.yaml'), pod(`../../../..${pwned}`));
    writeFileSync(join(dir, 'deep.yaml'), `${pod('deep')}  x: ${'['.repeat(100_000)}${']'.repeat(100_000)}\n`);
    writeFileSync(join(dir, 'huge.yaml'), Buffer.alloc(5 * 1024 * 1024, 0x61));
    writeFileSync(join(dir, 'dup.yaml'), pod('dup', '', dupContainers));
    writeFileSync(join(dir, 'good.yaml'), pod('good'));
    agent = await startAgent(env, { extraArgs: ['--pod-manifest-path', dir] });
    await waitFor('the valid static pod running', async () => ((await running('good')).length === 1 ? true : undefined), 120_000);
    // past one periodic rescan (fileCheckFrequency 20 s): the rejections must not be logged again
    await new Promise((r) => setTimeout(r, 25_000));
    writeFileSync(join(dir, 'dup.yaml'), pod('dup'));
    await waitFor('the fixed static pod running', async () => ((await running('dup')).length === 1 ? true : undefined), 120_000);
    expect((await running('good')).length).to.equal(1);
    expect(existsSync(pwned), `${pwned} was created`).to.equal(false);
    const out = agent.output();
    await agent.stop();

    const db = new Level<string, string>(join(agent.rootDir, 'log'), { valueEncoding: 'utf8' });
    const rejected: Record<string, string[][]> = {};
    try {
      for await (const v of db.sublevel<string, string>('log', { valueEncoding: 'utf8' }).values()) {
        const e = JSON.parse(v);
        if (e.type !== 'ManifestRejected') continue;
        const f = String(e.data.file).slice(dir.length + 1);
        (rejected[f] ??= []).push(e.data.problems);
      }
    } finally {
      await db.close();
    }
    expect(Object.keys(rejected).sort(), out.slice(-3000)).to.deep.equal(['deep.yaml', 'dup.yaml', 'huge.yaml', 'name.yaml', 'uid.yaml']);
    for (const [f, times] of Object.entries(rejected)) expect(times, `${f} rejected once`).to.have.length(1);
    expect(rejected['uid.yaml'][0][0]).to.match(/^metadata\.uid: Invalid value: "\.\.\/\.\.\/\.\.\/\.\.\//);
    expect(rejected['name.yaml'][0][0]).to.match(/^metadata\.name: Invalid value: "\.\.\/\.\.\/\.\.\/\.\.\//);
    expect(rejected['deep.yaml'][0]).to.deep.equal(['manifest nests objects or lists more than 100 levels deep']);
    expect(rejected['huge.yaml'][0][0]).to.match(/^manifest is 5242880 bytes; the limit is/);
    expect(rejected['dup.yaml'][0]).to.deep.equal(['spec.containers[1].name: Duplicate value: "main"']);
    // a restarted agent goes on with the same pods (and a first scan reports the rejections again: a new process)
    agent = await startAgent(env, { rootDir: agent.rootDir, extraArgs: ['--pod-manifest-path', dir] });
    for (const f of ['uid.yaml', 'name.yaml', 'deep.yaml', 'huge.yaml']) rmSync(join(dir, f));
    rmSync(join(dir, 'good.yaml'));
    rmSync(join(dir, 'dup.yaml'));
  });
});
