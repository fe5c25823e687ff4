// Real damage to a LevelDB directory: bytes flipped inside a table file (.ldb), as a bad sector
// or a torn copy leaves them. Used by the unit and integration tests of damaged logs.
import { createHash } from 'node:crypto';
import { closeSync, openSync, readdirSync, readFileSync, statSync, writeSync } from 'node:fs';
import { join, relative } from 'node:path';

/** The largest .ldb table in dir (throws when there is none: the test must make one first). */
export function largestTable(dir: string): string {
  const tables = readdirSync(dir).filter((f) => f.endsWith('.ldb')).map((f) => ({ f, size: statSync(join(dir, f)).size }));
  if (tables.length === 0) throw new Error(`no .ldb table in ${dir}: append more entries or reopen the log so LevelDB writes one`);
  return join(dir, tables.sort((a, b) => b.size - a.size)[0].f);
}

/** Invert `count` bytes at `fraction` of the file's length; returns the file and offset. */
export function flipBytes(file: string, fraction = 0.45, count = 64): { file: string; offset: number } {
  const size = statSync(file).size;
  const offset = Math.floor(size * fraction);
  const buf = readFileSync(file).subarray(offset, offset + count);
  const flipped = Buffer.from(buf.map((b) => b ^ 0xff));
  const fd = openSync(file, 'r+');
  try {
    writeSync(fd, flipped, 0, flipped.length, offset);
  } finally {
    closeSync(fd);
  }
  return { file, offset };
}

/** sha256 of every file under dir, by relative path: equal maps mean nothing was written. */
export function hashTree(dir: string): Record<string, string> {
  const out: Record<string, string> = {};
  const walk = (d: string) => {
    for (const name of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, name.name);
      if (name.isDirectory()) walk(p);
      else if (name.isFile()) out[relative(dir, p)] = createHash('sha256').update(readFileSync(p)).digest('hex');
    }
  };
  walk(dir);
  return out;
}
