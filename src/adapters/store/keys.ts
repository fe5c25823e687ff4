// Key layout of the log database (by-pod values list the seqs of one pod in one batch). Sequence numbers are zero-padded so that byte order equals
// numeric order (LevelDB iterates keys in byte order).
const SEQ_WIDTH = 16;

export function seqKey(seq: number): string {
  return String(seq).padStart(SEQ_WIDTH, '0');
}

/** NaN when the key is not a padded sequence number. */
export function parseSeqKey(key: string): number {
  return key.length === SEQ_WIDTH && /^\d+$/.test(key) ? Number(key) : NaN;
}

/** by-pod key: uid, a separator that cannot appear in a uid's padded suffix, then the seq. */
export function podKey(uid: string, seq: number): string {
  return `${uid}:${seqKey(seq)}`;
}

/** Range bounds for every index key of one pod; the seq suffix is validated when read. */
export function podKeyRange(uid: string, from?: number, to?: number): { gte: string; lte: string } {
  return { gte: podKey(uid, from ?? 0), lte: podKey(uid, to ?? Number.MAX_SAFE_INTEGER) };
}

export function parsePodKey(uid: string, key: string): number {
  return key.startsWith(`${uid}:`) ? parseSeqKey(key.slice(uid.length + 1)) : NaN;
}

export const snapshotHeadKey = (seq: number) => `head:${seqKey(seq)}`;
export const snapshotBodyKey = (seq: number) => `body:${seqKey(seq)}`;
