// Child process for the crash test: appends batches forever to the log at argv[2], printing the
// last acknowledged seq after each batch, until the parent kills it with SIGKILL.
import { LogStore } from '../../../src/adapters/store/index.ts';
import { expectedDraft } from './log-crash-content.ts';

const dir = process.argv[2];
const batchSize = Number(process.argv[3] ?? 200);
const store = await LogStore.open(dir);
for (;;) {
  const first = store.lastSeq + 1;
  const drafts = Array.from({ length: batchSize }, (_, i) => expectedDraft(first + i));
  const written = await store.append(drafts);
  process.stdout.write(`${written[written.length - 1].seq}\n`);
}
