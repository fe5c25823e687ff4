// Every failure of an API-server call becomes a KubeApiError: callers branch on `kind`
// (and `status`) instead of digging through client-library exception shapes.
import * as t from 'io-ts';
import { isRight } from 'fp-ts/lib/Either.js';

export type KubeApiErrorKind =
  | 'NotFound' // 404
  | 'AlreadyExists' // 409 with reason AlreadyExists
  | 'Conflict' // 409 (optimistic concurrency: stale resourceVersion, uid precondition)
  | 'Gone' // 410 (resourceVersion too old: relist)
  | 'Forbidden' // 403 (RBAC, Node authorizer, NodeRestriction)
  | 'Unauthorized' // 401
  | 'Invalid' // 422 (validation, immutable field such as a uid precondition in a patch)
  | 'BadRequest' // 400
  | 'TooManyRequests' // 429
  | 'ServerError' // 5xx
  | 'Unreachable' // no HTTP answer at all: refused, reset, DNS, TLS, timeout
  | 'Unknown';

/** The metav1.Status body the API server sends with an error (only the fields we use). */
export const StatusBody = t.partial({
  kind: t.string,
  status: t.string,
  message: t.string,
  reason: t.string,
  code: t.number,
  details: t.unknown,
});
export type StatusBody = t.TypeOf<typeof StatusBody>;

export class KubeApiError extends Error {
  override readonly name = 'KubeApiError';
  constructor(
    readonly kind: KubeApiErrorKind,
    /** HTTP status code; undefined when the server never answered. */
    readonly status: number | undefined,
    /** metav1.Status.reason from the server (NotFound, Conflict, Expired, Forbidden...), or the
     *  system error code (ECONNREFUSED...) when unreachable. */
    readonly reason: string | undefined,
    message: string,
    /** What was being attempted, e.g. "patch pods/status default/web". */
    readonly operation?: string,
  ) {
    super(message);
  }

  /** A compact, log-safe description (never includes request bodies). */
  toJSON(): { kind: KubeApiErrorKind; status?: number; reason?: string; message: string; operation?: string } {
    return {
      kind: this.kind,
      ...(this.status !== undefined ? { status: this.status } : {}),
      ...(this.reason !== undefined ? { reason: this.reason } : {}),
      message: this.message,
      ...(this.operation !== undefined ? { operation: this.operation } : {}),
    };
  }

  /** Worth retrying later with backoff (the server may come back / calm down). */
  get retryable(): boolean {
    return this.kind === 'Unreachable' || this.kind === 'ServerError' || this.kind === 'TooManyRequests';
  }
}

const NETWORK_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EPIPE',
  'ECONNABORTED',
  'UND_ERR_SOCKET',
  'UND_ERR_CONNECT_TIMEOUT',
  'CERT_HAS_EXPIRED',
  'DEPTH_ZERO_SELF_SIGNED_CERT',
  'UNABLE_TO_VERIFY_LEAF_SIGNATURE',
  'ERR_TLS_CERT_ALTNAME_INVALID',
  'ERR_STREAM_PREMATURE_CLOSE',
]);

export function kindForStatus(status: number, reason?: string): KubeApiErrorKind {
  switch (status) {
    case 400:
      return 'BadRequest';
    case 401:
      return 'Unauthorized';
    case 403:
      return 'Forbidden';
    case 404:
      return 'NotFound';
    case 409:
      return reason === 'AlreadyExists' ? 'AlreadyExists' : 'Conflict';
    case 410:
      return 'Gone';
    case 422:
      return 'Invalid';
    case 429:
      return 'TooManyRequests';
    default:
      return status >= 500 ? 'ServerError' : 'Unknown';
  }
}

function parseStatusBody(body: unknown): StatusBody | undefined {
  let value: unknown = body;
  if (typeof body === 'string') {
    try {
      value = JSON.parse(body);
    } catch {
      return body.length > 0 ? { message: body.slice(0, 500) } : undefined;
    }
  }
  if (value === null || typeof value !== 'object') return undefined;
  const decoded = StatusBody.decode(value);
  return isRight(decoded) ? decoded.right : undefined;
}

function prop(o: unknown, key: string): unknown {
  return o !== null && typeof o === 'object' ? (o as Record<string, unknown>)[key] : undefined;
}

/** Build from a metav1.Status object (e.g. a watch ERROR event's object). */
export function fromStatus(statusObj: unknown, operation?: string): KubeApiError {
  const s = parseStatusBody(statusObj) ?? {};
  const code = s.code ?? 0;
  const kind = code ? kindForStatus(code, s.reason) : s.reason === 'Expired' || s.reason === 'Gone' ? 'Gone' : 'Unknown';
  return new KubeApiError(kind, code || undefined, s.reason, s.message ?? 'error status from API server', operation);
}

/**
 * Map anything a @kubernetes/client-node call can throw (ApiException, node-fetch FetchError,
 * a Watch error carrying statusCode, AbortError, plain Error) to a KubeApiError.
 */
export function toKubeApiError(err: unknown, operation?: string): KubeApiError {
  if (err instanceof KubeApiError) return err;
  // ApiException from the generated client: { code, body, headers }
  const code = prop(err, 'code');
  if (typeof code === 'number' && code >= 100 && code < 600) {
    const s = parseStatusBody(prop(err, 'body'));
    const reason = s?.reason;
    return new KubeApiError(kindForStatus(code, reason), code, reason, s?.message ?? httpText(code), operation);
  }
  // Watch: new Error(statusText) with statusCode
  const statusCode = prop(err, 'statusCode');
  if (typeof statusCode === 'number') {
    return new KubeApiError(kindForStatus(statusCode), statusCode, undefined, errMessage(err), operation);
  }
  // node-fetch FetchError / Node system errors: { code: 'ECONNREFUSED', errno, type: 'system' }
  const sysCode = typeof code === 'string' ? code : (prop(prop(err, 'cause'), 'code') as unknown);
  const errType = prop(err, 'type');
  const name = prop(err, 'name');
  if (
    (typeof sysCode === 'string' && (NETWORK_CODES.has(sysCode) || sysCode.startsWith('E'))) ||
    errType === 'system' ||
    errType === 'request-timeout' ||
    name === 'FetchError' ||
    name === 'AbortError' ||
    name === 'TimeoutError'
  ) {
    return new KubeApiError(
      'Unreachable',
      undefined,
      typeof sysCode === 'string' ? sysCode : typeof name === 'string' ? name : undefined,
      errMessage(err),
      operation,
    );
  }
  return new KubeApiError('Unknown', undefined, undefined, errMessage(err), operation);
}

function errMessage(err: unknown): string {
  if (err instanceof Error) return err.message;
  return String(err);
}

function httpText(code: number): string {
  return `HTTP ${code}`;
}

/** Run an API call and rethrow its failure as a KubeApiError. */
export async function call<T>(operation: string, fn: () => Promise<T>): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    throw toKubeApiError(err, operation);
  }
}

export const isNotFound = (e: unknown): boolean => e instanceof KubeApiError && e.kind === 'NotFound';
export const isAlreadyExists = (e: unknown): boolean => e instanceof KubeApiError && e.kind === 'AlreadyExists';
export const isConflict = (e: unknown): boolean => e instanceof KubeApiError && e.kind === 'Conflict';
export const isGone = (e: unknown): boolean => e instanceof KubeApiError && e.kind === 'Gone';
export const isForbidden = (e: unknown): boolean => e instanceof KubeApiError && e.kind === 'Forbidden';
export const isUnreachable = (e: unknown): boolean => e instanceof KubeApiError && e.kind === 'Unreachable';
