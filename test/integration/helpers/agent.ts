// Runs the real agent (`ledgerlet run`) as a child process against the testbed, and gives tests
// kubectl and the CRI client to look at what it did.
import { execFile, spawn, type ChildProcess } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { CriClient } from '../../../src/adapters/cri/index.ts';
import { parseEnvExports } from '../../helpers/testbed.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../../..');

export type TestbedEnv = Record<string, string>;

let cachedEnv: TestbedEnv | undefined;
/** The TESTBED_* settings: from the environment, else from `scripts/testbed env`. */
export async function testbedEnv(): Promise<TestbedEnv> {
  if (cachedEnv) return cachedEnv;
  if (process.env.TESTBED_CRI_ENDPOINT && process.env.TESTBED_ADMIN_KUBECONFIG) {
    cachedEnv = Object.fromEntries(Object.entries(process.env).filter(([k]) => k.startsWith('TESTBED_'))) as TestbedEnv;
    return cachedEnv;
  }
  const { stdout } = await run('bash', [join(repo, 'scripts/testbed'), 'env']);
  const env: TestbedEnv = parseEnvExports(stdout);
  if (!env.TESTBED_CRI_ENDPOINT) throw new Error('scripts/testbed env printed no TESTBED_CRI_ENDPOINT: is the testbed up? (scripts/testbed up)');
  cachedEnv = env;
  return env;
}

export async function kubectl(env: TestbedEnv, args: string[], input?: string): Promise<string> {
  const child = execFile(join(env.TESTBED_BIN, 'kubectl'), ['--kubeconfig', env.TESTBED_ADMIN_KUBECONFIG, ...args], { maxBuffer: 16 << 20 });
  if (input !== undefined) child.stdin?.end(input);
  return new Promise((res, rej) => {
    let out = '';
    let err = '';
    child.stdout?.on('data', (d) => (out += d));
    child.stderr?.on('data', (d) => (err += d));
    child.on('close', (code) => (code === 0 ? res(out) : rej(new Error(`kubectl ${args.join(' ')}: exit ${code}: ${err.trim()}`))));
  });
}

export async function getJson<T = any>(env: TestbedEnv, args: string[]): Promise<T> {
  return JSON.parse(await kubectl(env, [...args, '-o', 'json'])) as T;
}

/** Thrown from a check to end a wait at once (the run is meaningless), instead of being retried. */
export class WaitAborted extends Error {}

/** Polls `check` until it returns a value (not undefined) or the bound passes; the bound only stops a hung test. */
export async function waitFor<T>(what: string, check: () => Promise<T | undefined>, boundMs = 90_000, everyMs = 500): Promise<T> {
  const end = Date.now() + boundMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v !== undefined) return v;
    } catch (e) {
      if (e instanceof WaitAborted) throw e;
      last = e;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}

export interface RunningAgent {
  rootDir: string;
  child: ChildProcess;
  output: () => string;
  stop(): Promise<number | null>;
  kill9(): Promise<void>;
}

/**
 * Only one agent may act as the testbed's node at a time (two would fight over its pods), so
 * test processes take turns: a lock file naming the holder's pid, taken over when that pid is gone.
 */
// One lock per testbed node, so independent testbeds (TESTBED_NODE_NAME) run side by side.
const LOCK = `/tmp/ledgerlet-testbed-node-${process.env.TESTBED_NODE_NAME ?? 'ledgerlet-node-1'}.lock`;
let lockHeld = 0;
export async function lockNode(): Promise<void> {
  if (lockHeld++ > 0) return;
  await waitFor('the testbed node to be free (another test process runs an agent)', async () => {
    try {
      writeFileSync(LOCK, String(process.pid), { flag: 'wx' });
      return true;
    } catch {
      const holder = parseInt(readFileSync(LOCK, 'utf8'), 10);
      if (!holder || holder === process.pid) return writeFileSync(LOCK, String(process.pid)), true;
      try {
        process.kill(holder, 0);
      } catch {
        rmSync(LOCK, { force: true }); // the holder died without releasing it
      }
      return undefined;
    }
  }, 30 * 60_000, 1000);
}
export function unlockNode(): void {
  if (--lockHeld > 0) return;
  lockHeld = 0;
  rmSync(LOCK, { force: true });
}

/** The agent's ports: upstream's defaults unless a second testbed set its own (TESTBED_KUBELET_PORT, TESTBED_HEALTHZ_PORT). */
export const kubeletPort = (env: TestbedEnv) => Number(env.TESTBED_KUBELET_PORT ?? 10250);
export const healthzPort = (env: TestbedEnv) => Number(env.TESTBED_HEALTHZ_PORT ?? 10248);
const agentPorts = (env: TestbedEnv) => (env.TESTBED_KUBELET_PORT || env.TESTBED_HEALTHZ_PORT ? ['--port', String(kubeletPort(env)), '--healthz-port', String(healthzPort(env))] : []);

/**
 * Flags for an agent whose kubelet API the API server calls (logs, exec, port-forward,
 * nodes/<name>/proxy): the node advertises TESTBED_NODE_IP (the API server refuses to proxy to
 * loopback) and serves the testbed certificate, which names that address, to the testbed CA's clients.
 */
export const kubeletApiArgs = (env: TestbedEnv) => ['--node-ip', env.TESTBED_NODE_IP ?? '127.0.0.1',
  '--tls-cert-file', env.TESTBED_NODE_SERVING_CERT, '--tls-private-key-file', env.TESTBED_NODE_SERVING_KEY, '--client-ca-file', env.TESTBED_CA_CERT];

/** Starts `ledgerlet run` as the testbed's node; resolves once it logged that it started. */
export async function startAgent(env: TestbedEnv, opts: { rootDir?: string; extraArgs?: string[]; standalone?: boolean; bin?: string } = {}): Promise<RunningAgent> {
  await lockNode();
  const rootDir = opts.rootDir ?? mkdtempSync(join(tmpdir(), 'ledgerlet-it-'));
  const args = [opts.bin ?? join(repo, 'bin/ledgerlet.js'), 'run', '--root-dir', rootDir, '--container-runtime-endpoint', env.TESTBED_CRI_ENDPOINT, '--hostname-override', env.TESTBED_NODE_NAME,
    ...(opts.standalone ? [] : ['--kubeconfig', env.TESTBED_NODE_KUBECONFIG]), ...agentPorts(env), ...(opts.extraArgs ?? [])];
  const child = spawn(process.execPath, args, { stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const exited = new Promise<number | null>((r) => child.on('exit', (code) => r(code)));
  try {
    await waitFor('the agent to start', async () => (out.includes('"msg":"ledgerlet started"') ? true : child.exitCode !== null ? Promise.reject(new Error(`agent exited: ${out.slice(-2000)}`)) : undefined), 60_000, 100);
  } catch (e) {
    // Never leave an agent behind when the start did not complete.
    if (child.exitCode === null) child.kill('SIGKILL');
    await exited;
    unlockNode();
    throw e;
  }
  return {
    rootDir,
    child,
    output: () => out,
    async stop() {
      if (child.exitCode === null) child.kill('SIGTERM');
      const code = await exited;
      unlockNode();
      return code;
    },
    async kill9() {
      if (child.exitCode === null) child.kill('SIGKILL');
      await exited;
      unlockNode();
    },
  };
}

export function criClient(env: TestbedEnv): CriClient {
  return new CriClient(env.TESTBED_CRI_ENDPOINT);
}

/** Deletes test pods by label and waits until the API no longer has them. */
export async function deletePods(env: TestbedEnv, selector: string): Promise<void> {
  await kubectl(env, ['delete', 'pods', '-l', selector, '--wait=false', '--ignore-not-found']);
}

/** Before a suite whose pods carry one label: removes such pods left by an earlier run, starts the agent. */
export async function startWithCleanPods(ns: string, label: string, opts: Parameters<typeof startAgent>[1] = {}): Promise<{ env: TestbedEnv; agent: RunningAgent }> {
  const env = await testbedEnv();
  await kubectl(env, ['delete', 'pods', '-n', ns, '-l', label, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
  return { env, agent: await startAgent(env, opts) };
}

/** After such a suite: deletes its pods while the agent still runs (so it tears them down), then stops it. */
export async function stopAfterDeletingPods(env: TestbedEnv | undefined, agent: RunningAgent | undefined, ns: string, label: string): Promise<void> {
  if (env) await kubectl(env, ['delete', 'pods', '-n', ns, '-l', label, '--wait=true', '--timeout=90s', '--ignore-not-found']).catch(() => undefined);
  await agent?.stop();
}
