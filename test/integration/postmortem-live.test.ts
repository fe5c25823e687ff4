// The postmortem commands against a RUNNING agent on the testbed: the agent holds the LevelDB lock,
// so `--root-dir` must reach it through <root-dir>/ledgerlet.sock. A crash-looping pod gives it
// something to explain; after the agent stops, the same root dir is read directly.
import { execFile, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { expect } from 'chai';
import { runDiff } from '../../src/cli/commands/diff.ts';
import { runHistory } from '../../src/cli/commands/history.ts';
import { runReplay } from '../../src/cli/commands/replay.ts';
import { runWhy } from '../../src/cli/commands/why.ts';
import { openRootDir } from '../../src/postmortem/root-dir.ts';
import { LOCAL_API_SOCKET, type LogSource } from '../../src/postmortem/source.ts';
import { capture } from '../fixtures/incident-1/harness.ts';
import { testbedEnv, waitFor } from './helpers/agent.ts';

const run = promisify(execFile);
const REPO = resolve(import.meta.dirname, '../..');
const NS = `pm-live-${process.pid}`;

/** Polls until check returns a value; the bound only stops a hung test, it decides nothing. */
const until = <T>(what: string, check: () => Promise<T | undefined>, boundMs = 120_000) => waitFor(what, check, boundMs);

function removeRootDir(root: string): void {
  const mounts = readFileSync('/proc/mounts', 'utf8').split('\n').map((l) => l.split(' ')[1]).filter((m) => m?.startsWith(`${root}/`));
  for (const m of mounts.sort().reverse()) spawnSync('umount', ['-l', m]);
  rmSync(root, { recursive: true, force: true });
}

const pod = (env: Record<string, string>) => JSON.stringify({
  apiVersion: 'v1', kind: 'Pod',
  metadata: { name: 'crashy', namespace: NS },
  spec: {
    nodeName: env.TESTBED_NODE_NAME, automountServiceAccountToken: false, terminationGracePeriodSeconds: 2,
    containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', 'sleep 1; exit 3'] }],
  },
});

describe('postmortem against a running agent', function () {
  this.timeout(300_000);
  let env: Record<string, string>;
  let root: string;
  let agent: ChildProcess | undefined;
  let output = '';
  const kubectl = (args: string[], input?: string) => {
    const child = execFile(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', env.TESTBED_ADMIN_KUBECONFIG, ...args]);
    if (input !== undefined) child.stdin!.end(input);
    return new Promise<string>((res, rej) => {
      let out = '';
      let err = '';
      child.stdout!.on('data', (d) => (out += d));
      child.stderr!.on('data', (d) => (err += d));
      child.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`kubectl ${args.join(' ')}: ${err}`))));
    });
  };
  const stopAgent = async () => {
    if (!agent || agent.exitCode !== null) return;
    const exited = new Promise((r) => agent!.once('exit', r));
    agent.kill('SIGTERM');
    await exited;
  };

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    // One agent per node name: let another suite's agent finish first (best effort).
    await until('no other agent running as the testbed node', async () => {
      const r = await run('pgrep', ['-f', `ledgerlet.js run .*--hostname-override ${env.TESTBED_NODE_NAME}`]).catch(() => undefined);
      return r === undefined ? true : undefined;
    }, 600_000);
    root = mkdtempSync(join(tmpdir(), 'ledgerlet-pm-live-'));
    agent = spawn(process.execPath, [join(REPO, 'bin/ledgerlet.js'), 'run', '--root-dir', root, '--container-runtime-endpoint', env.TESTBED_CRI_ENDPOINT,
      '--kubeconfig', env.TESTBED_NODE_KUBECONFIG, '--hostname-override', env.TESTBED_NODE_NAME], { stdio: ['ignore', 'pipe', 'pipe'] });
    agent.stdout!.on('data', (d) => (output += d));
    agent.stderr!.on('data', (d) => (output += d));
    await until('the agent to serve its local endpoint', async () => (existsSync(join(root, LOCAL_API_SOCKET)) ? true : undefined), 60_000);
    await kubectl(['create', 'namespace', NS]);
    await kubectl(['apply', '-f', '-'], pod(env));
  });

  after(async () => {
    await kubectl(['delete', 'namespace', NS, '--wait=false']).catch(() => undefined);
    await stopAgent();
    if (root) removeRootDir(root);
  });

  let src: LogSource;
  it('reaches the running agent through --root-dir (the log is locked)', async () => {
    src = await openRootDir(root);
    expect(src.origin).to.equal(`agent at ${join(root, LOCAL_API_SOCKET)}`);
    expect((await src.bounds()).lastSeq).to.be.greaterThan(0);
  });

  // Another suite's agent may run as the same node at the same time and act on this pod too; the
  // assertions hold whichever agent restarts it, as long as this one decides something after an exit.
  const AFTER_EXIT = /#\d+ (restarted container app \(restart \d+\)|backed off restarting container app until \S+ \(back-off \d+s\)): it exited with code 3 \(Error\)[^\n]* ← #\d+/;

  it('why explains a restart or back-off of the crash-looping container from its exit', async () => {
    let seen = '';
    // A busy testbed (hundreds of sandboxes from other suites) makes the first relist slow.
    const text = await until('a decision about crashy/app after an exit', async () => {
      const c = capture();
      await runWhy(src, `${NS}/crashy`, { container: 'app' }, c.out);
      seen = c.text();
      return AFTER_EXIT.test(seen) ? seen : undefined;
    }, 240_000).catch((e: Error) => {
      throw new Error(`${e.message}\nwhy said:\n${seen}\nagent output (tail):\n${output.slice(-3000)}`);
    });
    expect(text).to.match(/#\d+ started container app \(attempt 0\): the pod sandbox is ready/);
    expect(text).to.match(/← #\d+ \d\d:\d\d:\d\d\.\d{3} observation ContainerStateChanged: runtime: container app \(attempt \d+\) exited with code 3/);
  });

  it('history, replay and diff answer from the running agent', async () => {
    const h = capture();
    await runHistory(src, { pod: `${NS}/crashy`, type: ['ContainerStarted'] }, h.out, h.out);
    expect(h.lines.filter((l) => / outcome ContainerStarted /.test(l)).length).to.be.at.least(1);
    const r = capture();
    await runReplay(src, { at: `#${(await src.bounds()).lastSeq}`, pod: `${NS}/crashy` }, r.out);
    expect(r.text()).to.match(new RegExp(`${NS}/crashy \\(uid [0-9a-f-]+, api\\)`));
    // The container has exited at least once by now (restarted, or waiting out a back-off).
    expect(r.text(), r.text()).to.match(/container app \[app\]: [^\n]*(restarts [1-9]|exit code 3|last exit 3)/);
    const d = capture();
    await runDiff(src, '#1', `#${(await src.bounds()).lastSeq}`, { pod: `${NS}/crashy` }, d.out);
    expect(d.lines.some((l) => l.startsWith(`+ ${NS}/crashy (uid `))).to.equal(true);
  });

  it('reads the same root dir directly once the agent has stopped', async () => {
    await kubectl(['-n', NS, 'delete', 'pod', 'crashy', '--wait=true', '--timeout=60s']);
    await stopAgent();
    expect(existsSync(join(root, LOCAL_API_SOCKET)), 'the socket is removed on stop').to.equal(false);
    const stopped = await openRootDir(root);
    try {
      expect(stopped.origin).to.equal(`log at ${join(root, 'log')}`);
      const c = capture();
      await runWhy(stopped, `${NS}/crashy`, {}, c.out);
      expect(c.text()).to.match(AFTER_EXIT);
      expect(c.text()).to.match(/deleted the pod object from the API server: its containers and sandbox are stopped/);
    } finally {
      await stopped.close();
    }
  });
});
