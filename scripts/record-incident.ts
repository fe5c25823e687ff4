// Moves a recorded incident between a root directory and a JSON-lines file of entries:
//   export ROOT        print every entry of <ROOT>/log as one JSON line each (oldest first)
//   import FILE ROOT   rebuild <ROOT>/log from such a file (tests replay the committed fixture)
// Entries are written through LogStore.append in order, so seq and time come out as recorded.
import { readFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { LogStore, logDir } from '../src/adapters/store/index.ts';
import { encodeEntry } from '../src/model/entry-codec.ts';
import type { AppendDraft, Entry } from '../src/model/entry.ts';

const BATCH = 200;

export async function exportEntries(rootDir: string, out: (line: string) => void): Promise<number> {
  const store = await LogStore.open(logDir(rootDir), { createIfMissing: false });
  let n = 0;
  try {
    for await (const r of store.readRange()) {
      if (!r.ok) throw new Error(`entry #${r.seq} cannot be read: ${r.error}`);
      out(encodeEntry(r.entry));
      n++;
    }
  } finally {
    await store.close();
  }
  return n;
}

export function parseEntries(text: string): Entry[] {
  return text.split('\n').filter((l) => l.trim() !== '').map((l, i) => {
    try {
      return JSON.parse(l) as Entry;
    } catch (e) {
      throw new Error(`line ${i + 1}: ${(e as Error).message}`);
    }
  });
}

/** Write the entries into a fresh log at <rootDir>/log; refuses a log that is not empty. */
export async function importEntries(entries: readonly Entry[], rootDir: string): Promise<void> {
  const store = await LogStore.open(logDir(rootDir));
  try {
    if (store.lastSeq !== 0) throw new Error(`${logDir(rootDir)} already holds ${store.lastSeq} entries`);
    for (let i = 0; i < entries.length; i += BATCH) {
      const chunk = entries.slice(i, i + BATCH);
      const drafts: AppendDraft[] = chunk.map((e) => ({ kind: e.kind, type: e.type, source: e.source, data: e.data, pod: e.pod, cause: e.cause, reason: e.reason, at: e.at }));
      const written = await store.append(drafts);
      written.forEach((w, j) => {
        // The fixture must come back exactly as recorded, or its goldens mean nothing.
        if (w.seq !== chunk[j].seq || w.at !== chunk[j].at) throw new Error(`entry #${chunk[j].seq} came back as #${w.seq} at ${w.at}`);
      });
    }
  } finally {
    await store.close();
  }
}

export async function importFile(file: string, rootDir: string): Promise<number> {
  const entries = parseEntries(await readFile(file, 'utf8'));
  await importEntries(entries, rootDir);
  return entries.length;
}

async function main(argv: string[]): Promise<void> {
  const [cmd, a, b] = argv;
  if (cmd === 'export' && a) await exportEntries(a, (l) => process.stdout.write(l + '\n'));
  else if (cmd === 'import' && a && b) console.error(`imported ${await importFile(a, b)} entries into ${logDir(b)}`);
  else {
    console.error('usage: record-incident.ts export ROOT_DIR > entries.jsonl | import entries.jsonl ROOT_DIR');
    process.exitCode = 2;
  }
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) await main(process.argv.slice(2));
