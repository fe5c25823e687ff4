// A LogSource over the log in an agent's root directory (a stopped agent's, or a copy of it).
// The log is read from a private copy (LogStore's read-only mode), so reading never changes what
// is read: a forensic copy stays byte-identical. When a running agent answers on its local
// endpoint, the questions go there instead (its log is live and LevelDB-locked).
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { join } from 'node:path';
import { LogStore, logDir } from '../adapters/store/index.ts';
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
    damage: () => store.damage.map((d) => `${d.where}: ${d.error}`),
    close: async () => {
      if (closeStore) await store.close();
    },
  };
}

/** Does an agent answer on this socket? (A stale socket file of a killed agent does not.) */
function answers(socket: string): Promise<boolean> {
  return new Promise((resolve) => {
    const c = connect(socket);
    c.once('connect', () => {
      c.destroy();
      resolve(true);
    });
    c.once('error', () => resolve(false));
  });
}

export async function openRootDir(rootDir: string): Promise<LogSource> {
  const socket = join(rootDir, LOCAL_API_SOCKET);
  if (existsSync(socket) && (await answers(socket))) return agentEndpoint(socket);
  try {
    const store = await LogStore.open(logDir(rootDir), { readOnly: true });
    return storeSource(store, `log at ${logDir(rootDir)}`, true);
  } catch (err) {
    throw new PostmortemError((err as Error).message);
  }
}
