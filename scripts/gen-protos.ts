// Puts the CRI v1 and CSI v1 .proto files into gen/proto/ (gitignored; shipped in the release).
// Needs Node alone, not Go: each file comes out of its Go module's zip, taken from the Go module
// cache when one is there, else downloaded from the Go module proxy ($GOPROXY, default
// proxy.golang.org). The zip is checked against the module's pinned go.sum hash (h1:, the
// SHA-256 "dirhash" Go computes) before anything is read from it, so a proxy cannot hand us
// another file. Idempotent: an up-to-date output is left alone.
//   gen/proto/cri/api.proto  <- k8s.io/cri-api                          pkg/apis/runtime/v1/api.proto
//   gen/proto/csi/csi.proto  <- github.com/container-storage-interface/spec  csi.proto
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, renameSync, writeFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join } from 'node:path';
import yauzl from 'yauzl';

interface PinnedProto {
  module: string;
  version: string;
  /** go.sum's h1: hash of the module zip. */
  h1: string;
  file: string;
  dest: string;
}

// Bumping a version means bumping its h1 too (from go.sum or `go mod download -json`).
const PROTOS: readonly PinnedProto[] = [
  { module: 'k8s.io/cri-api', version: 'v0.36.3', h1: 'h1:QFEMKGim6DSdlaW3JwpjVCjUQgTnkKG7i3McAaBW6Fo=', file: 'pkg/apis/runtime/v1/api.proto', dest: 'cri/api.proto' },
  { module: 'github.com/container-storage-interface/spec', version: 'v1.12.0', h1: 'h1:zrFOEqpR5AghNaaDG4qyedwPBqU2fU0dWjLQMP/azK0=', file: 'csi.proto', dest: 'csi/csi.proto' },
];

const root = join(dirname(new URL(import.meta.url).pathname), '..');
// GEN_PROTO_DIR: another output directory (the tests use one of their own).
const out = process.env.GEN_PROTO_DIR ?? join(root, 'gen', 'proto');

/** Go's module path escaping: an upper-case letter becomes '!' and its lower case. */
function escapePath(p: string): string {
  return p.replace(/[A-Z]/g, (c) => `!${c.toLowerCase()}`);
}

function modCache(): string {
  if (process.env.GOMODCACHE) return process.env.GOMODCACHE;
  return join(process.env.GOPATH?.split(':')[0] ?? join(homedir(), 'go'), 'pkg', 'mod');
}

/** The first proxy URL in $GOPROXY (entries are separated by ',' or '|'; 'direct'/'off' are not URLs). */
function proxyUrl(): string {
  const entries = (process.env.GOPROXY ?? 'https://proxy.golang.org').split(/[,|]/).map((s) => s.trim());
  const url = entries.find((e) => /^https?:\/\//.test(e));
  if (!url) throw new Error(`gen-protos: GOPROXY (${process.env.GOPROXY}) names no proxy URL to download from`);
  return url.replace(/\/$/, '');
}

async function moduleZip(p: PinnedProto): Promise<Buffer> {
  const rel = `${escapePath(p.module)}/@v/${p.version}.zip`;
  const cached = join(modCache(), 'cache', 'download', rel);
  if (existsSync(cached)) return readFileSync(cached);
  const url = `${proxyUrl()}/${rel}`;
  const res = await fetch(url);
  if (!res.ok) throw new Error(`gen-protos: GET ${url}: ${res.status} ${res.statusText}`);
  return Buffer.from(await res.arrayBuffer());
}

/** Every regular file of a zip, by name. */
function readZip(zip: Buffer): Promise<Map<string, Buffer>> {
  return new Promise((resolve, reject) => {
    yauzl.fromBuffer(zip, { lazyEntries: true }, (err, z) => {
      if (err) return reject(err);
      const files = new Map<string, Buffer>();
      z.on('error', reject);
      z.on('end', () => resolve(files));
      z.on('entry', (entry: yauzl.Entry) => {
        if (entry.fileName.endsWith('/')) return z.readEntry();
        z.openReadStream(entry, (e, stream) => {
          if (e) return reject(e);
          const chunks: Buffer[] = [];
          stream.on('data', (c: Buffer) => chunks.push(c));
          stream.on('error', reject);
          stream.on('end', () => { files.set(entry.fileName, Buffer.concat(chunks)); z.readEntry(); });
        });
      });
      z.readEntry();
    });
  });
}

/** Go's dirhash.Hash1: sha256 over sorted "<sha256 hex>  <name>\n" lines, base64. */
export function hash1(files: Map<string, Buffer>): string {
  const lines = [...files.keys()].sort().map((name) => {
    if (name.includes('\n')) throw new Error(`gen-protos: file name with a newline in a module zip: ${JSON.stringify(name)}`);
    return `${createHash('sha256').update(files.get(name) ?? Buffer.alloc(0)).digest('hex')}  ${name}\n`;
  });
  return `h1:${createHash('sha256').update(lines.join('')).digest('base64')}`;
}

/** proto-loader cannot resolve gogoproto imports and options; they carry no wire meaning. */
function stripGogo(text: string): string {
  return text
    .replace(/^import "github\.com\/gogo\/protobuf\/gogoproto\/gogo\.proto";\n/gm, '')
    .replace(/^option \(gogoproto\.[a-z_]*\) = [a-z]*;\n/gm, '')
    .replace(/ *\[\(gogoproto\.[a-z_]*\) = [^\]]*\]/g, '');
}

function writeIfChanged(file: string, content: string): void {
  if (existsSync(file) && readFileSync(file, 'utf8') === content) return;
  mkdirSync(dirname(file), { recursive: true });
  writeFileSync(`${file}.tmp`, content, { mode: 0o644 });
  renameSync(`${file}.tmp`, file);
}

async function main(): Promise<void> {
  for (const p of PROTOS) {
    const files = await readZip(await moduleZip(p));
    const got = hash1(files);
    if (got !== p.h1) throw new Error(`gen-protos: ${p.module}@${p.version}: module zip hash ${got}, pinned ${p.h1}; refusing it`);
    const src = files.get(`${p.module}@${p.version}/${p.file}`);
    if (!src) throw new Error(`gen-protos: ${p.file} is not in ${p.module}@${p.version}`);
    writeIfChanged(join(out, p.dest), stripGogo(src.toString('utf8')));
    console.log(`gen-protos: ${join(out, p.dest)} (${p.module} ${p.version})`);
  }
  writeIfChanged(join(out, 'VERSIONS'), `cri-api ${PROTOS[0]?.version}\ncsi-spec ${PROTOS[1]?.version}\n`);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  main().catch((e: Error) => { console.error(e.message); process.exit(1); });
}
