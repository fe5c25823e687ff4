// Node safety for secrets, on the testbed with the real agent (issue 11, parts 2 and 3):
// - permissions: after a real run, a process running as uid 65534 reads none of a secret volume
//   file, a projected token, the node log's files or the local socket, while the pod itself (a
//   non-root container) still reads its secret through the bind mount;
// - no secret value persisted: a container whose command expands $(PASSWORD) from a secretKeyRef
//   fails to start (runc echoes the command in its error), a readiness probe sends an
//   Authorization header (and only passes when the real value is sent), a secret volume and a
//   projected token are mounted; then the raw LevelDB files, every key and value in the database
//   (entries, snapshots, index, meta), the HTML export and the agent's stdout hold none of them.
import { expect } from 'chai';
import { execFile } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { chmodSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { promisify } from 'node:util';
import { Level } from 'level';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { mountsUnder } from '../../src/adapters/mount/index.ts';
import { logDir } from '../../src/adapters/store/index.ts';

const run = promisify(execFile);
const repo = resolve(import.meta.dirname, '../..');
const LABEL = 'ledgerlet-test=secrets';
const PASSWORD = `pw-${randomBytes(10).toString('hex')}`;
const PROBE_PASS = `probe-${randomBytes(8).toString('hex')}`;
const AUTH_HEADER = `Basic ${Buffer.from(`probeuser:${PROBE_PASS}`).toString('base64')}`;
/** Logged on purpose (an annotation): proves the raw-file search finds a value that is there. */
const MARKER = `marker-${randomBytes(8).toString('hex')}`;
const NOBODY = ['--reuid=65534', '--regid=65534', '--clear-groups'];

function podJson(env: TestbedEnv, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'secrets' }, annotations: { 'ledgerlet-test/marker': MARKER } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, ...spec },
  });
}

const passwordEnv = [{ name: 'PASSWORD', valueFrom: { secretKeyRef: { name: 'sec-secret', key: 'password' } } }];

/** What uid 65534 gets trying to read `file`: exit code and stderr. */
async function readAsNobody(file: string): Promise<{ code: number; err: string }> {
  try {
    await run('setpriv', [...NOBODY, 'cat', file]);
    return { code: 0, err: '' };
  } catch (e) {
    const x = e as { code?: number; stderr?: string };
    return { code: x.code ?? -1, err: String(x.stderr ?? '') };
  }
}

/** Whether uid 65534 can connect to a unix socket ('ok' or the error name). */
async function connectAsNobody(socket: string): Promise<string> {
  const script = 'import socket,sys\ns=socket.socket(socket.AF_UNIX)\ntry:\n s.connect(sys.argv[1]); print("ok")\nexcept OSError as e:\n print(type(e).__name__)';
  const { stdout } = await run('setpriv', [...NOBODY, '/usr/bin/python3', '-c', script, socket]);
  return stdout.trim();
}

/** Files (recursively) under `dir` whose bytes contain `needle`. */
function filesContaining(dir: string, needle: string): string[] {
  const hits: string[] = [];
  const n = Buffer.from(needle);
  for (const name of readdirSync(dir, { recursive: true }) as string[]) {
    const p = join(dir, name);
    if (statSync(p).isFile() && readFileSync(p).includes(n)) hits.push(name);
  }
  return hits;
}

async function containerOf(cri: CriClient, podUid: string, name: string): Promise<string> {
  return waitFor(`container ${name} of ${podUid}`, async () => (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': podUid } })).find((c) => c.metadata.name === name && c.state === 'CONTAINER_RUNNING')?.id, 120_000);
}

describe('secrets on the node: permissions and no secret value persisted', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let rootDir: string;
  let readerUid = '';
  let token = '';

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    await kubectl(env, ['delete', 'secret', 'sec-secret', '--ignore-not-found']);
    await kubectl(env, ['create', 'secret', 'generic', 'sec-secret', `--from-literal=password=${PASSWORD}`]);
    await waitFor('serviceaccount default', async () => ((await kubectl(env, ['get', 'serviceaccount', 'default', '-o', 'name']).catch(() => '')) ? true : undefined));
    // A root dir that other users can traverse to begin with (as /var/lib/kubelet made by hand):
    // the agent must tighten it, not rely on mkdtemp's 0700.
    rootDir = `/tmp/ledgerlet-secrets-${process.pid}`;
    rmSync(rootDir, { recursive: true, force: true });
    mkdirSync(rootDir, { mode: 0o755 });
    chmodSync(rootDir, 0o755);
    agent = await startAgent(env, { rootDir });
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=60s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    await kubectl(env, ['delete', 'secret', 'sec-secret', '--ignore-not-found']).catch(() => undefined);
    cri?.close();
    for (const m of await mountsUnder(rootDir)) await run('umount', ['-l', m.target]).catch(() => undefined);
    if ((await mountsUnder(rootDir)).length === 0) rmSync(rootDir, { recursive: true, force: true });
  });

  it('a non-root pod reads its secret and token; its readiness probe succeeds only because the real Authorization header is sent', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'sec-reader', {
      securityContext: { runAsUser: 1000, runAsGroup: 1000 },
      volumes: [
        { name: 'sec', secret: { secretName: 'sec-secret', defaultMode: 0o444 } },
        { name: 'tok', projected: { sources: [{ serviceAccountToken: { path: 'token', expirationSeconds: 3600 } }] } },
        { name: 'www', emptyDir: {} },
      ],
      containers: [{
        name: 'app', image: env.TESTBED_IMAGE_BUSYBOX,
        env: passwordEnv,
        // busybox httpd answers 401 unless the request carries probeuser's basic credentials
        command: ['sh', '-c', `echo ok > /www/index.html && echo "/:probeuser:${PROBE_PASS}" > /www/httpd.conf && exec httpd -f -p 8080 -h /www -c /www/httpd.conf`],
        volumeMounts: [{ name: 'sec', mountPath: '/sec', readOnly: true }, { name: 'tok', mountPath: '/tok', readOnly: true }, { name: 'www', mountPath: '/www' }],
        readinessProbe: { httpGet: { port: 8080, path: '/index.html', httpHeaders: [{ name: 'Authorization', value: AUTH_HEADER }] }, periodSeconds: 1 },
      }],
    }));
    // the probe's flip in the node log (asked through the running agent's socket); the API's Ready
    // condition is not waited for, it depends on unrelated status ordering
    await waitFor('the readiness probe of sec-reader to succeed', async () => {
      const { stdout } = await run(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'history', '--root-dir', rootDir, '--pod', 'default/sec-reader']);
      return /readiness probe of app: \S+ → success/.test(stdout) ? true : undefined;
    }, 180_000, 2000);
    readerUid = (await getJson(env, ['get', 'pod', 'sec-reader'])).metadata.uid;
    const id = await containerOf(cri, readerUid, 'app');
    const sh = async (script: string) => Buffer.from((await cri.execSync(id, ['sh', '-c', script], 20)).stdout).toString('utf8').trim();
    expect(await sh('id -u')).to.equal('1000');
    expect(await sh('cat /sec/password')).to.equal(PASSWORD);
    token = await sh('cat /tok/token');
    expect(token.split('.')).to.have.length(3);
    // without the header the page is refused: the probe's success really came from the restored value
    expect(await sh('wget -q -O - http://127.0.0.1:8080/index.html 2>&1 || echo refused')).to.include('refused');
  });

  it('a container whose command expands $(PASSWORD) fails to start, and its failure names the command without the value', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'sec-pw-fail', {
      restartPolicy: 'Never',
      containers: [{ name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, env: passwordEnv, command: ['/bin/$(PASSWORD)'] }],
    }));
    const waiting = await waitFor('sec-pw-fail start failure in the pod status', async () => {
      const p = await getJson(env, ['get', 'pod', 'sec-pw-fail']);
      const s = p.status?.containerStatuses?.[0];
      const w = s?.state?.waiting ?? s?.state?.terminated;
      // Between attempts the status shows the back-off; the start failure's message names the command.
      return w?.message?.includes('/bin/') ? w : undefined;
    }, 120_000);
    expect(waiting.message).to.include('/bin/[redacted]');
    expect(waiting.message).to.not.include(PASSWORD);
  });

  it('uid 65534 can read none of: a secret volume file, a projected token, the log files, the socket; the dirs have upstream modes', async () => {
    const mode = (p: string) => (statSync(p).mode & 0o777).toString(8);
    expect(mode(rootDir), 'root dir tightened at start-up').to.equal('750');
    for (const d of ['pods', 'plugins', 'plugins_registry']) expect(mode(join(rootDir, d)), d).to.equal('750');
    expect(mode(join(rootDir, 'pods', readerUid)), 'pod dir').to.equal('750');
    expect(mode(join(rootDir, 'pods', readerUid, 'volumes')), 'pod volumes dir').to.equal('750');
    expect(mode(join(rootDir, 'pki')), 'pki').to.equal('700');
    const secretFile = join(rootDir, 'pods', readerUid, 'volumes', 'kubernetes.io~secret', 'sec', 'password');
    const tokenFile = join(rootDir, 'pods', readerUid, 'volumes', 'kubernetes.io~projected', 'tok', 'token');
    // positive control: the paths are right (root reads them), and the file modes are the pod's defaultMode
    expect(readFileSync(secretFile, 'utf8')).to.equal(PASSWORD);
    expect(readFileSync(tokenFile, 'utf8')).to.equal(token);
    for (const f of [secretFile, tokenFile]) {
      const r = await readAsNobody(f);
      expect(r.code, `uid 65534 read ${f}`).to.not.equal(0);
      expect(r.err).to.include('Permission denied');
    }
    const log = logDir(rootDir);
    expect(mode(log), 'log dir').to.equal('700');
    const files = readdirSync(log);
    expect(files.length).to.be.greaterThan(2);
    for (const f of files) {
      expect(mode(join(log, f)), `log file ${f}`).to.equal('600');
      const r = await readAsNobody(join(log, f));
      expect(r.code, `uid 65534 read log file ${f}`).to.not.equal(0);
      expect(r.err).to.include('Permission denied');
    }
    expect(await connectAsNobody(join(rootDir, 'ledgerlet.sock'))).to.equal('PermissionError');
  });

  it('no secret value is in the raw LevelDB files, in any key or value of the database, in the HTML export or on stdout', async () => {
    // stop first so every entry is flushed and LevelDB has compacted what it will
    const stdout = agent!.output();
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s']);
    const code = await agent!.stop();
    agent = undefined;
    expect(code).to.equal(0);
    const values = { PASSWORD, AUTH_HEADER, authBase64: AUTH_HEADER.slice('Basic '.length), tokenSignature: token.split('.')[2] };
    const log = logDir(rootDir);

    // the searches can find what is there
    expect(filesContaining(log, MARKER), 'control marker in the raw files').to.not.be.empty;
    const db = new Level<string, string>(log, { valueEncoding: 'utf8' });
    let all = '';
    for await (const [k, v] of db.iterator()) all += `${k}\n${v}\n`;
    await db.close();
    expect(all).to.include(MARKER);
    // the failure entry exists, with the value scrubbed out of the runtime's message
    const failures = all.split('\n').filter((l) => l.includes('"type":"ContainerStartFailed"') && l.includes('sec-pw-fail'));
    expect(failures, 'ContainerStartFailed of sec-pw-fail').to.not.be.empty;
    expect(failures.join('\n')).to.include('/bin/[redacted]');
    expect(stdout).to.include('ContainerStartFailed');
    expect(stdout).to.include('/bin/[redacted]');

    const html = join(rootDir, 'export.html');
    await run(process.execPath, [join(repo, 'bin/ledgerlet.js'), 'export', '--root-dir', rootDir, '--html', html]);
    const page = readFileSync(html, 'utf8');
    expect(page).to.include('sec-pw-fail');

    for (const [what, v] of Object.entries(values)) {
      expect(v.length, what).to.be.greaterThan(8);
      expect(filesContaining(log, v), `${what} in the raw log files`).to.deep.equal([]);
      expect(all.includes(v), `${what} in the database`).to.equal(false);
      expect(page.includes(v), `${what} in the HTML export`).to.equal(false);
      expect(stdout.includes(v), `${what} on stdout`).to.equal(false);
    }
  });
});
