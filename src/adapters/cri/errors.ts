// Typed errors of the gRPC adapters (CRI, CSI): every failed call becomes one of these, carrying
// the gRPC status code, so effects can tell "already gone" (NOT_FOUND) from real failures.
import { status as Status } from '@grpc/grpc-js';

/** gRPC status names, as upstream spells them (NOT_FOUND, DEADLINE_EXCEEDED...). */
export function statusName(code: number): string {
  return (Status as unknown as Record<number, string>)[code] ?? `CODE_${code}`;
}

export type GrpcErrorKind =
  /** the runtime answered with a non-OK status (or the channel gave one: UNAVAILABLE, DEADLINE_EXCEEDED) */
  | 'rpc'
  /** the runtime answered OK but the response did not decode */
  | 'decode';

export interface GrpcErrorInit {
  kind: GrpcErrorKind;
  code: number;
  service: string;
  method: string;
  endpoint: string;
  details: string;
  /** for kind 'decode': the readable decode problems */
  problems?: string[];
}

export class GrpcAdapterError extends Error {
  readonly kind: GrpcErrorKind;
  /** gRPC status code (grpc.status); decode failures use INTERNAL */
  readonly code: number;
  /** NOT_FOUND, UNAVAILABLE, DEADLINE_EXCEEDED, ... or INVALID_RESPONSE for decode failures */
  readonly codeName: string;
  readonly service: string;
  readonly method: string;
  readonly endpoint: string;
  /** the server's (or channel's) message, without the "5 NOT_FOUND:" prefix grpc-js adds */
  readonly details: string;
  readonly problems: string[];

  constructor(prefix: string, init: GrpcErrorInit) {
    const codeName = init.kind === 'decode' ? 'INVALID_RESPONSE' : statusName(init.code);
    const what = init.kind === 'decode' ? `response did not decode: ${(init.problems ?? []).join('; ')}` : `${codeName}: ${init.details}`;
    super(`${prefix} ${init.service}/${init.method} on ${init.endpoint} failed: ${what}`);
    this.kind = init.kind;
    this.code = init.code;
    this.codeName = codeName;
    this.service = init.service;
    this.method = init.method;
    this.endpoint = init.endpoint;
    this.details = init.details;
    this.problems = init.problems ?? [];
  }

  isNotFound(): boolean {
    return this.kind === 'rpc' && this.code === Status.NOT_FOUND;
  }
  isUnavailable(): boolean {
    return this.kind === 'rpc' && this.code === Status.UNAVAILABLE;
  }
  isDeadlineExceeded(): boolean {
    return this.kind === 'rpc' && this.code === Status.DEADLINE_EXCEEDED;
  }
  /** Worth retrying later: the runtime was unreachable, slow or overloaded. */
  isTransient(): boolean {
    return this.kind === 'rpc' && [Status.UNAVAILABLE, Status.DEADLINE_EXCEEDED, Status.RESOURCE_EXHAUSTED].includes(this.code);
  }

  /** A plain, log-safe record of the failure (for outcome entries). */
  toJSON(): { kind: GrpcErrorKind; code: number; codeName: string; service: string; method: string; message: string } {
    return { kind: this.kind, code: this.code, codeName: this.codeName, service: this.service, method: this.method, message: this.message };
  }
}

/** A failed CRI call. */
export class CriError extends GrpcAdapterError {
  override readonly name = 'CriError';
  constructor(init: GrpcErrorInit) {
    super('CRI', init);
  }

  /**
   * When RunPodSandbox/CreateContainer failed because the deterministic name is already taken
   * (containerd: `name "..." is reserved for "<id>"`, status UNKNOWN), the id of the existing
   * object, so a replayed intent can adopt it instead of making a second one.
   */
  reservedFor(): string | undefined {
    if (this.kind !== 'rpc') return undefined;
    return /is reserved for "([0-9a-f]{64})"/.exec(this.details)?.[1];
  }
}

export function isCriError(e: unknown): e is CriError {
  return e instanceof CriError;
}

/** True when e says the runtime object does not exist (effects treat "already gone" as done). */
export function isNotFound(e: unknown): boolean {
  return e instanceof GrpcAdapterError && e.isNotFound();
}

export { Status };
