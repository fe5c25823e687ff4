// A runtime that is absent, hangs or drops the connection gives a typed CriError within the call's
// deadline: never a hang, never an unhandled crash. Real unix sockets, no testbed needed.
import { expect } from 'chai';
import { mkdtempSync, rmSync } from 'node:fs';
import { createServer, type Server, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { CriClient } from '../../src/adapters/cri/client.ts';
import { Status } from '../../src/adapters/cri/errors.ts';
import { expectCriError } from './helpers/cri-errors.ts';


function listen(server: Server, path: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', reject);
    server.listen(path, () => resolve());
  });
}

describe('CRI client against an absent or unresponsive runtime', function () {
  this.timeout(20_000);
  let dir: string;
  const sockets: Socket[] = [];
  const servers: Server[] = [];

  before(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-cri-'));
  });
  after(async () => {
    for (const s of sockets) s.destroy();
    await Promise.all(servers.map((s) => new Promise((r) => s.close(r))));
    rmSync(dir, { recursive: true, force: true });
  });

  it('fails with UNAVAILABLE when nothing listens on the socket path', async () => {
    const endpoint = `unix://${join(dir, 'absent.sock')}`;
    const cri = new CriClient(endpoint, { timeouts: { defaultMs: 5_000 } });
    try {
      const e = await expectCriError(cri.version());
      expect(e.code).to.equal(Status.UNAVAILABLE);
      expect(e.isTransient()).to.equal(true);
      expect(e.isNotFound()).to.equal(false);
      expect(e.method).to.equal('Version');
      expect(e.message).to.contain(`CRI RuntimeService/Version on ${endpoint} failed: UNAVAILABLE`);
      // the same client keeps answering with typed errors on later calls
      const e2 = await expectCriError(cri.listContainers());
      expect(e2.codeName).to.equal('UNAVAILABLE');
    } finally {
      cri.close();
    }
  });

  it('fails with DEADLINE_EXCEEDED when the runtime accepts the connection but never answers', async () => {
    const path = join(dir, 'silent.sock');
    const server = createServer((s) => sockets.push(s)); // reads nothing, writes nothing
    servers.push(server);
    await listen(server, path);
    const cri = new CriClient(path, { timeouts: { defaultMs: 500 } });
    try {
      const e = await expectCriError(cri.status());
      expect(e.code).to.equal(Status.DEADLINE_EXCEEDED);
      expect(e.isDeadlineExceeded()).to.equal(true);
      expect(e.message).to.match(/RuntimeService\/Status on unix:\/\/.*silent\.sock failed: DEADLINE_EXCEEDED/);
      expect(sockets.length).to.be.greaterThan(0, 'the client should have connected');
    } finally {
      cri.close();
    }
  });

  it('fails with UNAVAILABLE when the runtime drops every connection', async () => {
    const path = join(dir, 'drop.sock');
    const server = createServer((s) => s.destroy());
    servers.push(server);
    await listen(server, path);
    const cri = new CriClient(`unix://${path}`, { timeouts: { defaultMs: 5_000 } });
    try {
      const e = await expectCriError(cri.pullImage({ image: 'busybox' }, undefined, undefined, { timeoutMs: 5_000 }));
      expect(e.code).to.equal(Status.UNAVAILABLE);
      expect(e.service).to.equal('ImageService');
    } finally {
      cri.close();
    }
  });

  it('rejects calls on a closed client with a CriError', async () => {
    const cri = new CriClient(join(dir, 'absent.sock'));
    cri.close();
    const e = await expectCriError(cri.version());
    expect(e.code).to.equal(Status.CANCELLED);
  });
});
