// subPath and subPathExpr tried as an attacker would, on the real kernel and the testbed's
// containerd: symlinks from an init container to a host directory and to a host file, `..` and an
// absolute path from an expansion, a symlink flipped while mounts are made (a loop on the host's
// own mount table, then with the agent starting containers), and nested paths and a downward-API
// subPathExpr that must work and land in the right directory.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { existsSync, lstatSync, mkdirSync, mkdtempSync, readdirSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { criClient, getJson, kubectl, startAgent, testbedEnv, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import { mountsUnder, unmount } from '../../src/adapters/mount/index.ts';
import { LogStore, logDir } from '../../src/adapters/store/index.ts';
import { cleanSubPaths, prepareSubPath, SubPathError } from '../../src/effects/volumes/subpaths.ts';

const LABEL = 'ledgerlet-test=volumes-subpath';
const MARK = `host-only-${randomBytes(8).toString('hex')}`;
/** A host directory outside every volume, holding a marker no container may ever see. */
const HOST_SECRET_DIR = `/tmp/ledgerlet-subpath-host-${process.pid}`;

/** Flips `<dir>/sub` between a real directory and a symlink to HOST_SECRET_DIR as fast as a shell can. */
function flipper(dir: string): ChildProcess {
  // `mv -T`: if the agent re-created `sub` between the rmdir and the rename, a plain `mv` would
  // move the symlink *into* it, leaving `sub` a non-empty directory for good and ending the race.
  return spawn('sh', ['-c', `cd '${dir}' || exit 1; while :; do rm -f sub.l; ln -s '${HOST_SECRET_DIR}' sub.l; rmdir sub 2>/dev/null; mv -Tf sub.l sub 2>/dev/null; sleep 0.001; rm -f sub; mkdir sub 2>/dev/null; sleep 0.001; done`], { stdio: 'ignore' });
}

async function stopChild(c: ChildProcess): Promise<void> {
  if (c.exitCode !== null || c.signalCode !== null) return;
  const done = new Promise((r) => c.once('exit', r));
  c.kill('SIGKILL');
  await done;
}

describe('subPath bind mounts against a symlink flipped while they are made (host kernel, no runtime)', function () {
  this.timeout(480_000);
  let base: string;
  let rootDir: string;
  let volume: string;
  let flip: ChildProcess | undefined;

  before(() => {
    mkdirSync(HOST_SECRET_DIR, { recursive: true });
    writeFileSync(join(HOST_SECRET_DIR, MARK), 'host');
    base = mkdtempSync(join(tmpdir(), 'ledgerlet-subpath-race-'));
    rootDir = join(base, 'root');
    volume = join(base, 'volume');
    mkdirSync(volume, { mode: 0o777 });
  });

  after(async () => {
    if (flip) await stopChild(flip);
    for (const m of await mountsUnder(base)) await unmount(m.target).catch(() => undefined);
    if ((await mountsUnder(base)).length === 0) rmSync(base, { recursive: true, force: true });
  });

  it('never mounts the host directory: each attempt is refused or mounts the real directory inside the volume', async () => {
    flip = flipper(volume);
    let mounted = 0;
    let refused = 0;
    let escaped = 0;
    const outside = statSync(HOST_SECRET_DIR);
    // Loop until both outcomes were seen many times (the race was really run), bounded in time
    // (each attempt runs mount(8) and umount(8); the machine is shared).
    const end = Date.now() + 240_000;
    for (let i = 0; i < 2000 && Date.now() < end && (mounted < 20 || refused < 20); i++) {
      let target: string;
      try {
        target = await prepareSubPath({ rootDir, podUid: 'race-pod', container: 'c', volume: 'v', index: i % 4, volumePath: volume, subPath: 'sub' });
      } catch (e) {
        expect(e).to.be.instanceOf(SubPathError);
        // met as a symlink while opening, or swapped in just after the agent made the directory
        expect((e as Error).message).to.be.oneOf(['failed to prepare subPath for volumeMount "v" of container "c"', 'failed to create subPath directory for volumeMount "v" of container "c"']);
        refused++;
        continue;
      }
      mounted++;
      const seen = statSync(target);
      if (existsSync(join(target, MARK)) || (seen.dev === outside.dev && seen.ino === outside.ino)) escaped++;
      await unmount(target);
    }
    await stopChild(flip);
    console.log(`      race: ${mounted} mounted inside the volume, ${refused} refused, ${escaped} escaped`);
    expect(escaped).to.equal(0);
    expect(mounted, 'the real directory was mounted at times').to.be.at.least(5);
    expect(refused, 'the symlink was met at times').to.be.at.least(5);
    await cleanSubPaths(rootDir, 'race-pod');
    expect(existsSync(join(rootDir, 'pods', 'race-pod', 'volume-subpaths'))).to.equal(false);
  });
});

function podJson(env: TestbedEnv, name: string, spec: Record<string, unknown>): string {
  return JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name, namespace: 'default', labels: { 'ledgerlet-test': 'volumes-subpath' } }, spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, ...spec } });
}

async function exec(cri: CriClient, id: string, script: string): Promise<{ code: number; out: string }> {
  const r = await cri.execSync(id, ['sh', '-c', script], 20);
  return { code: r.exitCode, out: Buffer.from(r.stdout).toString('utf8').trim() };
}

async function runningContainer(cri: CriClient, podUid: string, name: string): Promise<string | undefined> {
  return (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': podUid } })).find((c) => c.metadata.name === name && c.state === 'CONTAINER_RUNNING')?.id;
}

/** The container's status once it is waiting with `reason` (from the API server). */
async function waitingWith(env: TestbedEnv, pod: string, container: string, reason: string): Promise<{ reason: string; message: string }> {
  return waitFor(`${pod}/${container} waiting ${reason}`, async () => {
    const p = await getJson(env, ['get', 'pod', pod]);
    const s = (p.status?.containerStatuses ?? []).find((c: any) => c.name === container);
    return s?.state?.waiting?.reason === reason ? s.state.waiting : undefined;
  }, 120_000);
}

describe('subPath and subPathExpr on the testbed (real agent, containerd)', function () {
  this.timeout(600_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;
  let cri: CriClient;
  let rootDir: string;
  const uids: Record<string, string> = {};

  const uidOf = async (name: string) => (uids[name] = (await getJson(env, ['get', 'pod', name])).metadata.uid);

  before(async function () {
    this.timeout(900_000);
    env = await testbedEnv();
    cri = criClient(env);
    mkdirSync(HOST_SECRET_DIR, { recursive: true });
    writeFileSync(join(HOST_SECRET_DIR, MARK), 'host');
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--grace-period=0', '--force', '--ignore-not-found']).catch(() => undefined);
    rootDir = mkdtempSync(join(tmpdir(), 'ledgerlet-sp-'));
    agent = await startAgent(env, { rootDir });
  });

  after(async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s', '--ignore-not-found']).catch(() => undefined);
    await agent?.stop();
    cri?.close();
    rmSync(HOST_SECRET_DIR, { recursive: true, force: true });
    if (rootDir && (await mountsUnder(rootDir)).length === 0) rmSync(rootDir, { recursive: true, force: true });
  });

  it('a symlink to a host directory or a host file made by an init container fails the container (CreateContainerConfigError), never mounts the host', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'sp-escape', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      initContainers: [{ name: 'plant', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', `ln -s / /scratch/evil && ln -s /etc/hostname /scratch/host-file && ln -s ${HOST_SECRET_DIR} /scratch/marker-dir`], volumeMounts: [{ name: 'scratch', mountPath: '/scratch' }] }],
      containers: [
        { name: 'dir', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/host-etc', subPath: 'evil/etc' }] },
        { name: 'file', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/hostname', subPath: 'host-file' }] },
        { name: 'marker', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/m', subPath: 'marker-dir' }] },
        { name: 'ok', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/all' }] },
      ],
    }));
    const uid = await uidOf('sp-escape');
    for (const c of ['dir', 'file', 'marker']) {
      const w = await waitingWith(env, 'sp-escape', c, 'CreateContainerConfigError');
      expect(w.message).to.equal(`failed to prepare subPath for volumeMount "scratch" of container "${c}"`);
    }
    // the pod's other container runs, and sees the symlinks as symlinks
    const ok = await waitFor('container ok', () => runningContainer(cri, uid, 'ok'));
    expect((await exec(cri, ok, 'readlink /all/evil')).out).to.equal('/');
    // nothing was bind-mounted for the refused mounts, and no refused container exists in the runtime
    expect(await mountsUnder(join(rootDir, 'pods', uid, 'volume-subpaths'))).to.deep.equal([]);
    const names = (await cri.listContainers({ labelSelector: { 'io.kubernetes.pod.uid': uid } })).map((c) => c.metadata.name);
    expect(names).to.not.include.members(['dir', 'file', 'marker']);
    // the event, as upstream: Warning Failed "Error: <message>"
    const events = await waitFor('Failed events', async () => {
      const ev = await getJson(env, ['get', 'events', '--field-selector', `involvedObject.uid=${uid},reason=Failed`]);
      return ev.items.length >= 3 ? ev.items : undefined;
    });
    expect(events.map((e: any) => e.message)).to.include('Error: failed to prepare subPath for volumeMount "scratch" of container "dir"');
  });

  it('`..` and an absolute path from a subPathExpr expansion are refused with upstream\'s wording', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'sp-dotdot', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [
        { name: 'up', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], env: [{ name: 'UP', value: '..' }], volumeMounts: [{ name: 'scratch', mountPath: '/x', subPathExpr: '$(UP)/$(UP)/etc' }] },
        { name: 'abs', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], env: [{ name: 'ROOT', value: '/etc' }], volumeMounts: [{ name: 'scratch', mountPath: '/x', subPathExpr: '$(ROOT)' }] },
        { name: 'unset', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/x', subPathExpr: 'logs/$(NOPE)' }] },
      ],
    }));
    await uidOf('sp-dotdot');
    expect((await waitingWith(env, 'sp-dotdot', 'up', 'CreateContainerConfigError')).message).to.equal("unable to provision SubPath `../../etc`: must not contain '..'");
    expect((await waitingWith(env, 'sp-dotdot', 'abs', 'CreateContainerConfigError')).message).to.equal('error SubPath `/etc` must not be an absolute path');
    expect((await waitingWith(env, 'sp-dotdot', 'unset', 'CreateContainerConfigError')).message).to.equal('missing value for NOPE');
  });

  it('nested subPaths are created inside the volume (volume\'s mode) and a subPathExpr from metadata.name lands in its own directory', async () => {
    await kubectl(env, ['apply', '-f', '-'], podJson(env, 'sp-ok', {
      volumes: [{ name: 'scratch', emptyDir: {} }],
      containers: [
        {
          name: 'app', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'],
          env: [{ name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } }],
          volumeMounts: [
            { name: 'scratch', mountPath: '/deep', subPath: 'a/b/c' },
            { name: 'scratch', mountPath: '/mine', subPathExpr: 'logs/$(POD_NAME)' },
          ],
        },
        { name: 'viewer', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'], volumeMounts: [{ name: 'scratch', mountPath: '/all' }] },
      ],
    }));
    const uid = await uidOf('sp-ok');
    const app = await waitFor('container app', () => runningContainer(cri, uid, 'app'), 120_000);
    const viewer = await waitFor('container viewer', () => runningContainer(cri, uid, 'viewer'), 120_000);
    expect((await exec(cri, app, 'echo deep > /deep/f && echo mine > /mine/f && echo ok')).out).to.equal('ok');
    expect((await exec(cri, viewer, 'cat /all/a/b/c/f /all/logs/sp-ok/f')).out).to.equal('deep\nmine');
    // created with the emptyDir root's mode, as upstream
    expect((await exec(cri, viewer, 'stat -c %a /all/a /all/a/b /all/a/b/c /all/logs /all/logs/sp-ok')).out.split('\n')).to.deep.equal(['777', '777', '777', '777', '777']);
    // on the host: the runtime got bind targets under volume-subpaths/<volume>/<container>/<index>
    const targets = (await mountsUnder(join(rootDir, 'pods', uid, 'volume-subpaths'))).map((m) => m.target).sort();
    expect(targets).to.deep.equal([0, 1].map((i) => join(rootDir, 'pods', uid, 'volume-subpaths', 'scratch', 'app', String(i))));
    expect(lstatSync(join(rootDir, 'pods', uid, 'volume-subpaths')).mode & 0o777).to.equal(0o750);
  });

  it('a symlink flipped by a running container while the agent starts the others never exposes the host', async () => {
    // Rounds: each pod's checkers start while `flip` turns `sub` into a symlink to the host dir and back.
    let refusals = 0;
    let checked = 0;
    for (let round = 0; round < 4 && (refusals === 0 || round < 2); round++) {
      const name = `sp-race-${round}`;
      const checkers = [0, 1, 2].map((i) => ({
        name: `check-${i}`, image: env.TESTBED_IMAGE_BUSYBOX, command: ['sleep', '3600'],
        volumeMounts: [{ name: 'scratch', mountPath: '/m', subPath: 'sub' }],
      }));
      await kubectl(env, ['apply', '-f', '-'], podJson(env, name, {
        volumes: [{ name: 'scratch', emptyDir: {} }],
        containers: [
          // `sub` is in turn the real directory (renamed in and out, never deleted: the runtime
          // cannot mount a directory deleted after the bind mount) and a symlink to the host directory.
          { name: 'flip', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', `cd /s; mkdir -p real; echo in > real/inside; while :; do mv real sub 2>/dev/null; usleep 3000; mv sub real 2>/dev/null; ln -s ${HOST_SECRET_DIR} sub; usleep 3000; rm -f sub; done`], volumeMounts: [{ name: 'scratch', mountPath: '/s' }] },
          ...checkers,
        ],
      }));
      const uid = await uidOf(name);
      for (const c of checkers) {
        const id = await waitFor(`${name}/${c.name} running`, () => runningContainer(cri, uid, c.name), 240_000).catch(async (e) => {
          const p = await getJson(env, ['get', 'pod', name]).catch(() => undefined);
          const ev = await getJson(env, ['get', 'events', '--field-selector', `involvedObject.uid=${uid}`]).catch(() => ({ items: [] }));
          throw new Error(`${(e as Error).message}\nstatuses: ${JSON.stringify(p?.status?.containerStatuses)}\nevents: ${ev.items.map((x: any) => `${x.count}x ${x.reason}: ${x.message}`).join('\n')}`);
        });
        const seen = await exec(cri, id, `ls -a /m; test -e /m/${MARK} && echo ESCAPED || echo clean`);
        expect(seen.out, `${name}/${c.name} sees`).to.not.include(MARK);
        expect(seen.out.split('\n').pop()).to.equal('clean');
        // what it got is the volume's own directory (or one the agent made while `sub` was away)
        const entries = seen.out.split('\n').filter((l) => l !== '.' && l !== '..' && l !== 'clean');
        expect(entries.every((l) => l === 'inside' || l === 'real'), entries.join(' ')).to.equal(true);
        checked++;
      }
      const events = await getJson(env, ['get', 'events', '--field-selector', `involvedObject.uid=${uid},reason=Failed`]);
      refusals += events.items.filter((e: any) => /^Error: failed to (prepare subPath|create subPath directory) for volumeMount/.test(String(e.message))).length;
      await kubectl(env, ['delete', 'pod', name, '--wait=true', '--timeout=180s']);
    }
    console.log(`      race on the testbed: ${checked} checker containers ran clean, ${refusals} starts refused on the symlink`);
    expect(checked).to.be.at.least(6);
  });

  it('deleting the pods unmounts every subPath bind target and removes the pod directories; the log says why a mount was refused', async () => {
    await kubectl(env, ['delete', 'pods', '-l', LABEL, '--wait=true', '--timeout=90s']);
    for (const [name, uid] of Object.entries(uids)) {
      await waitFor(`${name}'s pod directory removed`, async () => (existsSync(join(rootDir, 'pods', uid)) ? undefined : true), 60_000);
    }
    expect(await mountsUnder(join(rootDir, 'pods'))).to.deep.equal([]);
    expect(existsSync(join(rootDir, 'pods')) ? readdirSync(join(rootDir, 'pods')) : []).to.deep.equal([]);
    await agent!.stop();
    agent = undefined;
    const store = await LogStore.open(logDir(rootDir));
    const details: string[] = [];
    try {
      for await (const r of store.readRange()) if (r.ok && r.entry.type === 'ContainerStartFailed' && (r.entry.data as { detail?: string }).detail) details.push((r.entry.data as { detail: string }).detail);
    } finally {
      await store.close();
    }
    expect(details.some((d) => d.includes('evil is a symlink to /, outside the volume'))).to.equal(true);
    expect(details.some((d) => d.includes('host-file is a symlink to /etc/hostname, outside the volume'))).to.equal(true);
  });
});
