// A thin, typed, promise-based CSI v1 client (Identity + Node services) over one gRPC channel to
// the plugin's unix socket. Same transport, deadlines and error shape as the CRI client.
import type * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import type * as t from 'io-ts';
import { GrpcTransport } from '../cri/grpc.ts';
import { CSI_PROTO, loadProto, serviceDefinition } from '../cri/proto.ts';
import * as C from './codecs.ts';
import { CsiError } from './errors.ts';
import type { NodePublishVolumeRequest, NodeStageVolumeRequest, NodeUnpublishVolumeRequest, NodeUnstageVolumeRequest } from './types.ts';

export const IDENTITY_SERVICE = 'csi.v1.Identity';
export const NODE_SERVICE = 'csi.v1.Node';

export interface CsiTimeouts {
  /** Identity calls, NodeGetInfo, NodeGetCapabilities (ms) */
  defaultMs: number;
  /** NodeStage/Unstage/Publish/UnpublishVolume (ms); upstream's csiTimeout is 2 min */
  volumeMs: number;
}

export const DEFAULT_CSI_TIMEOUTS: CsiTimeouts = { defaultMs: 30_000, volumeMs: 120_000 };

export interface CsiClientOptions {
  timeouts?: Partial<CsiTimeouts>;
  channelOptions?: grpc.ChannelOptions;
}

export interface CallOptions {
  timeoutMs?: number;
}

export class CsiClient {
  readonly endpoint: string;
  readonly timeouts: CsiTimeouts;
  private readonly transport: GrpcTransport;
  private readonly identity: protoLoader.ServiceDefinition;
  private readonly node: protoLoader.ServiceDefinition;

  /** `endpoint`: unix:///var/lib/kubelet/plugins/<driver>/csi.sock (a bare absolute path is accepted). */
  constructor(endpoint: string, options: CsiClientOptions = {}) {
    const def = loadProto(CSI_PROTO);
    this.identity = serviceDefinition(def, IDENTITY_SERVICE);
    this.node = serviceDefinition(def, NODE_SERVICE);
    this.timeouts = { ...DEFAULT_CSI_TIMEOUTS, ...options.timeouts };
    this.transport = new GrpcTransport(endpoint, (init) => new CsiError(init), options.channelOptions);
    this.endpoint = this.transport.endpoint;
  }

  close(): void {
    this.transport.close();
  }

  private id<A>(method: string, req: object, codec: t.Decoder<unknown, A>, timeoutMs?: number): Promise<A> {
    return this.transport.unary(this.identity, 'Identity', method, req, timeoutMs ?? this.timeouts.defaultMs, codec);
  }

  private nd<A>(method: string, req: object, codec: t.Decoder<unknown, A>, timeoutMs: number): Promise<A> {
    return this.transport.unary(this.node, 'Node', method, req, timeoutMs, codec);
  }

  // ------------------------------------------------------------------ Identity

  getPluginInfo(opts: CallOptions = {}): Promise<C.PluginInfo> {
    return this.id('GetPluginInfo', {}, C.PluginInfo, opts.timeoutMs);
  }

  getPluginCapabilities(opts: CallOptions = {}): Promise<C.PluginCapabilities> {
    return this.id('GetPluginCapabilities', {}, C.PluginCapabilities, opts.timeoutMs);
  }

  probe(opts: CallOptions = {}): Promise<C.ProbeResult> {
    return this.id('Probe', {}, C.ProbeResponse, opts.timeoutMs);
  }

  // ------------------------------------------------------------------ Node

  nodeGetInfo(opts: CallOptions = {}): Promise<C.NodeInfo> {
    return this.nd('NodeGetInfo', {}, C.NodeGetInfoResponse, opts.timeoutMs ?? this.timeouts.defaultMs);
  }

  nodeGetCapabilities(opts: CallOptions = {}): Promise<string[]> {
    return this.nd('NodeGetCapabilities', {}, C.NodeGetCapabilitiesResponse, opts.timeoutMs ?? this.timeouts.defaultMs);
  }

  nodeStageVolume(req: NodeStageVolumeRequest, opts: CallOptions = {}): Promise<void> {
    return this.nd('NodeStageVolume', req, C.EmptyResponse, opts.timeoutMs ?? this.timeouts.volumeMs);
  }

  nodeUnstageVolume(req: NodeUnstageVolumeRequest, opts: CallOptions = {}): Promise<void> {
    return this.nd('NodeUnstageVolume', req, C.EmptyResponse, opts.timeoutMs ?? this.timeouts.volumeMs);
  }

  nodePublishVolume(req: NodePublishVolumeRequest, opts: CallOptions = {}): Promise<void> {
    return this.nd('NodePublishVolume', req, C.EmptyResponse, opts.timeoutMs ?? this.timeouts.volumeMs);
  }

  nodeUnpublishVolume(req: NodeUnpublishVolumeRequest, opts: CallOptions = {}): Promise<void> {
    return this.nd('NodeUnpublishVolume', req, C.EmptyResponse, opts.timeoutMs ?? this.timeouts.volumeMs);
  }
}
