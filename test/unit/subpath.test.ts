// subPath / subPathExpr checks and expansion (pure, src/model/subpath.ts) and the walk that opens
// a sub-path inside its volume without following symlinks out (src/adapters/fs/inside-root.ts).
import { expect } from 'chai';
import { closeSync, mkdirSync, readlinkSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { InsideRootError, openInside } from '../../src/adapters/fs/inside-root.ts';
import { checkSubPath, effectiveSubPath, expandSubPathExpr, secretDerivedNames, subPathComponents } from '../../src/model/subpath.ts';
import { tempDirs } from './helpers/temp-dir.ts';

describe('subPath checks (upstream makeMounts)', () => {
  it('rejects absolute paths and `..` components with upstream\'s wording', () => {
    expect(checkSubPath('/etc')).to.equal('error SubPath `/etc` must not be an absolute path');
    expect(checkSubPath('../x')).to.equal("unable to provision SubPath `../x`: must not contain '..'");
    expect(checkSubPath('a/../../b')).to.equal("unable to provision SubPath `a/../../b`: must not contain '..'");
    expect(checkSubPath('a/..')).to.equal("unable to provision SubPath `a/..`: must not contain '..'");
  });

  it('accepts names that only look like `..` (configMap\'s ..data) and nested paths', () => {
    expect(checkSubPath('..data/a')).to.equal(undefined);
    expect(checkSubPath('a/b/c')).to.equal(undefined);
    expect(checkSubPath('a..b/...')).to.equal(undefined);
    expect(subPathComponents('a//b/./c/')).to.deep.equal(['a', 'b', 'c']);
  });
});

describe('subPathExpr expansion (upstream ExpandContainerVolumeMounts)', () => {
  const vars = new Map([['POD_NAME', 'web-1'], ['NS', 'prod'], ['EMPTY', ''], ['UP', '..'], ['ROOT', '/etc']]);

  it('expands $(VAR), unescapes $$ and keeps an unclosed $( and a lone $', () => {
    expect(expandSubPathExpr('logs/$(NS)/$(POD_NAME)', vars)).to.deep.include({ ok: true, value: 'logs/prod/web-1' });
    expect(expandSubPathExpr('a$$(POD_NAME)', vars)).to.deep.include({ ok: true, value: 'a$(POD_NAME)' });
    expect(expandSubPathExpr('a$(POD_NAME', vars)).to.deep.include({ ok: true, value: 'a$(POD_NAME' });
    expect(expandSubPathExpr('a$b$', vars)).to.deep.include({ ok: true, value: 'a$b$' });
  });

  it('an unset or empty variable is an error naming them, sorted', () => {
    expect(expandSubPathExpr('$(ZED)/$(EMPTY)/$(POD_NAME)/$(ZED)', vars)).to.deep.equal({ ok: false, message: 'missing value for EMPTY, ZED' });
  });

  it('an expansion to an absolute path or with `..` is rejected like a subPath', () => {
    expect(effectiveSubPath({ subPathExpr: '$(UP)/x' }, vars)).to.deep.equal({ ok: false, message: "unable to provision SubPath `../x`: must not contain '..'" });
    expect(effectiveSubPath({ subPathExpr: '$(ROOT)' }, vars)).to.deep.equal({ ok: false, message: 'error SubPath `/etc` must not be an absolute path' });
    expect(effectiveSubPath({ subPath: 'a', subPathExpr: 'b/$(POD_NAME)' }, vars)).to.deep.equal({ ok: true, subPath: 'b/web-1', shown: 'b/web-1' });
    expect(effectiveSubPath({ subPath: '/abs' }, vars)).to.deep.equal({ ok: false, message: 'error SubPath `/abs` must not be an absolute path' });
  });

  it('a message never shows what a secret-derived variable expanded to', () => {
    const secretVars = new Map([['PASSWORD', '../hunter2'], ['POD_NAME', 'p']]);
    const sensitive = secretDerivedNames([{ name: 'PASSWORD', ref: { kind: 'secret' } }, { name: 'POD_NAME', value: 'p' }], []);
    const r = effectiveSubPath({ subPathExpr: 'x/$(PASSWORD)' }, secretVars, sensitive);
    expect(r.ok).to.equal(false);
    expect(JSON.stringify(r)).to.not.include('hunter2');
    expect(JSON.stringify(r)).to.include('x/$(PASSWORD)');
  });

  it('treats as secret-derived: secretKeyRef values, literals referencing them, and unknown names when envFrom has a secret', () => {
    const s1 = secretDerivedNames([{ name: 'S', ref: { kind: 'secret' } }, { name: 'C', ref: { kind: 'configMap' } }, { name: 'L', value: 'x/$(S)' }, { name: 'M', value: '$(C)' }], []);
    expect(['S', 'C', 'L', 'M', 'OTHER'].filter(s1)).to.deep.equal(['S', 'L']);
    const s2 = secretDerivedNames([{ name: 'POD', value: 'p' }], [{ secret: 'creds' }]);
    expect(['POD', 'FROM_SECRET'].filter(s2)).to.deep.equal(['FROM_SECRET']);
  });
});

describe('opening a sub-path inside its volume', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  function volume(): string {
    const v = join(dirs.make('ledgerlet-subpath-'), 'vol');
    mkdirSync(v);
    return v;
  }
  const openedPath = (fd: number) => readlinkSync(`/proc/self/fd/${fd}`);

  it('refuses a symlink to a host directory and to a host file, at any depth', () => {
    const v = volume();
    symlinkSync('/', join(v, 'evil'));
    symlinkSync('/etc/hostname', join(v, 'host-file'));
    mkdirSync(join(v, 'd'));
    symlinkSync('../../..', join(v, 'd', 'up'));
    for (const p of ['evil', 'evil/etc', 'host-file', 'd/up', 'd/up/etc']) {
      expect(() => openInside(v, subPathComponents(p), { mode: 0o777 }), p).to.throw(InsideRootError);
    }
  });

  it('follows symlinks that stay inside (configMap keys: a -> ..data/a -> ..<ts>/a), relative or absolute', () => {
    const v = volume();
    mkdirSync(join(v, '..2026_01_01'));
    writeFileSync(join(v, '..2026_01_01', 'a'), 'A');
    symlinkSync('..2026_01_01', join(v, '..data'));
    symlinkSync('..data/a', join(v, 'a'));
    symlinkSync(join(v, '..2026_01_01'), join(v, 'abs'));
    const a = openInside(v, ['a']);
    expect(openedPath(a.fd)).to.equal(join(v, '..2026_01_01', 'a'));
    expect(a.stats.isFile()).to.equal(true);
    expect(a.relative).to.equal('..2026_01_01/a');
    closeSync(a.fd);
    const abs = openInside(v, ['abs', 'a']);
    expect(openedPath(abs.fd)).to.equal(join(v, '..2026_01_01', 'a'));
    closeSync(abs.fd);
  });

  it('creates missing directories with the given mode, not through the umask', () => {
    const v = volume();
    const o = openInside(v, ['x', 'y', 'z'], { mode: 0o777 });
    expect(openedPath(o.fd)).to.equal(join(v, 'x', 'y', 'z'));
    closeSync(o.fd);
    for (const p of ['x', 'x/y', 'x/y/z']) expect(statSync(join(v, p)).mode & 0o7777, p).to.equal(0o777);
  });

  it('does not create through a symlink that leads out, nor open a missing path without create', () => {
    const outside = dirs.make('ledgerlet-outside-');
    const v = volume();
    symlinkSync(outside, join(v, 'out'));
    expect(() => openInside(v, ['out', 'new'], { mode: 0o777 })).to.throw(InsideRootError, /outside the volume/);
    expect(() => statSync(join(outside, 'new'))).to.throw();
    expect(() => openInside(v, ['missing'])).to.throw(InsideRootError, /ENOENT/);
  });

  it('a file in the middle of the path is not a directory; a symlink loop ends', () => {
    const v = volume();
    writeFileSync(join(v, 'f'), '');
    symlinkSync('l2', join(v, 'l1'));
    symlinkSync('l1', join(v, 'l2'));
    expect(() => openInside(v, ['f', 'x'], { mode: 0o777 })).to.throw(InsideRootError, /not a directory/);
    expect(() => openInside(v, ['l1'])).to.throw(InsideRootError, /too many levels/);
  });
});
