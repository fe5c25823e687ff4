// scripts/gen-protos without Go: the CRI and CSI protos come out of their Go module zips, served
// here by a local stand-in for the Go module proxy (GOPROXY) with an empty module cache. The real
// zip (from this machine's Go module cache, which the testbed's Go builds filled) gives the same
// files as the checkout's gen/proto; a zip whose proto was altered is refused and nothing is written.
import { expect } from 'chai';
import { execFileSync, spawn } from 'node:child_process';
import { existsSync, mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync, appendFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

const CRI_ZIP = 'k8s.io/cri-api/@v/v0.36.3.zip';
const CSI_ZIP = 'github.com/container-storage-interface/spec/@v/v1.12.0.zip';

describe('scripts/gen-protos without Go (module proxy, pinned hashes)', function () {
  this.timeout(120_000);
  let base: string;
  let server: Server;
  let proxy: string;
  const served = new Map<string, Buffer>();

  before(async () => {
    base = mkdtempSync(join(tmpdir(), 'ledgerlet-gen-protos-'));
    const goCache = execFileSync('go', ['env', 'GOMODCACHE'], { encoding: 'utf8' }).trim();
    for (const rel of [CRI_ZIP, CSI_ZIP]) served.set(`/${rel}`, readFileSync(join(goCache, 'cache', 'download', rel)));
    server = createServer((req, res) => {
      const body = served.get(req.url ?? '');
      if (body) res.writeHead(200, { 'content-type': 'application/zip' }).end(body);
      else res.writeHead(404).end('not found');
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    proxy = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });

  after(async () => {
    await new Promise((r) => server.close(r));
    rmSync(base, { recursive: true, force: true });
  });

  /** Runs the script as a child (asynchronously: this process serves its downloads). */
  function genProtos(out: string): Promise<{ status: number | null; stderr: string }> {
    const empty = mkdtempSync(join(base, 'modcache-'));
    const child = spawn('node', ['--import', 'tsx', 'scripts/gen-protos.ts'], {
      stdio: ['ignore', 'ignore', 'pipe'],
      env: { ...process.env, GOMODCACHE: empty, GOPROXY: `${proxy},direct`, GEN_PROTO_DIR: out, PATH: '/usr/bin:/bin' },
    });
    let stderr = '';
    child.stderr.on('data', (c: Buffer) => { stderr += c.toString('utf8'); });
    return new Promise((resolve) => child.on('close', (status) => resolve({ status, stderr })));
  }

  it('downloads the pinned module zips and writes the same protos as the checkout has, with no Go on the PATH', async () => {
    const out = join(base, 'good');
    const r = await genProtos(out);
    expect(r.stderr).to.equal('');
    expect(r.status).to.equal(0);
    for (const f of ['cri/api.proto', 'csi/csi.proto', 'VERSIONS']) {
      expect(readFileSync(join(out, f), 'utf8'), f).to.equal(readFileSync(join('gen', 'proto', f), 'utf8'));
    }
  });

  it('refuses a module zip whose proto was altered, and writes nothing', async () => {
    const work = join(base, 'tamper');
    mkdirSync(work);
    writeFileSync(join(work, 'orig.zip'), served.get(`/${CRI_ZIP}`) ?? Buffer.alloc(0));
    execFileSync('unzip', ['-q', 'orig.zip'], { cwd: work });
    appendFileSync(join(work, 'k8s.io', 'cri-api@v0.36.3', 'pkg', 'apis', 'runtime', 'v1', 'api.proto'), '\nmessage Injected {}\n');
    execFileSync('zip', ['-qr', 'tampered.zip', 'k8s.io'], { cwd: work });
    served.set(`/${CRI_ZIP}`, readFileSync(join(work, 'tampered.zip')));
    const out = join(base, 'bad');
    const r = await genProtos(out);
    expect(r.status).to.equal(1);
    expect(r.stderr).to.match(/k8s\.io\/cri-api@v0\.36\.3: module zip hash h1:\S+, pinned h1:QFEMKG\S+; refusing it/);
    expect(existsSync(join(out, 'cri', 'api.proto'))).to.equal(false);
  });
});
