// CRI response codecs, fed with what the client really receives: each response object is encoded
// to protobuf bytes and decoded again with the method's own (de)serialisers from the generated proto.
import { expect } from 'chai';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeWith } from '../../src/model/decode.ts';
import * as C from '../../src/adapters/cri/codecs.ts';
import { CriError, isNotFound, Status, statusName } from '../../src/adapters/cri/errors.ts';
import { CRI_PROTO, loadProto, serviceDefinition } from '../../src/adapters/cri/proto.ts';
import { IMAGE_SERVICE, RUNTIME_SERVICE } from '../../src/adapters/cri/client.ts';

const def = loadProto(CRI_PROTO);
const runtime = serviceDefinition(def, RUNTIME_SERVICE);
const images = serviceDefinition(def, IMAGE_SERVICE);

/** The response object as the client sees it after a trip through the wire format. */
function wire(service: typeof runtime, method: string, response: object): unknown {
  const m = service[method];
  if (!m) throw new Error(`no method ${method}`);
  return m.responseDeserialize(m.responseSerialize(response));
}

function ok<A>(codec: t.Decoder<unknown, A>, raw: unknown): A {
  const r = decodeWith(codec, raw);
  if (isLeft(r)) throw new Error(`expected a decode, got: ${r.left.join('; ')}`);
  return r.right;
}

function problems<A>(codec: t.Decoder<unknown, A>, raw: unknown): string[] {
  const r = decodeWith(codec, raw);
  if (isRight(r)) throw new Error(`expected a decode failure, got ${JSON.stringify(r.right)}`);
  return r.left;
}

// 2024-05-01T10:00:00Z in ns, plus sub-second parts that a double cannot hold exactly
const T0 = '1714557600123456789';
const T1 = '1714557660000000001';

const runningStatus = {
  status: {
    id: 'c0ffee',
    metadata: { name: 'app', attempt: 2 },
    state: 'CONTAINER_RUNNING',
    createdAt: T0,
    startedAt: T1,
    finishedAt: '0',
    exitCode: 0,
    image: { image: '127.0.0.1:5000/busybox:1.36' },
    imageRef: 'sha256:abc',
    imageId: 'sha256:abc',
    reason: '',
    message: '',
    labels: { 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.container.name': 'app' },
    annotations: { 'io.kubernetes.container.restartCount': '2' },
    logPath: '/var/log/pods/ns_p_u-1/app/2.log',
    mounts: [{ containerPath: '/data', hostPath: '/tmp/data' }],
  },
  info: {},
};

describe('CRI codecs', () => {
  describe('timestamps', () => {
    it('keeps all nine nanosecond digits', () => {
      expect(C.nanosToIso(BigInt(T0))).to.equal('2024-05-01T10:00:00.123456789Z');
      expect(C.nanosToIso(0n)).to.equal('1970-01-01T00:00:00.000000000Z');
      expect(C.nanosToIso(1_000_000_000n)).to.equal('1970-01-01T00:00:01.000000000Z');
    });

    it('sorts as strings in time order', () => {
      const ns = [1714557600123456789n, 1714557600123456790n, 1714557601000000000n, 999999999n];
      const iso = ns.map(C.nanosToIso);
      const byString = [...iso].sort();
      const byNumber = [...ns].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)).map(C.nanosToIso);
      expect(byString).to.deep.equal(byNumber);
    });

    it('turns a zero optional timestamp into undefined and rejects non-integers', () => {
      expect(ok(C.OptionalNanoTime, '0')).to.equal(undefined);
      expect(ok(C.OptionalNanoTime, T1)).to.equal('2024-05-01T10:01:00.000000001Z');
      expect(problems(C.NanoTime, '12a').join()).to.match(/nanosecond timestamp.*"12a"/);
      expect(problems(C.Int64, 1.5).join()).to.match(/64-bit integer/);
    });
  });

  describe('containers', () => {
    it('decodes a running container status', () => {
      const s = ok(C.ContainerStatusResponse, wire(runtime, 'ContainerStatus', runningStatus));
      expect(s).to.deep.equal({
        id: 'c0ffee',
        metadata: { name: 'app', attempt: 2 },
        state: 'CONTAINER_RUNNING',
        createdAt: '2024-05-01T10:00:00.123456789Z',
        startedAt: '2024-05-01T10:01:00.000000001Z',
        finishedAt: undefined,
        exitCode: 0,
        reason: '',
        message: '',
        image: '127.0.0.1:5000/busybox:1.36',
        imageRef: 'sha256:abc',
        imageId: 'sha256:abc',
        labels: { 'io.kubernetes.pod.uid': 'u-1', 'io.kubernetes.container.name': 'app' },
        annotations: { 'io.kubernetes.container.restartCount': '2' },
        logPath: '/var/log/pods/ns_p_u-1/app/2.log',
      });
    });

    it('decodes an OOM-killed container with its exit code and finish time', () => {
      const raw = wire(runtime, 'ContainerStatus', {
        status: { ...runningStatus.status, state: 'CONTAINER_EXITED', finishedAt: T1, exitCode: 137, reason: 'OOMKilled', message: 'memory limit' },
      });
      const s = ok(C.ContainerStatusResponse, raw);
      expect(s.state).to.equal('CONTAINER_EXITED');
      expect(s.exitCode).to.equal(137);
      expect(s.reason).to.equal('OOMKilled');
      expect(s.finishedAt).to.equal('2024-05-01T10:01:00.000000001Z');
    });

    it('decodes a container list', () => {
      const raw = wire(runtime, 'ListContainers', {
        containers: [
          { id: 'a', podSandboxId: 's1', metadata: { name: 'one', attempt: 0 }, image: { image: 'busybox' }, imageRef: 'sha256:1', state: 'CONTAINER_CREATED', createdAt: T0 },
          { id: 'b', podSandboxId: 's1', metadata: { name: 'two', attempt: 1 }, imageRef: 'sha256:2', state: 'CONTAINER_EXITED', createdAt: T1, labels: { k: 'v' } },
        ],
      });
      const list = ok(C.ListContainersResponse, raw);
      expect(list.map((c) => [c.id, c.metadata.name, c.state, c.image])).to.deep.equal([
        ['a', 'one', 'CONTAINER_CREATED', 'busybox'],
        ['b', 'two', 'CONTAINER_EXITED', ''],
      ]);
      expect(list[1]?.labels).to.deep.equal({ k: 'v' });
      expect(list[1]?.createdAt).to.equal('2024-05-01T10:01:00.000000001Z');
    });

    it('decodes ExecSync output bytes as text', () => {
      const raw = wire(runtime, 'ExecSync', { stdout: Buffer.from('héllo\n'), stderr: Buffer.from(''), exitCode: 3 });
      expect(ok(C.ExecSyncResponse, raw)).to.deep.equal({ stdout: 'héllo\n', stderr: '', exitCode: 3 });
    });

    it('decodes container stats, leaving absent wrapper values out', () => {
      const raw = wire(runtime, 'ContainerStats', {
        stats: {
          attributes: { id: 'a', metadata: { name: 'one', attempt: 0 } },
          cpu: { timestamp: T0, usageCoreNanoSeconds: { value: '9007199254740993' } },
          memory: { timestamp: T0, workingSetBytes: { value: '1048576' }, usageBytes: { value: 2097152 } },
        },
      });
      const s = ok(C.ContainerStatsResponse, raw);
      expect(s.id).to.equal('a');
      expect(s.memory).to.deep.equal({ timestamp: '2024-05-01T10:00:00.123456789Z', workingSetBytes: 1048576, usageBytes: 2097152 });
      expect(s.cpu?.usageNanoCores).to.equal(undefined);
      expect(s.cpu?.usageCoreNanoSeconds).to.be.closeTo(9007199254740993, 2);
      expect(s.writableLayer).to.equal(undefined);
    });
  });

  describe('sandboxes', () => {
    const sandbox = {
      id: 'sb1',
      metadata: { name: 'web', uid: 'u-1', namespace: 'default', attempt: 0 },
      state: 'SANDBOX_READY',
      createdAt: T0,
      network: { ip: '10.88.0.7', additionalIps: [{ ip: 'fd00::7' }] },
      labels: { 'io.kubernetes.pod.uid': 'u-1' },
      annotations: {},
      runtimeHandler: '',
    };

    it('decodes a sandbox status with its IPs, primary first', () => {
      const s = ok(C.PodSandboxStatusResponse, wire(runtime, 'PodSandboxStatus', { status: sandbox, containersStatuses: [] }));
      expect(s.id).to.equal('sb1');
      expect(s.metadata).to.deep.equal({ name: 'web', uid: 'u-1', namespace: 'default', attempt: 0 });
      expect(s.state).to.equal('SANDBOX_READY');
      expect(s.ips).to.deep.equal(['10.88.0.7', 'fd00::7']);
      expect(s.createdAt).to.equal('2024-05-01T10:00:00.123456789Z');
    });

    it('gives no IPs when the sandbox has no network status', () => {
      const s = ok(C.PodSandboxStatusResponse, wire(runtime, 'PodSandboxStatus', { status: { ...sandbox, network: null, state: 'SANDBOX_NOTREADY' } }));
      expect(s.ips).to.deep.equal([]);
      expect(s.state).to.equal('SANDBOX_NOTREADY');
    });

    it('decodes a sandbox list', () => {
      const list = ok(C.ListPodSandboxResponse, wire(runtime, 'ListPodSandbox', { items: [sandbox] }));
      expect(list).to.have.length(1);
      expect(list[0]).to.deep.equal({
        id: 'sb1',
        metadata: sandbox.metadata,
        state: 'SANDBOX_READY',
        createdAt: '2024-05-01T10:00:00.123456789Z',
        labels: sandbox.labels,
        annotations: {},
        runtimeHandler: '',
      });
    });
  });

  describe('runtime and images', () => {
    it('decodes Version', () => {
      const v = ok(C.VersionResponse, wire(runtime, 'Version', { version: '0.1.0', runtimeName: 'containerd', runtimeVersion: '1.6.20', runtimeApiVersion: 'v1' }));
      expect(v).to.deep.equal({ version: '0.1.0', runtimeName: 'containerd', runtimeVersion: '1.6.20', runtimeApiVersion: 'v1' });
    });

    it('decodes Status conditions into readiness flags', () => {
      const raw = wire(runtime, 'Status', {
        status: {
          conditions: [
            { type: 'RuntimeReady', status: true },
            { type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni config uninitialized' },
          ],
        },
        runtimeHandlers: [{ name: 'runc' }],
      });
      const s = ok(C.StatusResponse, raw);
      expect(s.runtimeReady).to.equal(true);
      expect(s.networkReady).to.equal(false);
      expect(s.handlers).to.deep.equal(['runc']);
      expect(s.conditions[1]).to.deep.equal({ type: 'NetworkReady', status: false, reason: 'NetworkPluginNotReady', message: 'cni config uninitialized' });
    });

    it('decodes images, ImageStatus of a missing image, and image filesystems', () => {
      const img = { id: 'sha256:1', repoTags: ['127.0.0.1:5000/busybox:1.36'], repoDigests: ['127.0.0.1:5000/busybox@sha256:2'], size: '1234567', uid: { value: '0' } };
      expect(ok(C.ImageStatusResponse, wire(images, 'ImageStatus', { image: img }))).to.deep.equal({
        id: 'sha256:1',
        repoTags: ['127.0.0.1:5000/busybox:1.36'],
        repoDigests: ['127.0.0.1:5000/busybox@sha256:2'],
        size: 1234567,
        uid: 0,
        username: '',
        pinned: false,
      });
      expect(ok(C.ImageStatusResponse, wire(images, 'ImageStatus', {}))).to.equal(undefined);
      expect(ok(C.PullImageResponse, wire(images, 'PullImage', { imageRef: 'sha256:1' }))).to.equal('sha256:1');
      const fs = ok(C.ImageFsInfoResponse, wire(images, 'ImageFsInfo', { imageFilesystems: [{ timestamp: T0, fsId: { mountpoint: '/var/lib/containerd' }, usedBytes: { value: '4096' } }] }));
      expect(fs).to.deep.equal({
        imageFilesystems: [{ timestamp: '2024-05-01T10:00:00.123456789Z', mountpoint: '/var/lib/containerd', usedBytes: 4096 }],
        containerFilesystems: [],
      });
    });
  });

  describe('malformed responses', () => {
    it('names the field and the bad value of an unknown container state', () => {
      const raw = { status: { ...runningStatus.status, state: 'CONTAINER_PAUSED', createdAt: T0 } };
      const p = problems(C.ContainerStatusResponse, raw);
      expect(p).to.have.length(1);
      expect(p[0]).to.match(/^status\.state: /);
      expect(p[0]).to.contain('CONTAINER_PAUSED');
    });

    it('reports a missing metadata message and a bad timestamp at their paths', () => {
      const raw = { status: { ...runningStatus.status, metadata: null, createdAt: 'yesterday' } };
      const p = problems(C.ContainerStatusResponse, raw);
      expect(p.some((x) => x.startsWith('status.metadata: '))).to.equal(true, p.join('\n'));
      expect(p.some((x) => x.startsWith('status.createdAt: ') && x.includes('"yesterday"'))).to.equal(true, p.join('\n'));
    });

    it('reports the index of a bad item in a list', () => {
      const raw = { items: [{ id: 'x', metadata: { name: 'n', uid: 'u', namespace: 'd', attempt: 0 }, state: 'SANDBOX_READY', createdAt: '1', labels: {}, annotations: {}, runtimeHandler: '' }, { id: 7 }] };
      const p = problems(C.ListPodSandboxResponse, raw);
      expect(p.some((x) => x.startsWith('items[1].id: '))).to.equal(true, p.join('\n'));
    });

    it('rejects exec output that is not bytes', () => {
      const p = problems(C.ExecSyncResponse, { stdout: 42, stderr: Buffer.from(''), exitCode: 0 });
      expect(p[0]).to.match(/^stdout: expected bytes/);
    });
  });
});

describe('CriError', () => {
  it('carries the gRPC code, its name and a readable message', () => {
    const e = new CriError({ kind: 'rpc', code: Status.NOT_FOUND, details: 'container "x" not found', service: 'RuntimeService', method: 'ContainerStatus', endpoint: 'unix:///run/c.sock' });
    expect(e).to.be.instanceOf(Error);
    expect(e.codeName).to.equal('NOT_FOUND');
    expect(e.isNotFound()).to.equal(true);
    expect(isNotFound(e)).to.equal(true);
    expect(e.isTransient()).to.equal(false);
    expect(e.message).to.equal('CRI RuntimeService/ContainerStatus on unix:///run/c.sock failed: NOT_FOUND: container "x" not found');
    expect(isNotFound(new Error('not found'))).to.equal(false);
  });

  it('extracts the existing id from a "name is reserved" failure', () => {
    const id = 'f'.repeat(64);
    const base = { kind: 'rpc' as const, service: 'RuntimeService', method: 'CreateContainer', endpoint: 'unix:///s' };
    const e = new CriError({ ...base, code: Status.UNKNOWN, details: `failed to reserve container name "app_p_ns_u_0": name "app_p_ns_u_0" is reserved for "${id}"` });
    expect(e.reservedFor()).to.equal(id);
    expect(new CriError({ ...base, code: Status.UNKNOWN, details: 'disk full' }).reservedFor()).to.equal(undefined);
  });

  it('marks unavailable and deadline failures as transient, and decode failures as not NOT_FOUND', () => {
    const base = { details: 'x', service: 'RuntimeService', method: 'Version', endpoint: 'unix:///s' };
    expect(new CriError({ ...base, kind: 'rpc', code: Status.UNAVAILABLE }).isTransient()).to.equal(true);
    expect(new CriError({ ...base, kind: 'rpc', code: Status.DEADLINE_EXCEEDED }).isDeadlineExceeded()).to.equal(true);
    const d = new CriError({ ...base, kind: 'decode', code: Status.INTERNAL, problems: ['runtimeApiVersion: expected string'] });
    expect(d.codeName).to.equal('INVALID_RESPONSE');
    expect(d.message).to.contain('runtimeApiVersion: expected string');
    expect(d.isNotFound()).to.equal(false);
    expect(statusName(Status.RESOURCE_EXHAUSTED)).to.equal('RESOURCE_EXHAUSTED');
  });
});
