import { expect } from 'chai';
import { isLeft } from 'fp-ts/lib/Either.js';
import { decodeWith } from '../../src/model/decode.ts';
import { Pod } from '../../src/model/pod.ts';
import { isDns1123Label, isDns1123Subdomain, isSafeUid, validateStaticPod } from '../../src/model/static-pod-validation.ts';

const pod = (over: { metadata?: object; spec?: object } = {}): Pod => {
  const raw = {
    metadata: { name: 'web', ...(over.metadata ?? {}) },
    spec: { containers: [{ name: 'main', image: 'busybox:1.36' }], ...(over.spec ?? {}) },
  };
  const r = decodeWith(Pod, raw);
  if (isLeft(r)) throw new Error(r.left.join('; '));
  return r.right;
};
const problems = (over: { metadata?: object; spec?: object }, node = 'node-a') => validateStaticPod(pod(over), node);

describe('static pod validation', () => {
  it('accepts a plain valid pod', () => {
    expect(problems({})).to.deep.equal([]);
    expect(problems({
      metadata: { namespace: 'kube-system', uid: '11111111-2222-3333-4444-555555555555' },
      spec: {
        volumes: [{ name: 'data', emptyDir: {} }, { name: 'etc', hostPath: { path: '/etc' } }],
        initContainers: [{ name: 'init', image: 'b', volumeMounts: [{ name: 'data', mountPath: '/d', subPath: 'a/b' }] }],
        containers: [{ name: 'main', image: 'b', volumeMounts: [{ name: 'data', mountPath: '/d' }, { name: 'etc', mountPath: '/host/etc', readOnly: true, subPathExpr: '$(POD)/x' }] }],
      },
    })).to.deep.equal([]);
  });

  it('DNS-1123 helpers match apimachinery', () => {
    expect(isDns1123Subdomain('a.b-c.d')).to.equal(true);
    expect(isDns1123Subdomain('a'.repeat(253))).to.equal(true);
    expect(isDns1123Subdomain('a'.repeat(254))).to.equal(false);
    for (const bad of ['', 'A', '-a', 'a-', 'a..b', 'a/b', '../x', 'a_b', '.a']) expect(isDns1123Subdomain(bad), bad).to.equal(false);
    expect(isDns1123Label('a'.repeat(63))).to.equal(true);
    expect(isDns1123Label('a'.repeat(64))).to.equal(false);
    expect(isDns1123Label('a.b')).to.equal(false);
  });

  it('rejects a path-traversal uid, and any uid that is not one safe path component', () => {
    const [p] = problems({ metadata: { uid: '../../../../tmp/pwned' } });
    expect(p).to.match(/^metadata\.uid: Invalid value: "\.\.\/\.\.\/\.\.\/\.\.\/tmp\/pwned": must consist of letters, digits and '-'/);
    for (const bad of ['..', '.', 'a/b', '/abs', 'a_b', 'a b', '-a', 'a-', 'x'.repeat(129), 'a\0b']) expect(isSafeUid(bad), JSON.stringify(bad)).to.equal(false);
    for (const good of ['0123456789abcdef0123456789abcdef', 'ABCDEF-0123', 'x']) expect(isSafeUid(good), good).to.equal(true);
  });

  it('rejects a path-traversal name and namespace', () => {
    expect(problems({ metadata: { name: '../../etc' } })[0]).to.match(/^metadata\.name: Invalid value: "\.\.\/\.\.\/etc": a lowercase RFC 1123 subdomain/);
    expect(problems({ metadata: { namespace: '../x' } })[0]).to.match(/^metadata\.namespace: Invalid value: "\.\.\/x": a lowercase RFC 1123 label/);
    expect(problems({ metadata: { namespace: 'a.b' } })[0]).to.match(/^metadata\.namespace/);
    expect(problems({ metadata: { name: '' } })).to.deep.equal(['metadata.name: Required value: name is needed for the pod']);
  });

  it('checks the name the pod runs under, with the node name appended', () => {
    expect(problems({ metadata: { name: 'a'.repeat(250) } }, 'node-a')[0]).to.match(/^metadata\.name: Invalid value: "a{80}"\.\.\.: with the node name appended/);
    expect(problems({ metadata: { name: 'a'.repeat(200) } }, 'Node-A')).to.deep.equal([]);
  });

  it('cuts long values so a hostile name cannot flood the log', () => {
    const [p] = problems({ metadata: { name: 'X'.repeat(100_000) } });
    expect(p.length).to.be.lessThan(400);
  });

  it('rejects duplicate and invalid container names across init and app containers', () => {
    expect(problems({ spec: { containers: [{ name: 'a', image: 'b' }, { name: 'a', image: 'b' }] } })).to.deep.equal(['spec.containers[1].name: Duplicate value: "a"']);
    expect(problems({ spec: { initContainers: [{ name: 'a', image: 'b' }], containers: [{ name: 'a', image: 'b' }] } })).to.deep.equal(['spec.containers[0].name: Duplicate value: "a"']);
    expect(problems({ spec: { containers: [{ name: 'Main_1', image: 'b' }] } })[0]).to.match(/^spec\.containers\[0\]\.name: Invalid value: "Main_1": a lowercase RFC 1123 label/);
    expect(problems({ spec: { containers: [] } })).to.deep.equal(['spec.containers: Required value']);
    expect(problems({ spec: { containers: [{ name: 'a' }] } })).to.deep.equal(['spec.containers[0].image: Required value']);
    expect(problems({ spec: { initContainers: [{ name: 'i', image: 'b', restartPolicy: 'Never' }] } })).to.deep.equal(['spec.initContainers[0].restartPolicy: Unsupported value: "Never": supported values: "Always"']);
  });

  it('rejects invalid and duplicate volume names, and mounts of unknown volumes', () => {
    expect(problems({ spec: { volumes: [{ name: 'v', emptyDir: {} }, { name: 'v', emptyDir: {} }] } })).to.deep.equal(['spec.volumes[1].name: Duplicate value: "v"']);
    expect(problems({ spec: { volumes: [{ name: '../v', emptyDir: {} }] } })[0]).to.match(/^spec\.volumes\[0\]\.name: Invalid value: "\.\.\/v"/);
    expect(problems({ spec: { containers: [{ name: 'a', image: 'b', volumeMounts: [{ name: 'nope', mountPath: '/x' }] }] } })).to.deep.equal(['spec.containers[0].volumeMounts[0].name: Not found: "nope"']);
  });

  it('requires absolute, unique mountPaths and relative subPaths without ".."', () => {
    const mounts = (...volumeMounts: object[]) => problems({ spec: { volumes: [{ name: 'v', emptyDir: {} }], containers: [{ name: 'a', image: 'b', volumeMounts }] } });
    expect(mounts({ name: 'v', mountPath: 'rel' })).to.deep.equal(['spec.containers[0].volumeMounts[0].mountPath: Invalid value: "rel": must be an absolute path']);
    expect(mounts({ name: 'v', mountPath: '/x' }, { name: 'v', mountPath: '/x' })).to.deep.equal(['spec.containers[0].volumeMounts[1].mountPath: Invalid value: "/x": must be unique']);
    expect(mounts({ name: 'v', mountPath: '/x', subPath: '/etc' })).to.deep.equal(['spec.containers[0].volumeMounts[0].subPath: Invalid value: "/etc": must be a relative path']);
    expect(mounts({ name: 'v', mountPath: '/x', subPath: 'a/../../b' })).to.deep.equal(['spec.containers[0].volumeMounts[0].subPath: Invalid value: "a/../../b": must not contain \'..\'']);
    expect(mounts({ name: 'v', mountPath: '/x', subPath: 'a..b/c..' })).to.deep.equal([]);
    expect(mounts({ name: 'v', mountPath: '/x', subPathExpr: '$(X)/..' })).to.deep.equal(['spec.containers[0].volumeMounts[0].subPathExpr: Invalid value: "$(X)/..": must not contain \'..\'']);
    expect(mounts({ name: 'v', mountPath: '/x', subPath: 'a', subPathExpr: 'b' })[0]).to.match(/subPathExpr and subPath are mutually exclusive/);
  });

  it('refuses references to API objects, as upstream PreventStaticPodAPIReferences', () => {
    expect(problems({ spec: { serviceAccountName: 'sa' } })).to.deep.equal(['spec.serviceAccountName: Forbidden: static pods may not reference serviceaccounts']);
    expect(problems({ spec: { imagePullSecrets: [{ name: 'regcred' }] } })).to.deep.equal(['spec: Forbidden: static pods may not reference secrets']);
    expect(problems({ spec: { containers: [{ name: 'a', image: 'b', env: [{ name: 'X', valueFrom: { secretKeyRef: { name: 's', key: 'k' } } }] }] } })).to.deep.equal(['spec: Forbidden: static pods may not reference secrets']);
    expect(problems({ spec: { containers: [{ name: 'a', image: 'b', envFrom: [{ configMapRef: { name: 'c' } }] }] } })).to.deep.equal(['spec: Forbidden: static pods may not reference configmaps']);
    expect(problems({ spec: { volumes: [{ name: 's', secret: { secretName: 'x' } }] } })).to.deep.equal(['spec.volumes[0]: Forbidden: static pods may not reference secrets (via secret volumes)']);
    expect(problems({ spec: { volumes: [{ name: 'p', projected: { sources: [{ downwardAPI: {} }, { serviceAccountToken: { path: 't' } }] } }] } }))
      .to.deep.equal(['spec.volumes[0]: Forbidden: static pods may not reference serviceaccounts (via projected volumes)']);
    expect(problems({ spec: { volumes: [{ name: 'p', projected: { sources: [{ downwardAPI: {} }] } }, { name: 'h', hostPath: { path: '/x' } }] } })).to.deep.equal([]);
  });
});
