// io-ts codecs for the CRI v1 responses the engine consumes. They take what proto-loader gives
// (see proto.ts: camelCase fields, int64 as decimal strings, enums as names, defaults filled in)
// and produce plain typed objects:
//  - nanosecond timestamps become RFC 3339 strings with all nine fraction digits
//    (2024-05-01T10:00:00.123456789Z), which sort as strings in time order; a zero timestamp
//    (not started / not finished) becomes undefined;
//  - int64/uint64 sizes and counters become numbers (exact up to 2^53; beyond that, counters such
//    as CPU nanoseconds lose only their lowest digits);
//  - the image spec message becomes its image string; the sandbox network becomes `ips`, the
//    primary IP first;
//  - bytes (exec output) become UTF-8 strings.
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';

// ---------------------------------------------------------------------------------------------
// primitives

/** A codec whose output is computed from a wire-shaped codec's output. Encoding is the identity. */
export function mapped<R, B>(name: string, raw: t.Decoder<unknown, R>, f: (r: R) => B): t.Type<B, B, unknown> {
  return new t.Type<B, B, unknown>(
    name,
    (u): u is B => false,
    (u, c) => {
      const r = raw.validate(u, c);
      return isLeft(r) ? r : t.success(f(r.right));
    },
    (b) => b,
  );
}

const INT_RE = /^-?\d+$/;

/** int64/uint64 as proto-loader gives it (decimal string; a number is accepted too) → number. */
export const Int64 = new t.Type<number, string, unknown>(
  'int64',
  (u): u is number => typeof u === 'number' && Number.isInteger(u),
  (u, c) => {
    if (typeof u === 'number' && Number.isInteger(u)) return t.success(u);
    if (typeof u === 'string' && INT_RE.test(u)) return t.success(Number(u));
    return t.failure(u, c, `expected a 64-bit integer, got ${JSON.stringify(u)}`);
  },
  (n) => String(n),
);

/** Nanoseconds since the epoch → RFC 3339 UTC with nine fraction digits. */
export function nanosToIso(ns: bigint): string {
  const NS = 1_000_000_000n;
  let secs = ns / NS;
  let frac = ns % NS;
  if (frac < 0n) {
    frac += NS;
    secs -= 1n;
  }
  const base = new Date(Number(secs) * 1000).toISOString(); // ...T10:00:00.000Z
  return `${base.slice(0, 19)}.${frac.toString().padStart(9, '0')}Z`;
}

function toBigInt(u: unknown): bigint | undefined {
  if (typeof u === 'string' && INT_RE.test(u)) return BigInt(u);
  if (typeof u === 'number' && Number.isSafeInteger(u)) return BigInt(u);
  return undefined;
}

/** A CRI int64 nanosecond timestamp → RFC 3339 string (zero stays the epoch). */
export const NanoTime = new t.Type<string, string, unknown>(
  'timestamp (ns)',
  (u): u is string => typeof u === 'string',
  (u, c) => {
    const n = toBigInt(u);
    return n === undefined ? t.failure(u, c, `expected a nanosecond timestamp, got ${JSON.stringify(u)}`) : t.success(nanosToIso(n));
  },
  (s) => s,
);

/** Like NanoTime, but zero (never happened) → undefined. */
export const OptionalNanoTime = new t.Type<string | undefined, string | undefined, unknown>(
  'optional timestamp (ns)',
  (u): u is string | undefined => u === undefined || typeof u === 'string',
  (u, c) => {
    if (u === undefined || u === null) return t.success(undefined);
    const n = toBigInt(u);
    if (n === undefined) return t.failure(u, c, `expected a nanosecond timestamp, got ${JSON.stringify(u)}`);
    return t.success(n === 0n ? undefined : nanosToIso(n));
  },
  (s) => s,
);

/** proto bytes (Buffer/Uint8Array) → UTF-8 string. */
export const Utf8Bytes = new t.Type<string, string, unknown>(
  'bytes',
  (u): u is string => typeof u === 'string',
  (u, c) => {
    if (u instanceof Uint8Array) return t.success(Buffer.from(u.buffer, u.byteOffset, u.byteLength).toString('utf8'));
    if (typeof u === 'string') return t.success(u);
    return t.failure(u, c, `expected bytes, got ${JSON.stringify(u)?.slice(0, 60)}`);
  },
  (s) => s,
);

export const StringMap = t.record(t.string, t.string, 'map<string,string>');

/** A wrapper message such as UInt64Value / Int64Value: null (absent) → undefined. */
const WrappedInt64 = mapped('UInt64Value', t.union([t.null, t.type({ value: Int64 })]), (w) => (w === null ? undefined : w.value));

// ---------------------------------------------------------------------------------------------
// enums

export const PodSandboxState = t.keyof({ SANDBOX_READY: null, SANDBOX_NOTREADY: null }, 'PodSandboxState');
export type PodSandboxState = t.TypeOf<typeof PodSandboxState>;

export const ContainerState = t.keyof(
  { CONTAINER_CREATED: null, CONTAINER_RUNNING: null, CONTAINER_EXITED: null, CONTAINER_UNKNOWN: null },
  'ContainerState',
);
export type ContainerState = t.TypeOf<typeof ContainerState>;

// ---------------------------------------------------------------------------------------------
// version and status

export const VersionResponse = t.strict(
  { version: t.string, runtimeName: t.string, runtimeVersion: t.string, runtimeApiVersion: t.string },
  'VersionResponse',
);
export type VersionResponse = t.TypeOf<typeof VersionResponse>;

export const RuntimeCondition = t.strict({ type: t.string, status: t.boolean, reason: t.string, message: t.string }, 'RuntimeCondition');
export type RuntimeCondition = t.TypeOf<typeof RuntimeCondition>;

export interface RuntimeStatus {
  conditions: RuntimeCondition[];
  /** the RuntimeReady condition is present and true */
  runtimeReady: boolean;
  /** the NetworkReady condition is present and true */
  networkReady: boolean;
  /** runtime handlers the runtime announces (runc, ...), if any */
  handlers: string[];
}

/** Status with verbose: the runtime's free-form info (containerd: `config` holds its CRI config as JSON). */
export const StatusInfoResponse = mapped('StatusInfoResponse', t.type({ info: t.union([t.null, StringMap]) }), (r) => r.info ?? {});

export const StatusResponse = mapped(
  'StatusResponse',
  t.type({
    status: t.type({ conditions: t.array(RuntimeCondition) }, 'RuntimeStatus'),
    runtimeHandlers: t.array(t.type({ name: t.string })),
  }),
  (r): RuntimeStatus => {
    const cond = (type: string): boolean => r.status.conditions.some((c) => c.type === type && c.status);
    return {
      conditions: r.status.conditions,
      runtimeReady: cond('RuntimeReady'),
      networkReady: cond('NetworkReady'),
      handlers: r.runtimeHandlers.map((h) => h.name),
    };
  },
);

// ---------------------------------------------------------------------------------------------
// pod sandboxes

export const PodSandboxMetadata = t.strict(
  { name: t.string, uid: t.string, namespace: t.string, attempt: t.number },
  'PodSandboxMetadata',
);
export type PodSandboxMetadata = t.TypeOf<typeof PodSandboxMetadata>;

export const PodSandboxSummary = t.strict(
  {
    id: t.string,
    metadata: PodSandboxMetadata,
    state: PodSandboxState,
    createdAt: NanoTime,
    labels: StringMap,
    annotations: StringMap,
    runtimeHandler: t.string,
  },
  'PodSandbox',
);
export type PodSandboxSummary = t.TypeOf<typeof PodSandboxSummary>;

export const ListPodSandboxResponse = mapped('ListPodSandboxResponse', t.type({ items: t.array(PodSandboxSummary) }), (r) => r.items);

const RawNetworkStatus = t.union([t.null, t.type({ ip: t.string, additionalIps: t.array(t.type({ ip: t.string })) })], 'PodSandboxNetworkStatus');

export interface PodSandboxStatus extends PodSandboxSummary {
  /** pod IPs, primary first; empty for host-network sandboxes or before networking is set up */
  ips: string[];
}

export const PodSandboxStatus = mapped(
  'PodSandboxStatus',
  t.type({
    id: t.string,
    metadata: PodSandboxMetadata,
    state: PodSandboxState,
    createdAt: NanoTime,
    network: RawNetworkStatus,
    labels: StringMap,
    annotations: StringMap,
    runtimeHandler: t.string,
  }),
  (r): PodSandboxStatus => ({
    id: r.id,
    metadata: r.metadata,
    state: r.state,
    createdAt: r.createdAt,
    ips: r.network === null ? [] : [r.network.ip, ...r.network.additionalIps.map((a) => a.ip)].filter((ip) => ip !== ''),
    labels: r.labels,
    annotations: r.annotations,
    runtimeHandler: r.runtimeHandler,
  }),
);

export const PodSandboxStatusResponse = mapped('PodSandboxStatusResponse', t.type({ status: PodSandboxStatus }), (r) => r.status);

// ---------------------------------------------------------------------------------------------
// containers

export const ContainerMetadata = t.strict({ name: t.string, attempt: t.number }, 'ContainerMetadata');
export type ContainerMetadata = t.TypeOf<typeof ContainerMetadata>;

/** ImageSpec message → its image string ('' when absent). */
const ImageName = mapped('ImageSpec', t.union([t.null, t.type({ image: t.string })]), (s) => (s === null ? '' : s.image));

export interface ContainerSummary {
  id: string;
  podSandboxId: string;
  metadata: ContainerMetadata;
  /** the image as requested (ImageSpec.image) */
  image: string;
  /** the image the runtime resolved (digest or id) */
  imageRef: string;
  imageId: string;
  state: ContainerState;
  createdAt: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
}

export const ContainerSummary = mapped(
  'Container',
  t.type({
    id: t.string,
    podSandboxId: t.string,
    metadata: ContainerMetadata,
    image: ImageName,
    imageRef: t.string,
    imageId: t.string,
    state: ContainerState,
    createdAt: NanoTime,
    labels: StringMap,
    annotations: StringMap,
  }),
  (r): ContainerSummary => ({
    id: r.id,
    podSandboxId: r.podSandboxId,
    metadata: r.metadata,
    image: r.image,
    imageRef: r.imageRef,
    imageId: r.imageId,
    state: r.state,
    createdAt: r.createdAt,
    labels: r.labels,
    annotations: r.annotations,
  }),
);

export const ListContainersResponse = mapped('ListContainersResponse', t.type({ containers: t.array(ContainerSummary) }), (r) => r.containers);

export interface ContainerStatus {
  id: string;
  metadata: ContainerMetadata;
  state: ContainerState;
  createdAt: string;
  startedAt: string | undefined;
  finishedAt: string | undefined;
  exitCode: number;
  /** short machine reason from the runtime (Completed, Error, OOMKilled...) */
  reason: string;
  message: string;
  image: string;
  imageRef: string;
  imageId: string;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  logPath: string;
}

export const ContainerStatus = mapped(
  'ContainerStatus',
  t.type({
    id: t.string,
    metadata: ContainerMetadata,
    state: ContainerState,
    createdAt: NanoTime,
    startedAt: OptionalNanoTime,
    finishedAt: OptionalNanoTime,
    exitCode: t.number,
    image: ImageName,
    imageRef: t.string,
    imageId: t.string,
    reason: t.string,
    message: t.string,
    labels: StringMap,
    annotations: StringMap,
    logPath: t.string,
  }),
  (r): ContainerStatus => ({
    id: r.id,
    metadata: r.metadata,
    state: r.state,
    createdAt: r.createdAt,
    startedAt: r.startedAt,
    finishedAt: r.finishedAt,
    exitCode: r.exitCode,
    reason: r.reason,
    message: r.message,
    image: r.image,
    imageRef: r.imageRef,
    imageId: r.imageId,
    labels: r.labels,
    annotations: r.annotations,
    logPath: r.logPath,
  }),
);

export const ContainerStatusResponse = mapped('ContainerStatusResponse', t.type({ status: ContainerStatus }), (r) => r.status);

export const ExecSyncResponse = t.type({ stdout: Utf8Bytes, stderr: Utf8Bytes, exitCode: t.number }, 'ExecSyncResponse');
export type ExecSyncResult = t.TypeOf<typeof ExecSyncResponse>;

/** Exec, Attach and PortForward answer with the URL of the runtime's streaming server. */
export const StreamingUrlResponse = mapped('StreamingUrlResponse', t.type({ url: t.string }), (r) => r.url);

export const RunPodSandboxResponse = mapped('RunPodSandboxResponse', t.type({ podSandboxId: t.string }), (r) => r.podSandboxId);
export const CreateContainerResponse = mapped('CreateContainerResponse', t.type({ containerId: t.string }), (r) => r.containerId);
/** Responses with no fields the engine reads (Stop*, Remove*, Start*, UpdateRuntimeConfig). */
export const EmptyResponse = mapped('Empty', t.UnknownRecord, () => undefined);

// ---------------------------------------------------------------------------------------------
// stats

const UsageTime = OptionalNanoTime;

export interface ContainerStats {
  id: string;
  metadata: ContainerMetadata;
  labels: Record<string, string>;
  annotations: Record<string, string>;
  cpu?: { timestamp: string | undefined; usageCoreNanoSeconds?: number; usageNanoCores?: number };
  memory?: {
    timestamp: string | undefined;
    workingSetBytes?: number;
    availableBytes?: number;
    usageBytes?: number;
    rssBytes?: number;
    pageFaults?: number;
    majorPageFaults?: number;
  };
  writableLayer?: FilesystemUsage;
}

export interface FilesystemUsage {
  timestamp: string | undefined;
  mountpoint: string;
  usedBytes?: number;
  inodesUsed?: number;
}

const RawFilesystemUsage = t.type({
  timestamp: UsageTime,
  fsId: t.union([t.null, t.type({ mountpoint: t.string })]),
  usedBytes: WrappedInt64,
  inodesUsed: WrappedInt64,
});
const toFsUsage = (r: t.TypeOf<typeof RawFilesystemUsage>): FilesystemUsage =>
  dropUndefined({ timestamp: r.timestamp, mountpoint: r.fsId?.mountpoint ?? '', usedBytes: r.usedBytes, inodesUsed: r.inodesUsed });

export const FilesystemUsage = mapped('FilesystemUsage', RawFilesystemUsage, toFsUsage);

export const ContainerStats = mapped(
  'ContainerStats',
  t.type({
    attributes: t.type({ id: t.string, metadata: ContainerMetadata, labels: StringMap, annotations: StringMap }, 'ContainerAttributes'),
    cpu: t.union([t.null, t.type({ timestamp: UsageTime, usageCoreNanoSeconds: WrappedInt64, usageNanoCores: WrappedInt64 })]),
    memory: t.union([
      t.null,
      t.type({
        timestamp: UsageTime,
        workingSetBytes: WrappedInt64,
        availableBytes: WrappedInt64,
        usageBytes: WrappedInt64,
        rssBytes: WrappedInt64,
        pageFaults: WrappedInt64,
        majorPageFaults: WrappedInt64,
      }),
    ]),
    writableLayer: t.union([t.null, RawFilesystemUsage]),
  }),
  (r): ContainerStats =>
    dropUndefined({
      id: r.attributes.id,
      metadata: r.attributes.metadata,
      labels: r.attributes.labels,
      annotations: r.attributes.annotations,
      cpu: r.cpu === null ? undefined : dropUndefined({ timestamp: r.cpu.timestamp, usageCoreNanoSeconds: r.cpu.usageCoreNanoSeconds, usageNanoCores: r.cpu.usageNanoCores }),
      memory:
        r.memory === null
          ? undefined
          : dropUndefined({
              timestamp: r.memory.timestamp,
              workingSetBytes: r.memory.workingSetBytes,
              availableBytes: r.memory.availableBytes,
              usageBytes: r.memory.usageBytes,
              rssBytes: r.memory.rssBytes,
              pageFaults: r.memory.pageFaults,
              majorPageFaults: r.memory.majorPageFaults,
            }),
      writableLayer: r.writableLayer === null ? undefined : toFsUsage(r.writableLayer),
    }),
);

export const ContainerStatsResponse = mapped('ContainerStatsResponse', t.type({ stats: ContainerStats }), (r) => r.stats);
export const ListContainerStatsResponse = mapped('ListContainerStatsResponse', t.type({ stats: t.array(ContainerStats) }), (r) => r.stats);

/** One network interface's counters (CRI NetworkInterfaceUsage). */
export interface InterfaceUsage {
  name: string;
  rxBytes?: number;
  rxErrors?: number;
  txBytes?: number;
  txErrors?: number;
}

const RawInterfaceUsage = t.type({ name: t.string, rxBytes: WrappedInt64, rxErrors: WrappedInt64, txBytes: WrappedInt64, txErrors: WrappedInt64 });
const toInterfaceUsage = (r: t.TypeOf<typeof RawInterfaceUsage>): InterfaceUsage =>
  dropUndefined({ name: r.name, rxBytes: r.rxBytes, rxErrors: r.rxErrors, txBytes: r.txBytes, txErrors: r.txErrors });

/** A pod sandbox's own usage (CRI ListPodSandboxStats, Linux part): the pod cgroup and its network namespace. */
export interface PodSandboxStats {
  id: string;
  metadata: PodSandboxMetadata;
  labels: Record<string, string>;
  cpu?: ContainerStats['cpu'];
  memory?: ContainerStats['memory'];
  network?: { timestamp: string | undefined; defaultInterface?: InterfaceUsage; interfaces: InterfaceUsage[] };
  processCount?: number;
  containers: ContainerStats[];
}

const RawCpu = t.union([t.null, t.type({ timestamp: UsageTime, usageCoreNanoSeconds: WrappedInt64, usageNanoCores: WrappedInt64 })]);
const RawMemory = t.union([
  t.null,
  t.type({ timestamp: UsageTime, workingSetBytes: WrappedInt64, availableBytes: WrappedInt64, usageBytes: WrappedInt64, rssBytes: WrappedInt64, pageFaults: WrappedInt64, majorPageFaults: WrappedInt64 }),
]);

export const PodSandboxStats = mapped(
  'PodSandboxStats',
  t.type({
    attributes: t.type({ id: t.string, metadata: PodSandboxMetadata, labels: StringMap }, 'PodSandboxAttributes'),
    linux: t.union([
      t.null,
      t.type({
        cpu: RawCpu,
        memory: RawMemory,
        network: t.union([t.null, t.type({ timestamp: UsageTime, defaultInterface: t.union([t.null, RawInterfaceUsage]), interfaces: t.array(RawInterfaceUsage) })]),
        process: t.union([t.null, t.type({ timestamp: UsageTime, processCount: WrappedInt64 })]),
        containers: t.array(ContainerStats),
      }),
    ]),
  }),
  (r): PodSandboxStats => {
    const l = r.linux;
    return dropUndefined({
      id: r.attributes.id,
      metadata: r.attributes.metadata,
      labels: r.attributes.labels,
      cpu: l?.cpu ? dropUndefined({ ...l.cpu }) : undefined,
      memory: l?.memory ? dropUndefined({ ...l.memory }) : undefined,
      network: l?.network
        ? dropUndefined({ timestamp: l.network.timestamp, defaultInterface: l.network.defaultInterface ? toInterfaceUsage(l.network.defaultInterface) : undefined, interfaces: l.network.interfaces.map(toInterfaceUsage) })
        : undefined,
      processCount: l?.process?.processCount,
      containers: l?.containers ?? [],
    });
  },
);

export const ListPodSandboxStatsResponse = mapped('ListPodSandboxStatsResponse', t.type({ stats: t.array(PodSandboxStats) }), (r) => r.stats);

// ---------------------------------------------------------------------------------------------
// images

export interface Image {
  id: string;
  repoTags: string[];
  repoDigests: string[];
  size: number;
  /** numeric user the image runs as, when the image names one */
  uid?: number;
  username: string;
  pinned: boolean;
}

export const Image = mapped(
  'Image',
  t.type({
    id: t.string,
    repoTags: t.array(t.string),
    repoDigests: t.array(t.string),
    size: Int64,
    uid: WrappedInt64,
    username: t.string,
    pinned: t.boolean,
  }),
  (r): Image => dropUndefined({ id: r.id, repoTags: r.repoTags, repoDigests: r.repoDigests, size: r.size, uid: r.uid, username: r.username, pinned: r.pinned }),
);

/** ImageStatus of an image the runtime does not have is `undefined` (CRI answers OK with no image). */
export const ImageStatusResponse = mapped('ImageStatusResponse', t.type({ image: t.union([t.null, Image]) }), (r) => r.image ?? undefined);
export const ListImagesResponse = mapped('ListImagesResponse', t.type({ images: t.array(Image) }), (r) => r.images);
export const PullImageResponse = mapped('PullImageResponse', t.type({ imageRef: t.string }), (r) => r.imageRef);

export const ImageFsInfoResponse = mapped(
  'ImageFsInfoResponse',
  t.type({ imageFilesystems: t.array(FilesystemUsage), containerFilesystems: t.array(FilesystemUsage) }),
  (r) => ({ imageFilesystems: r.imageFilesystems, containerFilesystems: r.containerFilesystems }),
);
export type ImageFsInfo = t.TypeOf<typeof ImageFsInfoResponse>;

// ---------------------------------------------------------------------------------------------

/** Remove keys whose value is undefined, so decoded objects compare and serialise cleanly. */
function dropUndefined<T extends object>(o: T): T {
  const out = {} as Record<string, unknown>;
  for (const [k, v] of Object.entries(o)) if (v !== undefined) out[k] = v;
  return out as T;
}
