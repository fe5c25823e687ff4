// The testbed's control plane as tests and people see it: kube-apiserver serving real TLS with
// the testbed's own CA, answering /readyz to the admin kubeconfig, reporting the pinned
// Kubernetes version, and the built kubectl reporting the same pin.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { join } from 'node:path';
import { apiRequest, kubeconfigTls, pinnedK8sVersion, testbed } from '../helpers/testbed.ts';

describe('testbed: kube-apiserver over TLS', function () {
  const tb = testbed();
  const admin = kubeconfigTls(tb.adminKubeconfig);

  it('answers /readyz with "ok" to the admin kubeconfig, its certificate verified against the testbed CA', async function () {
    expect(admin.server).to.equal(tb.apiserver);
    expect(admin.server.startsWith('https://127.0.0.1:')).to.equal(true);
    const res = await apiRequest(admin, 'GET', '/readyz');
    expect(res.status, res.text).to.equal(200);
    expect(res.text).to.equal('ok');
    const verbose = await apiRequest(admin, 'GET', '/readyz?verbose');
    expect(verbose.status, verbose.text).to.equal(200);
    expect(verbose.text).to.match(/^\[\+\]etcd ok$/m);
    expect(verbose.text).to.contain('readyz check passed');
  });

  it('is not trusted without the testbed CA (the TLS is real, not skipped)', async function () {
    let err: (Error & { code?: string }) | undefined;
    try {
      await apiRequest({ server: admin.server, ...(admin.cert ? { cert: admin.cert } : {}), ...(admin.key ? { key: admin.key } : {}) }, 'GET', '/readyz');
    } catch (e) {
      err = e as Error & { code?: string };
    }
    expect(err, 'the request should fail certificate verification').to.not.equal(undefined);
    expect(err?.code ?? err?.message).to.match(/CERT|SELF_SIGNED|UNABLE_TO_VERIFY|certificate/i);
  });

  it('refuses a client without a certificate access to nodes', async function () {
    const res = await apiRequest({ server: admin.server, ca: admin.ca }, 'GET', '/api/v1/nodes');
    expect([401, 403]).to.include(res.status);
  });

  it('authenticates the admin as a member of system:masters', async function () {
    const res = await apiRequest(admin, 'POST', '/apis/authentication.k8s.io/v1/selfsubjectreviews', {
      apiVersion: 'authentication.k8s.io/v1',
      kind: 'SelfSubjectReview',
    });
    expect(res.status, res.text).to.equal(201);
    const groups = res.json<{ status: { userInfo: { groups: string[] } } }>().status.userInfo.groups;
    expect(groups).to.include('system:masters');
  });

  it('reports the Kubernetes version pinned in testbed/k8s/go.mod, as does the built kubectl', async function () {
    const pin = pinnedK8sVersion();
    expect(tb.k8sVersion).to.equal(pin);
    const res = await apiRequest(admin, 'GET', '/version');
    expect(res.status, res.text).to.equal(200);
    expect(res.json<{ gitVersion: string }>().gitVersion).to.equal(pin);
    const out = execFileSync(join(tb.bin, 'kubectl'), ['version', '--client', '-o', 'json'], { encoding: 'utf8' });
    expect((JSON.parse(out) as { clientVersion: { gitVersion: string } }).clientVersion.gitVersion).to.equal(pin);
  });
});
