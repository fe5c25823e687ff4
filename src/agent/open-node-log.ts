// The agent's log at start-up. A log whose start-up read fails on damage (LevelDB corruption in
// what replay would fold, or in its records) cannot be the node's truth: it is moved aside for
// forensics (`log.corrupt-<time>`, never deleted), and a new log starts whose first entry names
// it. The node's view is then rebuilt level-triggered, as after any restart: the runtime relist and
// the API list say what runs and what should; running containers are adopted, not recreated.
import { rename } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { LogDamagedError, LogStore, logDir } from '../adapters/store/index.ts';
import { LOG_MOVED_ASIDE, type LogMovedAside } from '../model/log-damage.ts';

/** Where replay will start: just after the newest readable snapshot it may use. */
async function replayStart(store: LogStore): Promise<number> {
  for await (const snap of store.snapshotsNewestFirst(store.lastSeq)) {
    if (!snap.ok) continue; // replay falls back past it; that costs time, not state
    if (snap.snapshot.seq + 1 >= store.firstSeq) return snap.snapshot.seq + 1;
    break;
  }
  if (store.firstSeq > 1) throw new LogDamagedError(`no readable snapshot at the retention horizon (seq ${store.firstSeq - 1})`);
  return 1;
}

export async function openNodeLog(rootDir: string, log: Logger, now: () => Date): Promise<LogStore> {
  const dir = logDir(rootDir);
  let store: LogStore | undefined;
  try {
    store = await LogStore.open(dir);
    await store.checkReadable(await replayStart(store));
    return store;
  } catch (err) {
    await store?.close().catch(() => undefined);
    if (!(err instanceof LogDamagedError)) throw err;
    const forensicCopy = join(rootDir, `log.corrupt-${now().toISOString().replace(/:/g, '-')}`);
    await rename(dir, forensicCopy);
    log.error({ forensicCopy, err: err.message }, 'the node log is damaged: moved aside, starting a new log; pods are rebuilt from the runtime and the API server');
    const fresh = await LogStore.open(dir);
    const data: LogMovedAside = { forensicCopy, error: err.message };
    await fresh.append([{ kind: 'observation', type: LOG_MOVED_ASIDE, source: 'agent', data, at: now() }]);
    return fresh;
  }
}
