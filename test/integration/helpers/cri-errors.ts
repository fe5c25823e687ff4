// Asserts that a CRI call fails with the adapter's typed error, and returns it for closer checks.
import { expect } from 'chai';
import { CriError } from '../../../src/adapters/cri/errors.ts';

export async function expectCriError(p: Promise<unknown>): Promise<CriError> {
  try {
    await p;
  } catch (e) {
    expect(e).to.be.instanceOf(CriError, String(e));
    return e as CriError;
  }
  throw new Error('expected the call to fail');
}
