// When a projected service-account token must be replaced, as upstream's token manager decides:
// after 80% of its lifetime (or 24 h since it was issued, whichever comes first). The times come
// from the token's own claims (iat, exp and, for a token the API server extended, the
// kubernetes.io warnafter claim, which is the expiry that was asked for); the token is never logged.
import { readFile } from 'node:fs/promises';
import { join } from 'node:path';
import { DATA_DIR } from './atomic-writer.ts';

export interface TokenTimes {
  issuedAt: number; // ms since epoch
  /** the expiry asked for (warnafter when the API server extended it) */
  expiresAt: number;
}

export function tokenTimes(token: Buffer | string): TokenTimes | undefined {
  const parts = token.toString('utf8').trim().split('.');
  if (parts.length !== 3) return undefined;
  try {
    const claims = JSON.parse(Buffer.from(parts[1], 'base64url').toString('utf8')) as { iat?: number; exp?: number; 'kubernetes.io'?: { warnafter?: number } };
    if (typeof claims.iat !== 'number' || typeof claims.exp !== 'number') return undefined;
    const warn = claims['kubernetes.io']?.warnafter;
    return { issuedAt: claims.iat * 1000, expiresAt: (typeof warn === 'number' && warn < claims.exp ? warn : claims.exp) * 1000 };
  } catch {
    return undefined;
  }
}

const MAX_TTL_MS = 24 * 3600_000;

/** The moment the token is due for rotation (80% of its lifetime, at most 24 h after issue). */
export function refreshAt(t: TokenTimes): number {
  return Math.min(t.issuedAt + 0.8 * (t.expiresAt - t.issuedAt), t.issuedAt + MAX_TTL_MS);
}

export function tokenDue(token: Buffer | string, now: Date): boolean {
  const t = tokenTimes(token);
  return !t || now.getTime() >= refreshAt(t);
}

/** The token currently projected at `path` in the volume directory, if any. */
export async function tokenOnDisk(volumeDir: string, path: string): Promise<Buffer | undefined> {
  return readFile(join(volumeDir, DATA_DIR, path)).catch(() => undefined);
}
