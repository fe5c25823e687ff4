// A LogSource over the log in an agent's root directory (a stopped agent's, or a copy of it).
// When a running agent holds the LevelDB lock, the same questions go to its local endpoint.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { LogStore, LogStoreError, logDir } from '../adapters/store/index.ts';
import { agentEndpoint } from './endpoint.ts';
import { LOCAL_API_SOCKET, PostmortemError, type LogSource } from './source.ts';
import { podsSeen, queryEntries, seqAtOrBefore, stateAt, storeBounds, firstRetainedAt } from './store-queries.ts';

export function storeSource(store: LogStore, origin: string, closeStore: boolean): LogSource {
  return {
    origin,
    bounds: async () => {
      const b = storeBounds(store);
      return { ...b, firstAt: b.firstAt ?? (await firstRetainedAt(store)) };
    },
    entries: (q = {}) => queryEntries(store, q),
    entry: (seq) => store.getEntry(seq),
    seqAtOrBefore: (iso) => seqAtOrBefore(store, iso),
    pods: () => podsSeen(store),
    stateAt: (seq) => stateAt(store, seq),
    close: async () => {
      if (closeStore) await store.close();
    },
  };
}

export async function openRootDir(rootDir: string): Promise<LogSource> {
  try {
    const store = await LogStore.open(logDir(rootDir), { createIfMissing: false });
    return storeSource(store, `log at ${logDir(rootDir)}`, true);
  } catch (err) {
    const locked = err instanceof LogStoreError && /locked by another process/.test(err.message);
    const socket = join(rootDir, LOCAL_API_SOCKET);
    if (locked && existsSync(socket)) return agentEndpoint(socket);
    if (locked) throw new PostmortemError(`${err.message}; and the agent has no local endpoint at ${socket}`);
    throw new PostmortemError((err as Error).message);
  }
}
