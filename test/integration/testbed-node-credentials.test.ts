// The node's credentials on the testbed: the apiserver knows them as system:node:<name> in
// group system:nodes, the Node authorizer and the NodeRestriction admission plugin are on, so
// the node may neither read nor modify another Node, may label its own Node but not with
// node-restriction.kubernetes.io/ labels, and may not read a Secret that no pod bound to it uses. Each refusal is paired with the admin doing the same request successfully, so the
// 403 can only come from the node's restrictions.
import { expect } from 'chai';
import { randomBytes } from 'node:crypto';
import { apiRequest, kubeconfigTls, testbed } from '../helpers/testbed.ts';

describe('testbed: node credentials and NodeRestriction', function () {
  const tb = testbed();
  const admin = kubeconfigTls(tb.adminKubeconfig);
  const node = kubeconfigTls(tb.nodeKubeconfig);
  const suffix = randomBytes(4).toString('hex');
  const otherNode = `testbed-other-node-${suffix}`;
  const secretName = `testbed-node-secret-${suffix}`;

  before(async function () {
    const created = await apiRequest(admin, 'POST', '/api/v1/nodes', {
      apiVersion: 'v1',
      kind: 'Node',
      metadata: { name: otherNode, labels: { 'ledgerlet.test/owner': 'testbed-node-credentials' } },
    });
    expect(created.status, created.text).to.equal(201);
    const secret = await apiRequest(admin, 'POST', '/api/v1/namespaces/default/secrets', {
      apiVersion: 'v1',
      kind: 'Secret',
      metadata: { name: secretName },
      stringData: { token: 'not-for-the-node' },
    });
    expect(secret.status, secret.text).to.equal(201);
  });

  after(async function () {
    await apiRequest(admin, 'DELETE', `/api/v1/nodes/${otherNode}`);
    await apiRequest(admin, 'DELETE', `/api/v1/namespaces/default/secrets/${secretName}`);
  });

  it('authenticates the node as system:node:<name> in group system:nodes', async function () {
    expect(node.user).to.equal(`system:node:${tb.nodeName}`);
    const res = await apiRequest(node, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(res.status, res.text).to.equal(201);
    const info = res.json<{ status: { userInfo: { username: string; groups: string[] } } }>().status.userInfo;
    expect(info.username).to.equal(`system:node:${tb.nodeName}`);
    expect(info.groups).to.include('system:nodes');
    expect(info.groups).to.not.include('system:masters');
  });

  it('refuses the node reading or patching another node, while the admin may patch it', async function () {
    const read = await apiRequest(node, 'GET', `/api/v1/nodes/${otherNode}`);
    expect(read.status, read.text).to.equal(403);
    expect(read.json<{ message: string }>().message).to.contain('only its own Node object');

    const patch = { metadata: { labels: { 'ledgerlet.test/patched-by': 'node' } } };
    const refused = await apiRequest(node, 'PATCH', `/api/v1/nodes/${otherNode}`, patch, 'application/merge-patch+json');
    expect(refused.status, refused.text).to.equal(403);
    // this refusal comes from the NodeRestriction admission plugin (the authorizer let it through)
    expect(refused.json<{ message: string }>().message).to.contain(`node "${tb.nodeName}" is not allowed to modify node "${otherNode}"`);

    const unchanged = await apiRequest(admin, 'GET', `/api/v1/nodes/${otherNode}`);
    expect(unchanged.json<{ metadata: { labels: Record<string, string> } }>().metadata.labels).to.not.have.property('ledgerlet.test/patched-by');

    // the same patch is valid: the admin may apply it
    const allowed = await apiRequest(admin, 'PATCH', `/api/v1/nodes/${otherNode}`, patch, 'application/merge-patch+json');
    expect(allowed.status, allowed.text).to.equal(200);
    expect(allowed.json<{ metadata: { labels: Record<string, string> } }>().metadata.labels['ledgerlet.test/patched-by']).to.equal('node');
  });

  it('lets the node label its own Node but NodeRestriction refuses node-restriction.kubernetes.io/ labels', async function () {
    const own = `/api/v1/nodes/${tb.nodeName}`;
    let createdOwn = false;
    const existing = await apiRequest(node, 'GET', own);
    if (existing.status === 404) {
      // a node may register itself: NodeRestriction allows creating its own Node object
      const created = await apiRequest(node, 'POST', '/api/v1/nodes', { apiVersion: 'v1', kind: 'Node', metadata: { name: tb.nodeName } });
      expect(created.status, created.text).to.equal(201);
      createdOwn = true;
    } else {
      expect(existing.status, existing.text).to.equal(200);
    }
    try {
      const label = `ledgerlet.test/self-${suffix}`;
      const ok = await apiRequest(node, 'PATCH', own, { metadata: { labels: { [label]: 'yes' } } }, 'application/merge-patch+json');
      expect(ok.status, ok.text).to.equal(200);
      expect(ok.json<{ metadata: { labels: Record<string, string> } }>().metadata.labels[label]).to.equal('yes');

      const restricted = `node-restriction.kubernetes.io/ledgerlet-${suffix}`;
      const refused = await apiRequest(node, 'PATCH', own, { metadata: { labels: { [restricted]: 'yes' } } }, 'application/merge-patch+json');
      expect(refused.status, refused.text).to.equal(403);
      expect(refused.json<{ message: string }>().message).to.contain('is not allowed to modify labels');
      expect(refused.json<{ message: string }>().message).to.contain(restricted);

      const cleaned = await apiRequest(node, 'PATCH', own, { metadata: { labels: { [label]: null } } }, 'application/merge-patch+json');
      expect(cleaned.status, cleaned.text).to.equal(200);
    } finally {
      if (createdOwn) await apiRequest(admin, 'DELETE', own);
    }
  });

  it('refuses the node a Secret that no pod bound to it references (Node authorizer)', async function () {
    const refused = await apiRequest(node, 'GET', `/api/v1/namespaces/default/secrets/${secretName}`);
    expect(refused.status, refused.text).to.equal(403);
    const allowed = await apiRequest(admin, 'GET', `/api/v1/namespaces/default/secrets/${secretName}`);
    expect(allowed.status, allowed.text).to.equal(200);
  });
});
