// The log store adapter: where the log lives under the agent's root directory, and the store itself.
import { join } from 'node:path';

/** The log database lives at <root-dir>/log. */
export function logDir(rootDir: string): string {
  return join(rootDir, 'log');
}

export { LogStore, LogStoreError, LogDamagedError, isCorruption } from './log-store.ts';
export type { LogDamage, LogStoreOptions, RetentionPolicy, RetentionResult, SeqRange, SnapshotInput } from './log-store.ts';
export type { Snapshot, SnapshotHead, SnapshotRead } from './snapshot-codec.ts';
export type { HorizonMeta } from './meta-codec.ts';
