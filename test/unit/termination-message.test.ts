import { expect } from 'chai';
import { mkdirSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { tempDirs } from './helpers/temp-dir.ts';
import { createTerminationMessageFile, readLogTail, readTerminationMessage, terminationMessageFile } from '../../src/adapters/fs/termination-message.ts';
import { terminationMessage } from '../../src/streams/termination-message.ts';
import { register, release } from '../../src/runtime/secret-values.ts';
import type { ContainerStatus } from '../../src/adapters/cri/codecs.ts';
import { only, podManifest, readyNode, refFor } from './pods/scenario.ts';

describe('termination messages (upstream kuberuntime getTerminationMessage)', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('creates one empty file per instance, 0666 whatever the umask, under the private pod dir', async () => {
    const root = dirs.make();
    const file = terminationMessageFile(root, 'uid-1', 'app', 2)!;
    expect(file).to.equal(join(root, 'pods/uid-1/containers/app/termination-2'));
    const old = process.umask(0o077);
    try {
      await createTerminationMessageFile(file);
    } finally {
      process.umask(old);
    }
    expect(statSync(file).mode & 0o777).to.equal(0o666);
    expect(statSync(join(root, 'pods/uid-1/containers')).mode & 0o777).to.equal(0o750);
    writeFileSync(file, 'kept');
    await createTerminationMessageFile(file); // a replayed start keeps what is there
    expect(await readTerminationMessage(file)).to.equal('kept');
  });

  it('refuses names that are not safe path parts, and symlinks', async () => {
    const root = dirs.make();
    expect(terminationMessageFile(root, 'uid-1', '../etc', 0)).to.equal(undefined);
    expect(terminationMessageFile(root, '../x', 'app', 0)).to.equal(undefined);
    expect(terminationMessageFile(root, 'uid-1', 'App', 0)).to.equal(undefined);
    const file = terminationMessageFile(root, 'uid-1', 'app', 0)!;
    mkdirSync(join(file, '..'), { recursive: true });
    writeFileSync(join(root, 'secret'), 'host file');
    symlinkSync(join(root, 'secret'), file);
    let err: unknown;
    try { await readTerminationMessage(file); } catch (e) { err = e; }
    expect((err as { code?: string }).code).to.equal('ELOOP');
    let createErr: unknown;
    try { await createTerminationMessageFile(file); } catch (e) { createErr = e; }
    expect((createErr as { code?: string }).code).to.equal('ELOOP');
  });

  it('reads only the last 4 KiB of the file, and the log tail as 80 lines, at most 2 KiB', async () => {
    const root = dirs.make();
    const file = join(root, 'm');
    writeFileSync(file, 'x'.repeat(10_000) + 'END');
    const m = (await readTerminationMessage(file))!;
    expect(m).to.have.length(4096);
    expect(m.endsWith('END')).to.equal(true);
    expect(await readTerminationMessage(join(root, 'absent'))).to.equal(undefined);
    const log = join(root, 'log');
    writeFileSync(log, Array.from({ length: 100 }, (_, i) => `2026-11-23T10:00:00.000000000Z stdout F line ${i}\n`).join(''));
    const tail = await readLogTail(log);
    expect(tail.split('\n')[0]).to.equal('line 20');
    expect(tail.endsWith('line 99\n')).to.equal(true);
    writeFileSync(log, Array.from({ length: 50 }, (_, i) => `2026-11-23T10:00:00.000000000Z stderr F ${String(i).padStart(99, '-')}\n`).join(''));
    const long = await readLogTail(log);
    expect(Buffer.byteLength(long)).to.equal(2048);
    expect(long.endsWith('-49\n')).to.equal(true);
  });

  const status = (root: string, over: Partial<ContainerStatus> & { policy?: string; path?: string } = {}): ContainerStatus => ({
    id: 'c1', metadata: { name: 'app', attempt: 0 }, state: 'CONTAINER_EXITED', createdAt: '', startedAt: undefined, finishedAt: undefined,
    exitCode: 1, reason: 'Error', message: '', image: '', imageRef: '', imageId: '', logPath: join(root, 'app.log'),
    labels: { 'io.kubernetes.pod.uid': 'uid-1', 'io.kubernetes.container.name': 'app' },
    annotations: { 'io.kubernetes.container.terminationMessagePath': over.path ?? '/dev/termination-log', 'io.kubernetes.container.terminationMessagePolicy': over.policy ?? 'File' },
    ...over,
  } as ContainerStatus);

  it('the file wins; FallbackToLogsOnError reads the log only for a failed container with an empty file; secrets are scrubbed', async () => {
    const root = dirs.make();
    const file = terminationMessageFile(root, 'uid-1', 'app', 0)!;
    await createTerminationMessageFile(file);
    writeFileSync(join(root, 'app.log'), '2026-11-23T10:00:00.000000000Z stdout F from the log\n');
    expect(await terminationMessage(status(root, { policy: 'FallbackToLogsOnError' }), root)).to.equal('from the log\n');
    expect(await terminationMessage(status(root, { policy: 'FallbackToLogsOnError', exitCode: 0 }), root)).to.equal(undefined);
    expect(await terminationMessage(status(root, { policy: 'File' }), root)).to.equal(undefined);
    writeFileSync(file, 'DONE with pa55w0rd-xyz-123');
    register('test/termination', ['pa55w0rd-xyz-123']);
    try {
      expect(await terminationMessage(status(root, { policy: 'FallbackToLogsOnError' }), root)).to.equal('DONE with [redacted]');
      expect(await terminationMessage(status(root, { message: 'OOMKilled' }), root)).to.equal('OOMKilled: DONE with [redacted]');
    } finally {
      release('test/termination');
    }
    expect(await terminationMessage(status(root, { state: 'CONTAINER_RUNNING' }), root)).to.equal(undefined);
  });

  it('status shows the message, each container cut to its share of 12 KiB per pod', () => {
    const s = readyNode();
    const m = podManifest('t1', {}, { restartPolicy: 'Never', containers: [{ name: 'a', image: 'busybox:1' }, { name: 'b', image: 'busybox:1' }] });
    const sb = only(s.observe('PodObserved', { pod: m, origin: 'api', resourceVersion: '2' }, refFor('t1'), 'apiserver'), 'PodSandboxRequested');
    const ds = s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-t1', ip: '10.88.0.7' });
    for (const st of ds.filter((d) => d.type === 'ContainerStartRequested')) {
      const name = (st.data as { plan: { name: string } }).plan.name;
      s.outcome(st, 'ContainerStarted', { name, containerId: `c-${name}`, attempt: 0, startedAt: '2026-11-23T10:00:01Z' });
    }
    const exited = (name: string, exitCode: number, message: string) => s.observe('ContainerStateChanged', {
      container: { id: `c-${name}`, podUid: 't1', sandboxId: 'sb-t1', name, attempt: 0, state: 'exited', exitCode, finishedAt: '2026-11-23T10:00:05Z', reason: 'Completed', message },
    }, refFor('t1'), 'pleg');
    exited('a', 0, 'é'.repeat(4000));
    exited('b', 1, 'short');
    const cs = s.pod('t1').lastStatus!.containerStatuses;
    const a = cs.find((c) => c.name === 'a')!.state.terminated!.message!;
    expect(Buffer.byteLength(a)).to.equal(6144);
    expect(cs.find((c) => c.name === 'b')!.state.terminated!.message).to.equal('short');
  });
});
