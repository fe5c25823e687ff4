// hostPath type checks (upstream's wording) on real files, directories, a socket and /dev/null.
import { expect } from 'chai';
import { existsSync, mkdirSync, statSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:net';
import { checkHostPath } from '../../src/effects/volumes/host-path.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const fails = async (p: Promise<unknown>): Promise<string> => {
  try {
    await p;
  } catch (e) {
    return (e as Error).message;
  }
  throw new Error('expected a failure');
};

describe('volumes: hostPath type checks', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('"" checks nothing, even for a missing path', async () => {
    await checkHostPath('/nonexistent/ledgerlet', '');
    await checkHostPath('/nonexistent/ledgerlet', undefined);
  });

  it('DirectoryOrCreate creates a 0755 directory; Directory requires one', async () => {
    const d = `${dirs.make()}/a/b`;
    await checkHostPath(d, 'DirectoryOrCreate');
    expect(statSync(d).isDirectory()).to.equal(true);
    expect(statSync(d).mode & 0o777).to.equal(0o755);
    await checkHostPath(d, 'Directory');
    expect(await fails(checkHostPath(`${d}/missing`, 'Directory'))).to.equal(`hostPath type check failed: ${d}/missing is not a directory`);
    writeFileSync(`${d}/file`, 'x');
    expect(await fails(checkHostPath(`${d}/file`, 'DirectoryOrCreate'))).to.match(/is not a directory/);
  });

  it('FileOrCreate creates an empty 0644 file but not its parent; File requires a file', async () => {
    const d = dirs.make();
    await checkHostPath(`${d}/f`, 'FileOrCreate');
    expect(statSync(`${d}/f`).size).to.equal(0);
    expect(statSync(`${d}/f`).mode & 0o777).to.equal(0o644);
    await checkHostPath(`${d}/f`, 'File');
    expect(await fails(checkHostPath(`${d}/no/f`, 'FileOrCreate'))).to.match(/parent directory .* does not exist/);
    expect(existsSync(`${d}/no`)).to.equal(false);
    mkdirSync(`${d}/dir`);
    expect(await fails(checkHostPath(`${d}/dir`, 'File'))).to.equal(`hostPath type check failed: ${d}/dir is not a file`);
  });

  it('Socket, CharDevice, BlockDevice', async () => {
    const d = dirs.make();
    const srv = createServer();
    await new Promise<void>((r) => srv.listen(`${d}/s.sock`, r));
    try {
      await checkHostPath(`${d}/s.sock`, 'Socket');
      expect(await fails(checkHostPath('/dev/null', 'Socket'))).to.match(/is not a socket file/);
    } finally {
      srv.close();
    }
    await checkHostPath('/dev/null', 'CharDevice');
    expect(await fails(checkHostPath(d, 'CharDevice'))).to.match(/is not a character device/);
    expect(await fails(checkHostPath('/dev/null', 'BlockDevice'))).to.match(/is not a block device/);
    expect(await fails(checkHostPath(d, 'Bogus'))).to.match(/unknown hostPath type/);
  });
});
