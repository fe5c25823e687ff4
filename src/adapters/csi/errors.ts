// A failed CSI call: the same shape as CriError (gRPC code, NOT_FOUND recognisable).
import { GrpcAdapterError, type GrpcErrorInit } from '../cri/errors.ts';

export class CsiError extends GrpcAdapterError {
  override readonly name = 'CsiError';
  constructor(init: GrpcErrorInit) {
    super('CSI', init);
  }
}

export function isCsiError(e: unknown): e is CsiError {
  return e instanceof CsiError;
}

export { isNotFound, Status } from '../cri/errors.ts';
