// One gRPC channel to a unix socket and promise-based unary calls with a deadline on every call.
// Shared by the CRI and CSI clients; each passes its own error class.
import * as grpc from '@grpc/grpc-js';
import type * as protoLoader from '@grpc/proto-loader';
import type * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../model/decode.ts';
import { type GrpcAdapterError, type GrpcErrorInit, Status } from './errors.ts';

/** `unix:///run/x.sock` and `unix:/run/x.sock` pass through; a bare absolute path gets `unix://`. */
export function normalizeEndpoint(endpoint: string): string {
  if (endpoint.startsWith('/')) return `unix://${endpoint}`;
  return endpoint;
}

/** Same limits as the upstream kubelet's CRI client (16 MiB messages). */
const DEFAULT_CHANNEL_OPTIONS: grpc.ChannelOptions = {
  'grpc.max_receive_message_length': 16 * 1024 * 1024,
  'grpc.max_send_message_length': 16 * 1024 * 1024,
};

export type ErrorFactory = (init: GrpcErrorInit) => GrpcAdapterError;

interface ServiceErrorLike {
  code?: unknown;
  details?: unknown;
  message?: unknown;
}

export class GrpcTransport {
  readonly endpoint: string;
  private readonly client: grpc.Client;
  private closed = false;

  constructor(endpoint: string, private readonly makeError: ErrorFactory, channelOptions: grpc.ChannelOptions = {}) {
    this.endpoint = normalizeEndpoint(endpoint);
    this.client = new grpc.Client(this.endpoint, grpc.credentials.createInsecure(), { ...DEFAULT_CHANNEL_OPTIONS, ...channelOptions });
  }

  /**
   * One unary call. Resolves with the raw response object (as proto-loader deserialises it);
   * rejects with the adapter's error class, never hangs past `timeoutMs`.
   */
  unaryRaw(service: protoLoader.ServiceDefinition, serviceName: string, method: string, request: object, timeoutMs: number): Promise<unknown> {
    const def = service[method];
    if (!def) return Promise.reject(new Error(`${serviceName} has no method ${method}`));
    const fail = (code: number, details: string): GrpcAdapterError =>
      this.makeError({ kind: 'rpc', code, details, service: serviceName, method, endpoint: this.endpoint });
    if (this.closed) return Promise.reject(fail(Status.CANCELLED, 'client is closed'));
    return new Promise((resolvePromise, rejectPromise) => {
      try {
        this.client.makeUnaryRequest(
          def.path,
          def.requestSerialize as (v: object) => Buffer,
          def.responseDeserialize as (b: Buffer) => unknown,
          request,
          new grpc.Metadata(),
          { deadline: new Date(Date.now() + Math.max(1, timeoutMs)) },
          (err: grpc.ServiceError | null, value?: unknown) => {
            if (err) rejectPromise(this.toError(err, fail));
            else resolvePromise(value ?? {});
          },
        );
      } catch (e) {
        // serialisation of a malformed request throws synchronously in some versions
        rejectPromise(fail(Status.INTERNAL, e instanceof Error ? e.message : String(e)));
      }
    });
  }

  /** A unary call whose response is decoded with `codec`; a decode failure is a typed error too. */
  async unary<A>(
    service: protoLoader.ServiceDefinition,
    serviceName: string,
    method: string,
    request: object,
    timeoutMs: number,
    codec: t.Decoder<unknown, A>,
  ): Promise<A> {
    const raw = await this.unaryRaw(service, serviceName, method, request, timeoutMs);
    const r = decodeWith(codec, raw);
    if (isLeft(r)) {
      throw this.makeError({ kind: 'decode', code: Status.INTERNAL, details: r.left.join('; '), problems: r.left, service: serviceName, method, endpoint: this.endpoint });
    }
    return r.right;
  }

  private toError(err: ServiceErrorLike, fail: (code: number, details: string) => GrpcAdapterError): GrpcAdapterError {
    const code = typeof err.code === 'number' ? err.code : Status.UNKNOWN;
    const details = typeof err.details === 'string' && err.details !== '' ? err.details : typeof err.message === 'string' ? err.message : 'unknown error';
    return fail(code, details);
  }

  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.client.close();
  }
}
