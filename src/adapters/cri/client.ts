// A thin, typed, promise-based CRI v1 client (RuntimeService + ImageService) over one gRPC
// channel to a unix socket. Every call has a deadline; every failure is a CriError; every
// response the engine reads is decoded with the codecs in codecs.ts.
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import type * as t from 'io-ts';
import * as C from './codecs.ts';
import { CriError } from './errors.ts';
import { GrpcTransport } from './grpc.ts';
import { CRI_PROTO, loadProto, serviceDefinition } from './proto.ts';
import type { AuthConfig, ContainerConfig, ContainerFilter, ImageSpecInput, PodSandboxConfig, PodSandboxFilter } from './types.ts';

export const RUNTIME_SERVICE = 'runtime.v1.RuntimeService';
export const IMAGE_SERVICE = 'runtime.v1.ImageService';

export interface CriTimeouts {
  /** deadline of every call without a more specific one (ms); upstream's runtime-request-timeout is 2 min, ours is shorter */
  defaultMs: number;
  /** PullImage (ms) */
  pullImageMs: number;
  /** added to ExecSync's own timeout, and to StopContainer's grace period (ms) */
  marginMs: number;
}

export const DEFAULT_CRI_TIMEOUTS: CriTimeouts = { defaultMs: 30_000, pullImageMs: 120_000, marginMs: 10_000 };

export interface CriClientOptions {
  timeouts?: Partial<CriTimeouts>;
  /** extra grpc-js channel options */
  channelOptions?: grpc.ChannelOptions;
}

/** Per-call override of the deadline. */
export interface CallOptions {
  timeoutMs?: number;
}

export class CriClient {
  readonly endpoint: string;
  readonly timeouts: CriTimeouts;
  private readonly transport: GrpcTransport;
  private readonly runtime: protoLoader.ServiceDefinition;
  private readonly images: protoLoader.ServiceDefinition;

  /** `endpoint`: unix:///run/containerd/containerd.sock (a bare absolute path is accepted too). No I/O until the first call. */
  constructor(endpoint: string, options: CriClientOptions = {}) {
    const def = loadProto(CRI_PROTO);
    this.runtime = serviceDefinition(def, RUNTIME_SERVICE);
    this.images = serviceDefinition(def, IMAGE_SERVICE);
    this.timeouts = { ...DEFAULT_CRI_TIMEOUTS, ...options.timeouts };
    this.transport = new GrpcTransport(endpoint, (init) => new CriError(init), options.channelOptions);
    this.endpoint = this.transport.endpoint;
  }

  close(): void {
    this.transport.close();
  }

  private rt<A>(method: string, req: object, codec: t.Decoder<unknown, A>, timeoutMs?: number): Promise<A> {
    return this.transport.unary(this.runtime, 'RuntimeService', method, req, timeoutMs ?? this.timeouts.defaultMs, codec);
  }

  private img<A>(method: string, req: object, codec: t.Decoder<unknown, A>, timeoutMs?: number): Promise<A> {
    return this.transport.unary(this.images, 'ImageService', method, req, timeoutMs ?? this.timeouts.defaultMs, codec);
  }

  // ------------------------------------------------------------------ RuntimeService

  version(opts: CallOptions = {}): Promise<C.VersionResponse> {
    return this.rt('Version', { version: 'v1' }, C.VersionResponse, opts.timeoutMs);
  }

  status(opts: CallOptions = {}): Promise<C.RuntimeStatus> {
    return this.rt('Status', { verbose: false }, C.StatusResponse, opts.timeoutMs);
  }

  /** The runtime's verbose status info (free-form; containerd puts its CRI config under `config`). */
  statusInfo(opts: CallOptions = {}): Promise<Record<string, string>> {
    return this.rt('Status', { verbose: true }, C.StatusInfoResponse, opts.timeoutMs);
  }

  /** Returns the sandbox id. */
  runPodSandbox(config: PodSandboxConfig, runtimeHandler = '', opts: CallOptions = {}): Promise<string> {
    return this.rt('RunPodSandbox', { config, runtimeHandler }, C.RunPodSandboxResponse, opts.timeoutMs);
  }

  stopPodSandbox(podSandboxId: string, opts: CallOptions = {}): Promise<void> {
    return this.rt('StopPodSandbox', { podSandboxId }, C.EmptyResponse, opts.timeoutMs);
  }

  removePodSandbox(podSandboxId: string, opts: CallOptions = {}): Promise<void> {
    return this.rt('RemovePodSandbox', { podSandboxId }, C.EmptyResponse, opts.timeoutMs);
  }

  podSandboxStatus(podSandboxId: string, opts: CallOptions = {}): Promise<C.PodSandboxStatus> {
    return this.rt('PodSandboxStatus', { podSandboxId, verbose: false }, C.PodSandboxStatusResponse, opts.timeoutMs);
  }

  listPodSandbox(filter: PodSandboxFilter = {}, opts: CallOptions = {}): Promise<C.PodSandboxSummary[]> {
    const f = { id: filter.id ?? '', labelSelector: filter.labelSelector ?? {}, state: filter.state === undefined ? null : { state: filter.state } };
    return this.rt('ListPodSandbox', { filter: f }, C.ListPodSandboxResponse, opts.timeoutMs);
  }

  /** Returns the container id. `sandboxConfig` must be the config the sandbox was run with. */
  createContainer(podSandboxId: string, config: ContainerConfig, sandboxConfig: PodSandboxConfig, opts: CallOptions = {}): Promise<string> {
    // KeyValue.value is `bytes` in CRI v1: proto-loader would read a string as base64, so pass bytes.
    const wire = { ...config, envs: (config.envs ?? []).map((e) => ({ key: e.key, value: Buffer.from(e.value, 'utf8') })) };
    return this.rt('CreateContainer', { podSandboxId, config: wire, sandboxConfig }, C.CreateContainerResponse, opts.timeoutMs);
  }

  startContainer(containerId: string, opts: CallOptions = {}): Promise<void> {
    return this.rt('StartContainer', { containerId }, C.EmptyResponse, opts.timeoutMs);
  }

  /** `timeoutSeconds` is the grace period before SIGKILL; the deadline is the grace period plus the default. */
  stopContainer(containerId: string, timeoutSeconds: number, opts: CallOptions = {}): Promise<void> {
    const deadline = opts.timeoutMs ?? Math.max(0, timeoutSeconds) * 1000 + this.timeouts.defaultMs;
    return this.rt('StopContainer', { containerId, timeout: Math.max(0, Math.floor(timeoutSeconds)) }, C.EmptyResponse, deadline);
  }

  removeContainer(containerId: string, opts: CallOptions = {}): Promise<void> {
    return this.rt('RemoveContainer', { containerId }, C.EmptyResponse, opts.timeoutMs);
  }

  listContainers(filter: ContainerFilter = {}, opts: CallOptions = {}): Promise<C.ContainerSummary[]> {
    const f = {
      id: filter.id ?? '',
      podSandboxId: filter.podSandboxId ?? '',
      labelSelector: filter.labelSelector ?? {},
      state: filter.state === undefined ? null : { state: filter.state },
    };
    return this.rt('ListContainers', { filter: f }, C.ListContainersResponse, opts.timeoutMs);
  }

  containerStatus(containerId: string, opts: CallOptions = {}): Promise<C.ContainerStatus> {
    return this.rt('ContainerStatus', { containerId, verbose: false }, C.ContainerStatusResponse, opts.timeoutMs);
  }

  /**
   * Run `cmd` in the container and wait for it. `timeoutSeconds` is the runtime's own timeout
   * (0 = none); the call's deadline is that timeout (or the default when 0) plus the margin.
   */
  execSync(containerId: string, cmd: string[], timeoutSeconds: number, opts: CallOptions = {}): Promise<C.ExecSyncResult> {
    const t = Math.max(0, Math.floor(timeoutSeconds));
    const deadline = opts.timeoutMs ?? (t > 0 ? t * 1000 : this.timeouts.defaultMs) + this.timeouts.marginMs;
    return this.rt('ExecSync', { containerId, cmd, timeout: t }, C.ExecSyncResponse, deadline);
  }

  /** The streaming URL for an interactive exec (the kubelet API proxies the client's upgrade to it). */
  exec(req: { containerId: string; cmd: string[]; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, opts: CallOptions = {}): Promise<string> {
    return this.rt('Exec', req, C.StreamingUrlResponse, opts.timeoutMs);
  }

  attach(req: { containerId: string; tty: boolean; stdin: boolean; stdout: boolean; stderr: boolean }, opts: CallOptions = {}): Promise<string> {
    return this.rt('Attach', req, C.StreamingUrlResponse, opts.timeoutMs);
  }

  portForward(req: { podSandboxId: string; port: number[] }, opts: CallOptions = {}): Promise<string> {
    return this.rt('PortForward', req, C.StreamingUrlResponse, opts.timeoutMs);
  }

  /** Stats of every container (the eviction manager ranks pods by what they use). */
  listContainerStats(opts: CallOptions = {}): Promise<C.ContainerStats[]> {
    return this.rt('ListContainerStats', { filter: {} }, C.ListContainerStatsResponse, opts.timeoutMs);
  }

  containerStats(containerId: string, opts: CallOptions = {}): Promise<C.ContainerStats> {
    return this.rt('ContainerStats', { containerId }, C.ContainerStatsResponse, opts.timeoutMs);
  }

  /** Stats of every pod sandbox: the pod cgroup, network and process count (summary API, /metrics/resource). */
  listPodSandboxStats(opts: CallOptions = {}): Promise<C.PodSandboxStats[]> {
    return this.rt('ListPodSandboxStats', { filter: {} }, C.ListPodSandboxStatsResponse, opts.timeoutMs);
  }

  /** Asks the runtime to start writing the container's log file anew (after it was rotated away). */
  reopenContainerLog(containerId: string, opts: CallOptions = {}): Promise<void> {
    return this.rt('ReopenContainerLog', { containerId }, C.EmptyResponse, opts.timeoutMs);
  }

  updateRuntimeConfig(podCidr: string, opts: CallOptions = {}): Promise<void> {
    return this.rt('UpdateRuntimeConfig', { runtimeConfig: { networkConfig: { podCidr } } }, C.EmptyResponse, opts.timeoutMs);
  }

  // ------------------------------------------------------------------ ImageService

  /** Returns the image ref (digest or id) the runtime resolved. */
  pullImage(image: ImageSpecInput, auth?: AuthConfig, sandboxConfig?: PodSandboxConfig, opts: CallOptions = {}): Promise<string> {
    const req = { image, auth: auth ?? null, sandboxConfig: sandboxConfig ?? null };
    return this.img('PullImage', req, C.PullImageResponse, opts.timeoutMs ?? this.timeouts.pullImageMs);
  }

  /** undefined when the runtime does not have the image. */
  imageStatus(image: ImageSpecInput, opts: CallOptions = {}): Promise<C.Image | undefined> {
    return this.img('ImageStatus', { image, verbose: false }, C.ImageStatusResponse, opts.timeoutMs);
  }

  listImages(image?: ImageSpecInput, opts: CallOptions = {}): Promise<C.Image[]> {
    return this.img('ListImages', { filter: image ? { image } : null }, C.ListImagesResponse, opts.timeoutMs);
  }

  removeImage(image: ImageSpecInput, opts: CallOptions = {}): Promise<void> {
    return this.img('RemoveImage', { image }, C.EmptyResponse, opts.timeoutMs);
  }

  imageFsInfo(opts: CallOptions = {}): Promise<C.ImageFsInfo> {
    return this.img('ImageFsInfo', {}, C.ImageFsInfoResponse, opts.timeoutMs);
  }
}
