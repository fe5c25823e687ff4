// The static pod source against real files in a temporary directory, in virtual time.
// Needs no testbed. Each resync is driven by advancing the virtual clock; the test then waits for
// the source to go back to sleep (a condition, not a wall-clock delay) before asserting.
import { expect } from 'chai';
import { mkdirSync, mkdtempSync, rmSync, unlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Subscription } from 'rxjs';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type { ObservationDraft } from '../../src/model/entry.ts';
import type { Pod } from '../../src/model/pod.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { MAX_MANIFEST_BYTES, StaticPodScanner, staticPods$ } from '../../src/streams/static-pods.ts';
import { MAX_MANIFEST_DEPTH, canonicalJson, staticPodFromManifest, staticPodUid } from '../../src/streams/static-pod-identity.ts';
import { ManifestRejected, StaticPodObserved, StaticPodRemoved, StaticPodsListed } from '../../src/model/runtime-observations.ts';

/** Every payload must satisfy the contract codec of its type (src/model/runtime-observations.ts). */
const CONTRACT: Record<string, { is: (u: unknown) => boolean }> = {
  PodObserved: StaticPodObserved,
  StaticPodRemoved,
  StaticPodsListed,
  ManifestRejected,
  StaticPodPathUnreadable: { is: (u) => typeof (u as { dir?: unknown }).dir === 'string' && typeof (u as { error?: unknown }).error === 'string' },
};

const RESYNC = 20_000;

const manifest = (name: string, image = 'busybox:1.36', extra = '') => `apiVersion: v1
kind: Pod
metadata:
  name: ${name}
${extra}spec:
  containers:
    - name: main
      image: ${image}
      command: ["sleep", "3600"]
`;

async function until(cond: () => boolean, what: string): Promise<void> {
  // a safety net against a hung source, not a timing assertion: the condition decides
  for (let i = 0; i < 5000; i++) {
    if (cond()) return;
    await new Promise((r) => setTimeout(r, 2));
  }
  throw new Error(`timed out waiting for ${what}`);
}

interface Pod$Data { pod: Pod; origin: string; file: string }

describe('staticPods$ (real files, virtual clock)', () => {
  let dir: string;
  let clock: VirtualClock;
  let seen: ObservationDraft[];
  let sub: Subscription | undefined;

  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-static-'));
    clock = new VirtualClock('2024-05-01T10:00:00.000Z');
    seen = [];
  });
  afterEach(() => {
    sub?.unsubscribe();
    sub = undefined;
    rmSync(dir, { recursive: true, force: true });
    for (const d of seen) {
      expect(d.source).to.equal('static-pods');
      expect(CONTRACT[d.type], `unexpected observation type ${d.type}`).to.not.equal(undefined);
      expect(CONTRACT[d.type].is(d.data), `${d.type} payload matches its codec: ${JSON.stringify(d.data)}`).to.equal(true);
    }
  });

  const start = async (path = dir, watch = false) => {
    sub = staticPods$({ dir: path, nodeName: 'Node-A', clock, resyncMs: RESYNC, watch }).subscribe((d) => seen.push(d));
    await until(() => clock.pendingTimers === 1, 'the initial scan');
  };
  /** one resync: fire the timer, then wait until the source sleeps again */
  const resync = async () => {
    await clock.advance(RESYNC);
    await until(() => clock.pendingTimers === 1, 'the resync');
  };
  const types = (from = 0) => seen.slice(from).map((d) => d.type);
  const observed = (from = 0) => seen.slice(from).filter((d) => d.type === 'PodObserved').map((d) => d.data as Pod$Data);

  it('observes a manifest with the static pod identity, then lists it', async () => {
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    await start();
    expect(types()).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    const [{ pod, origin, file }] = observed();
    expect(origin).to.equal('file');
    expect(file).to.equal(join(dir, 'web.yaml'));
    expect(pod.metadata.uid).to.match(/^[0-9a-f]{32}$/);
    expect(pod.metadata.name).to.equal('web-node-a');
    expect(pod.metadata.namespace).to.equal('default');
    expect(pod.spec.nodeName).to.equal('Node-A');
    expect(pod.metadata.annotations).to.deep.equal({
      'kubernetes.io/config.hash': pod.metadata.uid,
      'kubernetes.io/config.seen': '2024-05-01T10:00:00.000Z',
      'kubernetes.io/config.source': 'file',
    });
    expect(seen[0].source).to.equal('static-pods');
    expect(seen[0].pod).to.deep.equal({ uid: pod.metadata.uid, namespace: 'default', name: 'web-node-a' });
    expect(seen[1].data).to.deep.equal({ uids: [pod.metadata.uid] });
  });

  it('emits nothing on a resync of an unchanged directory, even after a reformatting edit', async () => {
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    await start();
    const n = seen.length;
    await resync();
    await resync();
    expect(seen.length).to.equal(n);
    // same object, different bytes (JSON instead of YAML, other key order): same pod, nothing new
    const obj = { spec: { containers: [{ command: ['sleep', '3600'], image: 'busybox:1.36', name: 'main' }] }, metadata: { name: 'web' }, kind: 'Pod', apiVersion: 'v1' };
    writeFileSync(join(dir, 'web.yaml'), JSON.stringify(obj, null, 2));
    await resync();
    expect(seen.length).to.equal(n);
  });

  it('a changed manifest is a new pod: StaticPodRemoved for the old uid, then PodObserved for the new', async () => {
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    await start();
    const oldUid = observed()[0].pod.metadata.uid!;
    const n = seen.length;
    writeFileSync(join(dir, 'web.yaml'), manifest('web', 'busybox:1.37'));
    await clock.advance(RESYNC);
    await until(() => clock.pendingTimers === 1, 'the resync');
    expect(types(n)).to.deep.equal(['StaticPodRemoved', 'PodObserved', 'StaticPodsListed']);
    expect(seen[n].data).to.deep.equal({ uid: oldUid, file: join(dir, 'web.yaml') });
    expect(seen[n].pod).to.deep.equal({ uid: oldUid, namespace: 'default', name: 'web-node-a' });
    const newPod = (seen[n + 1].data as Pod$Data).pod;
    expect(newPod.metadata.uid).to.not.equal(oldUid);
    expect(newPod.spec.containers[0].image).to.equal('busybox:1.37');
    expect(newPod.metadata.annotations!['kubernetes.io/config.seen']).to.equal('2024-05-01T10:00:20.000Z');
    expect(seen[n + 2].data).to.deep.equal({ uids: [newPod.metadata.uid] });
  });

  it('a removed manifest gives StaticPodRemoved and an empty listing', async () => {
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    await start();
    const uid = observed()[0].pod.metadata.uid!;
    const n = seen.length;
    unlinkSync(join(dir, 'web.yaml'));
    await resync();
    expect(types(n)).to.deep.equal(['StaticPodRemoved', 'StaticPodsListed']);
    expect(seen[n].data).to.deep.equal({ uid, file: join(dir, 'web.yaml') });
    expect(seen[n + 1].data).to.deep.equal({ uids: [] });
  });

  it('rejects invalid YAML once, naming the file, and the other pods go on', async () => {
    writeFileSync(join(dir, 'good.yaml'), manifest('good'));
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: [name: x\nspec: {}\n');
    await start();
    expect(types()).to.deep.equal(['PodObserved', 'ManifestRejected', 'StaticPodsListed']);
    expect(observed()[0].pod.metadata.name).to.equal('good-node-a');
    const rej = seen[1].data as { file: string; problems: string[] };
    expect(rej.file).to.equal(join(dir, 'bad.yaml'));
    expect(rej.problems).to.have.length.greaterThan(0);
    expect(rej.problems[0]).to.match(/^YAML: .*line \d+/);
    const n = seen.length;
    await resync();
    await resync();
    expect(seen.length, 'a bad file does not spam the log every resync').to.equal(n);
    // fixing it brings the pod in; the good pod is untouched
    writeFileSync(join(dir, 'bad.yaml'), manifest('fixed'));
    await resync();
    expect(types(n)).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    expect(observed(n)[0].pod.metadata.name).to.equal('fixed-node-a');
    // breaking it again with the same bad content is a new rejection (it was fixed in between)
    const m = seen.length;
    writeFileSync(join(dir, 'bad.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: [name: x\nspec: {}\n');
    await resync();
    expect(types(m)).to.deep.equal(['StaticPodRemoved', 'ManifestRejected', 'StaticPodsListed']);
    expect((seen[m + 2].data as { uids: string[] }).uids).to.deep.equal([observed()[0].pod.metadata.uid]);
  });

  it('rejects invalid pods with decode problems and wrong kinds', async () => {
    writeFileSync(join(dir, 'noimage.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: x}\nspec:\n  containers:\n    - name: main\n');
    writeFileSync(join(dir, 'svc.json'), JSON.stringify({ apiVersion: 'v1', kind: 'Service', metadata: { name: 's' } }));
    writeFileSync(join(dir, 'nocontainers.yml'), 'apiVersion: v1\nkind: Pod\nmetadata: {name: y}\nspec: {containers: "none"}\n');
    writeFileSync(join(dir, 'badname.yaml'), manifest('Bad_Name'));
    writeFileSync(join(dir, 'empty.yaml'), '# nothing here\n');
    writeFileSync(join(dir, 'two.yaml'), `${manifest('a')}---\n${manifest('b')}`);
    await start();
    const rejected = Object.fromEntries(
      seen.filter((d) => d.type === 'ManifestRejected').map((d) => {
        const r = d.data as { file: string; problems: string[] };
        return [r.file.slice(dir.length + 1), r.problems.join(' | ')];
      }),
    );
    expect(rejected).to.have.all.keys('noimage.yaml', 'svc.json', 'nocontainers.yml', 'badname.yaml', 'empty.yaml', 'two.yaml');
    expect(rejected['noimage.yaml']).to.include('spec.containers[0].image: Required value');
    expect(rejected['svc.json']).to.include('kind: expected "Pod", got "Service"');
    expect(rejected['nocontainers.yml']).to.match(/spec\.containers/);
    expect(rejected['badname.yaml']).to.include('metadata.name: Invalid value: "Bad_Name"');
    expect(rejected['empty.yaml']).to.include('manifest is empty');
    expect(rejected['two.yaml']).to.include('2 YAML documents');
    expect(seen.at(-1)).to.deep.include({ type: 'StaticPodsListed', data: { uids: [] } });
  });

  it('ignores dotfiles, other extensions and subdirectories', async () => {
    writeFileSync(join(dir, '.web.yaml.swp'), 'garbage: [');
    writeFileSync(join(dir, '.hidden.yaml'), manifest('hidden'));
    writeFileSync(join(dir, 'README.md'), '# manifests');
    writeFileSync(join(dir, 'web.yaml~'), manifest('backup'));
    mkdirSync(join(dir, 'sub.yaml'));
    writeFileSync(join(dir, 'sub.yaml', 'inner.yaml'), manifest('inner'));
    writeFileSync(join(dir, 'web.YAML'), manifest('web'));
    await start();
    expect(types()).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    expect(observed()[0].file).to.equal(join(dir, 'web.YAML'));
  });

  it('keeps a manifest-set uid: an edit is an update of the same pod', async () => {
    writeFileSync(join(dir, 'web.yaml'), manifest('web', 'busybox:1.36', '  uid: 11111111-2222-3333-4444-555555555555\n'));
    await start();
    expect(observed()[0].pod.metadata.uid).to.equal('11111111-2222-3333-4444-555555555555');
    const n = seen.length;
    writeFileSync(join(dir, 'web.yaml'), manifest('web', 'busybox:1.37', '  uid: 11111111-2222-3333-4444-555555555555\n'));
    await resync();
    expect(types(n)).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    expect(observed(n)[0].pod.spec.containers[0].image).to.equal('busybox:1.37');
  });

  it('rejects a second file defining the same pod, keeping the first owner', async () => {
    writeFileSync(join(dir, 'b.yaml'), manifest('web'));
    await start();
    const uid = observed()[0].pod.metadata.uid;
    const n = seen.length;
    writeFileSync(join(dir, 'a.yaml'), manifest('web', 'busybox:1.37')); // sorts first, but b.yaml already owns web
    await resync();
    expect(types(n)).to.deep.equal(['ManifestRejected']);
    expect(seen[n].data).to.deep.equal({ file: join(dir, 'a.yaml'), problems: [`pod default/web-node-a: already defined by ${join(dir, 'b.yaml')}`] });
    await resync();
    expect(seen.length).to.equal(n + 1);
    unlinkSync(join(dir, 'b.yaml'));
    await resync();
    expect(types(n + 1)).to.deep.equal(['StaticPodRemoved', 'PodObserved', 'StaticPodsListed']);
    expect((seen[n + 1].data as { uid: string }).uid).to.equal(uid);
    expect(observed(n + 1)[0].file).to.equal(join(dir, 'a.yaml'));
  });

  it('a missing directory is reported once, listed as empty, and polled until it appears', async () => {
    const missing = join(dir, 'manifests');
    await start(missing);
    expect(types()).to.deep.equal(['StaticPodPathUnreadable', 'StaticPodsListed']);
    expect(seen[0].data).to.deep.include({ dir: missing });
    expect((seen[0].data as { error: string }).error).to.match(/ENOENT/);
    expect(seen[1].data).to.deep.equal({ uids: [] });
    await resync();
    await resync();
    expect(seen.length).to.equal(2);
    mkdirSync(missing);
    writeFileSync(join(missing, 'web.yaml'), manifest('web'));
    await resync();
    expect(types(2)).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    // the directory going away drops its pods, as upstream's empty SET
    rmSync(missing, { recursive: true });
    await resync();
    expect(types(4)).to.deep.equal(['StaticPodPathUnreadable', 'StaticPodRemoved', 'StaticPodsListed']);
  });

  it('accepts a single manifest file as the path', async () => {
    const file = join(dir, 'only.json');
    writeFileSync(file, JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'one', namespace: 'kube-system' }, spec: { containers: [{ name: 'c', image: 'pause' }] } }));
    await start(file);
    expect(types()).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    expect(seen[0].pod).to.deep.include({ namespace: 'kube-system', name: 'one-node-a' });
  });

  it('rescans on a change notification without waiting for the resync period', async () => {
    await start(dir, true);
    expect(types()).to.deep.equal(['StaticPodsListed']);
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    // virtual time does not move: only the fs.watch notification can bring the pod in
    await until(() => seen.some((d) => d.type === 'PodObserved'), 'the watched change');
    expect(clock.now().toISOString()).to.equal('2024-05-01T10:00:00.000Z');
    expect(observed()[0].pod.metadata.name).to.equal('web-node-a');
  });

  it('stops reading after unsubscribe', async () => {
    await start();
    sub!.unsubscribe();
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    await clock.advance(RESYNC * 3);
    expect(clock.pendingTimers).to.equal(0);
    expect(types()).to.deep.equal(['StaticPodsListed']);
  });
});

describe('hostile manifests (real files)', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-static-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const deep = (n: number) => `apiVersion: v1\nkind: Pod\nmetadata: {name: deep}\nspec:\n  containers: [{name: a, image: b}]\n  x: ${'['.repeat(n)}${']'.repeat(n)}\n`;
  const HOSTILE: Record<string, string> = {
    'uid.yaml': manifest('uid', 'busybox:1.36', '  uid: ../../../../tmp/pwned\n'),
    'name.yaml': manifest('../../../../tmp/pwned'),
    'ns.yaml': manifest('ns', 'busybox:1.36', '  namespace: ../../etc\n'),
    'deep.yaml': deep(200_000),
    'deep-mid.yaml': deep(500),
    'deep.json': JSON.stringify({ apiVersion: 'v1', kind: 'Pod', metadata: { name: 'dj' }, spec: { containers: [{ name: 'a', image: 'b' }] } }).replace('"spec":{', `"spec":{"x":${'['.repeat(50_000)}${']'.repeat(50_000)},`),
    'dup.yaml': `apiVersion: v1\nkind: Pod\nmetadata: {name: dup}\nspec:\n  containers:\n    - {name: main, image: b}\n    - {name: main, image: b}\n`,
    'subpath.yaml': `apiVersion: v1\nkind: Pod\nmetadata: {name: sp}\nspec:\n  volumes: [{name: v, emptyDir: {}}]\n  containers:\n    - name: main\n      image: b\n      volumeMounts: [{name: v, mountPath: /x, subPath: ../../etc}]\n`,
  };

  it('rejects each once with a readable, stable message; the valid pod next to them runs; a fixed one recovers', async () => {
    for (const [f, text] of Object.entries(HOSTILE)) writeFileSync(join(dir, f), text);
    writeFileSync(join(dir, 'huge.yaml'), Buffer.alloc(MAX_MANIFEST_BYTES + 1, 'a'));
    writeFileSync(join(dir, 'good.yaml'), manifest('good'));
    const scanner = new StaticPodScanner({ dir, nodeName: 'n1', clock: new VirtualClock() });
    const first = await scanner.scan();
    const rejected = Object.fromEntries(first.filter((d) => d.type === 'ManifestRejected').map((d) => {
      const r = d.data as { file: string; problems: string[] };
      return [r.file.slice(dir.length + 1), r.problems];
    }));
    expect(Object.keys(rejected).sort()).to.deep.equal([...Object.keys(HOSTILE), 'huge.yaml'].sort());
    expect(rejected['uid.yaml'][0]).to.match(/^metadata\.uid: Invalid value: "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/pwned": must consist of/);
    expect(rejected['name.yaml'][0]).to.match(/^metadata\.name: Invalid value: "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/pwned": a lowercase RFC 1123 subdomain/);
    expect(rejected['ns.yaml'][0]).to.match(/^metadata\.namespace: Invalid value: "\.\.\/\.\.\/etc"/);
    for (const f of ['deep.yaml', 'deep-mid.yaml', 'deep.json']) expect(rejected[f], f).to.deep.equal([`manifest nests objects or lists more than ${MAX_MANIFEST_DEPTH} levels deep`]);
    expect(rejected['dup.yaml']).to.deep.equal(['spec.containers[1].name: Duplicate value: "main"']);
    expect(rejected['subpath.yaml']).to.deep.equal(['spec.containers[0].volumeMounts[0].subPath: Invalid value: "../../etc": must not contain \'..\'']);
    expect(rejected['huge.yaml']).to.deep.equal([`manifest is ${MAX_MANIFEST_BYTES + 1} bytes; the limit is ${MAX_MANIFEST_BYTES}`]);
    // the valid manifest runs, and no path of the hostile ones reaches an observed pod
    const observed = first.filter((d) => d.type === 'PodObserved');
    expect(observed.map((d) => d.pod!.name)).to.deep.equal(['good-n1']);
    expect(JSON.stringify(first)).to.not.include('"uid":"../');
    // rescans (periodic and notified) log nothing new: the messages do not vary
    for (let i = 0; i < 3; i++) expect(await scanner.scan(i % 2 ? 'notify' : 'resync')).to.deep.equal([]);
    // fixing a manifest brings its pod in, and only that
    writeFileSync(join(dir, 'dup.yaml'), `apiVersion: v1\nkind: Pod\nmetadata: {name: dup}\nspec:\n  containers:\n    - {name: main, image: b}\n    - {name: side, image: b}\n`);
    const fixed = await scanner.scan();
    expect(fixed.map((d) => d.type)).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    expect(fixed[0].pod!.name).to.equal('dup-n1');
    // breaking it again is a new rejection; the same bad content again is not
    writeFileSync(join(dir, 'dup.yaml'), HOSTILE['dup.yaml']);
    expect((await scanner.scan()).map((d) => d.type)).to.deep.equal(['StaticPodRemoved', 'ManifestRejected', 'StaticPodsListed']);
    expect(await scanner.scan()).to.deep.equal([]);
  });

  it('a deeply nested manifest gives the same message in a fresh process state (no stack positions)', () => {
    const messages = new Set<string>();
    for (const n of [1_000, 5_000, 20_000, 100_000]) {
      const r = staticPodFromManifest(deep(n), '/m/deep.yaml', 'n1', new Date(0));
      expect(isLeft(r)).to.equal(true);
      if (isLeft(r)) messages.add(r.left.join('|'));
    }
    expect([...messages]).to.deep.equal([`manifest nests objects or lists more than ${MAX_MANIFEST_DEPTH} levels deep`]);
    // a realistic pod, a dozen levels deep, is fine
    expect(isLeft(staticPodFromManifest(deep(5), '/m/ok.yaml', 'n1', new Date(0)))).to.equal(false);
  });
});

describe('StaticPodScanner', () => {
  let dir: string;
  beforeEach(() => {
    dir = mkdtempSync(join(tmpdir(), 'ledgerlet-static-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  it('keeps a running pod whose manifest breaks on a notified change; the periodic resync drops it', async () => {
    const scanner = new StaticPodScanner({ dir, nodeName: 'n1', clock: new VirtualClock() });
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    const first = await scanner.scan();
    expect(first.map((d) => d.type)).to.deep.equal(['PodObserved', 'StaticPodsListed']);
    const uid = first[0].pod!.uid;
    writeFileSync(join(dir, 'web.yaml'), 'apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n    - name: main\n      image: [bus'); // half written
    const notified = await scanner.scan('notify');
    expect(notified.map((d) => d.type)).to.deep.equal(['ManifestRejected']);
    expect(scanner.uids()).to.deep.equal([uid]);
    const resynced = await scanner.scan('resync');
    expect(resynced.map((d) => d.type)).to.deep.equal(['StaticPodRemoved', 'StaticPodsListed']);
    expect(resynced[0].data).to.deep.equal({ uid, file: join(dir, 'web.yaml') });
    expect(scanner.uids()).to.deep.equal([]);
  });

  it('a notified deletion still removes the pod at once', async () => {
    const scanner = new StaticPodScanner({ dir, nodeName: 'n1', clock: new VirtualClock() });
    writeFileSync(join(dir, 'web.yaml'), manifest('web'));
    await scanner.scan();
    unlinkSync(join(dir, 'web.yaml'));
    expect((await scanner.scan('notify')).map((d) => d.type)).to.deep.equal(['StaticPodRemoved', 'StaticPodsListed']);
  });
});

describe('static pod identity', () => {
  const text = manifest('web');
  const seenAt = new Date('2024-05-01T10:00:00.000Z');
  const uidOf = (t: string, file: string, node: string) => {
    const r = staticPodFromManifest(t, file, node, seenAt);
    if (isLeft(r)) throw new Error(r.left.join('; '));
    return r.right.uid;
  };

  it('is the md5 of host, file and canonical manifest', async () => {
    const { createHash } = await import('node:crypto');
    const parsed = { apiVersion: 'v1', kind: 'Pod', metadata: { name: 'web' }, spec: { containers: [{ name: 'main', image: 'busybox:1.36', command: ['sleep', '3600'] }] } };
    const expected = createHash('md5').update(`host:n1file:/etc/m/web.yaml${canonicalJson(parsed)}`).digest('hex');
    expect(staticPodUid(parsed, '/etc/m/web.yaml', 'n1')).to.equal(expected);
    expect(uidOf(text, '/etc/m/web.yaml', 'n1')).to.equal(expected);
  });

  it('changes with the node name, the file path and the content; not with formatting', () => {
    const base = uidOf(text, '/etc/m/web.yaml', 'n1');
    expect(uidOf(text, '/etc/m/web.yaml', 'n2')).to.not.equal(base);
    expect(uidOf(text, '/etc/m/web2.yaml', 'n1')).to.not.equal(base);
    expect(uidOf(manifest('web', 'busybox:1.37'), '/etc/m/web.yaml', 'n1')).to.not.equal(base);
    expect(uidOf(`# a comment\n${text}\n\n`, '/etc/m/web.yaml', 'n1')).to.equal(base);
  });

  it('keeps user annotations and namespace, and parses YAML 1.1 like upstream', () => {
    const r = staticPodFromManifest(manifest('web', 'busybox', '  namespace: kube-system\n  annotations:\n    team: infra\n'), '/m/w.yaml', 'n1', seenAt);
    expect(isRight(r)).to.equal(true);
    if (isRight(r)) {
      expect(r.right.pod.metadata.namespace).to.equal('kube-system');
      expect(r.right.pod.metadata.annotations).to.include({ team: 'infra', 'kubernetes.io/config.source': 'file' });
    }
    // `on` is a boolean in YAML 1.1 (sigs.k8s.io/yaml), so it is not a string image
    const yes = staticPodFromManifest(manifest('web', 'on'), '/m/w.yaml', 'n1', seenAt);
    expect(isLeft(yes)).to.equal(true);
  });
});
