// The kube adapters against the testbed's real kube-apiserver, with the NODE credentials
// (system:node:<name>, Node authorizer + NodeRestriction) wherever the agent would use them,
// and the admin credentials to set up and to read back.
import { expect } from 'chai';
import { tmpdir } from 'node:os';
import { PatchStrategy, setHeaderOptions, type V1Pod } from '@kubernetes/client-node';
import { connect, type KubeClients } from '../../src/adapters/kube/connect.ts';
import { call, KubeApiError } from '../../src/adapters/kube/errors.ts';
import { getNode, patchNodeStatus, patchNodeStatusRaw, registerNode } from '../../src/adapters/kube/node.ts';
import { ensureLease, getLease, leaseRenewTime, renewLease, NODE_LEASE_NAMESPACE } from '../../src/adapters/kube/lease.ts';
import { createMirrorPod, deleteMirrorPod, deletePod, patchPodStatus, ANNOTATION_CONFIG_MIRROR } from '../../src/adapters/kube/pods.ts';
import { bumpEvent, containerFieldPath, createEvent } from '../../src/adapters/kube/events.ts';
import { getConfigMap, getSecret, requestServiceAccountToken } from '../../src/adapters/kube/volume-sources.ts';
import { readNodeFacts } from '../../src/adapters/fs/node-info.ts';
import { nodeAddresses, nodeCapacity, nodeSystemInfo } from '../../src/adapters/kube/node-status.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { testbed as sharedTestbed } from '../helpers/testbed.ts';

/** Testbed coordinates from the environment, or from `scripts/testbed env` (the testbed must be up). */
function testbed() {
  const t = sharedTestbed();
  return { admin: t.adminKubeconfig, node: t.nodeKubeconfig, nodeName: t.nodeName };
}

async function expectKubeError(p: Promise<unknown>): Promise<KubeApiError> {
  try {
    await p;
  } catch (err) {
    expect(err).to.be.instanceOf(KubeApiError);
    return err as KubeApiError;
  }
  throw new Error('expected the call to fail');
}

const suffix = () => Math.random().toString(36).slice(2, 8);

describe('kube adapters against the testbed apiserver', function () {
  this.timeout(60_000);
  const tb = testbed();
  let admin: KubeClients;
  let node: KubeClients;
  let nodeUid: string;
  const cleanup: (() => Promise<unknown>)[] = [];

  before(async () => {
    admin = connect(tb.admin);
    node = connect(tb.node);
  });

  after(async () => {
    for (const f of cleanup.reverse()) await f().catch(() => undefined);
  });

  async function registerTestbedNode() {
    const { facts } = await readNodeFacts({ storageDir: tmpdir() });
    return registerNode(node, {
      nodeName: tb.nodeName,
      hostname: tb.nodeName,
      os: facts.operatingSystem,
      arch: facts.architecture,
      status: {
        capacity: nodeCapacity(facts),
        allocatable: nodeCapacity(facts),
        addresses: nodeAddresses(facts),
        nodeInfo: nodeSystemInfo(facts, { containerRuntimeVersion: 'containerd://1.6.20', kubeletVersion: 'v1.36.3' }),
      },
    });
  }

  async function podOnNode(name: string, extra: Partial<V1Pod['spec']> = {}): Promise<V1Pod> {
    const pod = await admin.core.createNamespacedPod({
      namespace: 'default',
      body: {
        metadata: { name },
        spec: { nodeName: tb.nodeName, containers: [{ name: 'main', image: 'busybox' }], ...extra },
      },
    });
    cleanup.push(() => admin.core.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 }));
    return pod;
  }

  // A ledgerlet agent of another test may run on this same node at the same time (the node
  // credentials allow one node name): assertions stick to what only this test writes.
  it('registers the node with the node credentials; the admin reads it back', async () => {
    const first = await registerTestbedNode();
    nodeUid = first.node.metadata!.uid!;
    const seen = await getNode(admin, tb.nodeName);
    expect(seen.metadata!.uid).to.equal(nodeUid);
    const labels = seen.metadata!.labels!;
    expect(labels['kubernetes.io/hostname']).to.equal(tb.nodeName);
    expect(labels['kubernetes.io/os']).to.equal('linux');
    expect(labels['kubernetes.io/arch']).to.be.oneOf(['amd64', 'arm64']);
    expect(labels['beta.kubernetes.io/os']).to.equal('linux');
    expect(seen.metadata!.annotations!['volumes.kubernetes.io/controller-managed-attach-detach']).to.equal('true');
    expect(seen.spec?.taints ?? []).to.not.deep.include({ key: 'node.kubernetes.io/unschedulable', effect: 'NoSchedule' });
    if (first.created) expect(first.node.status!.capacity!['hugepages-2Mi']).to.equal('0');

    // re-registration finds the same object and repairs a default label someone changed
    await admin.core.patchNode(
      { name: tb.nodeName, body: { metadata: { labels: { 'kubernetes.io/os': 'plan9' } } } },
      setHeaderOptions('Content-Type', PatchStrategy.MergePatch),
    );
    const again = await registerTestbedNode();
    expect(again.created).to.equal(false);
    expect(again.node.metadata!.uid).to.equal(nodeUid);
    expect((await getNode(admin, tb.nodeName)).metadata!.labels!['kubernetes.io/os']).to.equal('linux');
  });

  it('patches node status through the status subresource (strategic merge)', async () => {
    const current = await getNode(node, tb.nodeName);
    const now = new Date(Math.floor(Date.now() / 1000) * 1000);
    const marker = `ledgerlet test ${suffix()}`;
    const others = (current.status?.conditions ?? []).filter((c) => c.type !== 'LedgerletTest');
    const res = await patchNodeStatus(node, tb.nodeName, current, {
      ...current.status,
      conditions: [
        ...others,
        { type: 'LedgerletTest', status: 'True', reason: 'Testing', message: marker, lastHeartbeatTime: now, lastTransitionTime: now },
      ],
    });
    expect(res.sent).to.equal(true);
    // only the new condition travels (merged by type), nothing else of the status
    expect(Object.keys(res.patch['status'] as object).sort()).to.deep.equal(['$setElementOrder/conditions', 'conditions']);
    expect(res.node!.status!.conditions!.find((c) => c.type === 'LedgerletTest')?.message).to.equal(marker);
    const seen = await getNode(admin, tb.nodeName);
    const cond = seen.status!.conditions!.find((c) => c.type === 'LedgerletTest');
    expect(cond?.message).to.equal(marker);
    expect(new Date(cond!.lastHeartbeatTime as unknown as string).getTime()).to.equal(now.getTime());
    // nothing changed → nothing sent
    const noop = await patchNodeStatus(node, tb.nodeName, seen, seen.status!);
    expect(noop.sent).to.equal(false);
  });

  it("maps NodeRestriction's refusal to patch another node's status to Forbidden (403)", async () => {
    const other = `other-${suffix()}`;
    await admin.core.createNode({ body: { metadata: { name: other } } });
    cleanup.push(() => admin.core.deleteNode({ name: other }));
    const e = await expectKubeError(
      patchNodeStatusRaw(node, other, { status: { conditions: [{ type: 'Ready', status: 'True' }] } }),
    );
    expect(e.kind).to.equal('Forbidden');
    expect(e.status).to.equal(403);
    expect(e.operation).to.equal(`patch nodes/${other}/status`);
    const read = await expectKubeError(getNode(node, other));
    expect(read.kind).to.equal('Forbidden');
    const missing = await expectKubeError(getNode(admin, `absent-${suffix()}`));
    expect(missing.kind).to.equal('NotFound');
    expect(missing.status).to.equal(404);
  });

  it('creates and renews the node lease (renewTime follows the injected clock)', async () => {
    const clock = new VirtualClock(new Date(Math.floor(Date.now() / 1000) * 1000));
    const p = { nodeName: tb.nodeName, nodeUid, clock };
    const first = await ensureLease(node, p, await getLease(node, tb.nodeName));
    expect(first.metadata!.namespace).to.equal(NODE_LEASE_NAMESPACE);
    expect(first.spec!.holderIdentity).to.equal(tb.nodeName);
    expect(first.spec!.leaseDurationSeconds).to.equal(40);
    const t1 = leaseRenewTime(first)!;
    expect(t1).to.match(/\.\d{6}Z$/); // MicroTime
    expect(new Date(t1).getTime()).to.equal(clock.now().getTime());
    const owners = first.metadata!.ownerReferences ?? [];
    expect(owners).to.have.length(1);
    expect(owners[0]).to.deep.include({ apiVersion: 'v1', kind: 'Node', name: tb.nodeName, uid: nodeUid });

    await clock.advance(10_000);
    const second = await ensureLease(node, p, first);
    const t2 = leaseRenewTime(second)!;
    expect(new Date(t2).getTime() - new Date(t1).getTime()).to.equal(10_000);
    expect(second.metadata!.resourceVersion).to.not.equal(first.metadata!.resourceVersion);

    // renewing from the stale copy is refused (optimistic concurrency) ...
    const stale = await expectKubeError(renewLease(node, first, p));
    expect(stale.kind).to.equal('Conflict');
    expect(stale.status).to.equal(409);
    // ... and ensureLease recovers by re-reading
    await clock.advance(10_000);
    const third = await ensureLease(node, p, first);
    expect(new Date(leaseRenewTime(third)!).getTime() - new Date(t1).getTime()).to.equal(20_000);
    const adminView = await admin.coordination.readNamespacedLease({ name: tb.nodeName, namespace: NODE_LEASE_NAMESPACE });
    expect(adminView.spec!.holderIdentity).to.equal(tb.nodeName);
    expect(Number(adminView.metadata!.resourceVersion)).to.be.at.least(Number(third.metadata!.resourceVersion));
  });

  it('patches pod status with a uid precondition; the admin sees it', async () => {
    const created = await podOnNode(`status-${suffix()}`);
    const key = { namespace: 'default', name: created.metadata!.name!, uid: created.metadata!.uid! };
    const pod = await admin.core.readNamespacedPod({ namespace: 'default', name: key.name });
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const marker = `patched ${suffix()}`;
    const testCondition = (message: string) => ({ type: 'ledgerlet.test/Patched', status: 'True', message, lastTransitionTime: at });
    const { patch, pod: returned } = await patchPodStatus(node, key, pod.status, {
      ...pod.status,
      conditions: [...(pod.status?.conditions ?? []), testCondition(marker)],
    });
    expect(patch['metadata']).to.deep.equal({ uid: key.uid });
    expect(returned.status!.conditions!.find((c) => c.type === 'ledgerlet.test/Patched')?.message).to.equal(marker);
    const seen = await admin.core.readNamespacedPod({ namespace: 'default', name: key.name });
    expect(seen.status!.conditions!.find((c) => c.type === 'ledgerlet.test/Patched')?.message).to.equal(marker);

    // a patch meant for another pod of that name is refused
    const others = (seen.status!.conditions ?? []).filter((c) => c.type !== 'ledgerlet.test/Patched');
    const wrong = await expectKubeError(
      patchPodStatus(node, { ...key, uid: '00000000-0000-0000-0000-000000000000' }, seen.status, {
        ...seen.status,
        conditions: [...others, testCondition('WRONG')],
      }),
    );
    // metadata.uid is immutable, so the server refuses the patch as invalid
    expect(wrong.kind).to.equal('Invalid');
    expect(wrong.status).to.equal(422);
    expect(wrong.message).to.contain('metadata.uid');
    const after = await admin.core.readNamespacedPod({ namespace: 'default', name: key.name });
    expect(after.status!.conditions!.find((c) => c.type === 'ledgerlet.test/Patched')?.message).to.equal(marker);
  });

  it('creates a pod Event that the admin finds by involved object, and bumps its count', async () => {
    const pod = await podOnNode(`event-${suffix()}`);
    const at = new Date(Math.floor(Date.now() / 1000) * 1000);
    const ev = await createEvent(node, {
      involvedObject: { kind: 'Pod', namespace: 'default', name: pod.metadata!.name!, uid: pod.metadata!.uid!, fieldPath: containerFieldPath('main') },
      type: 'Normal',
      reason: 'Pulled',
      message: 'Container image "busybox" already present on machine',
      host: tb.nodeName,
      at,
    });
    cleanup.push(() => admin.core.deleteNamespacedEvent({ namespace: 'default', name: ev.metadata!.name! }));
    const list = await admin.core.listNamespacedEvent({
      namespace: 'default',
      fieldSelector: `involvedObject.uid=${pod.metadata!.uid}`,
    });
    expect(list.items).to.have.length(1);
    const seen = list.items[0]!;
    expect(seen.reason).to.equal('Pulled');
    expect(seen.type).to.equal('Normal');
    expect(seen.source).to.deep.equal({ component: 'kubelet', host: tb.nodeName });
    expect(seen.involvedObject.fieldPath).to.equal('spec.containers{main}');
    expect(seen.involvedObject.kind).to.equal('Pod');
    expect(seen.count).to.equal(1);
    expect(new Date(seen.firstTimestamp as unknown as string).getTime()).to.equal(at.getTime());

    const later = new Date(at.getTime() + 5000);
    const bumped = await bumpEvent(node, { namespace: 'default', name: ev.metadata!.name! }, 2, later);
    expect(bumped.count).to.equal(2);
    expect(new Date(bumped.lastTimestamp as unknown as string).getTime()).to.equal(later.getTime());
  });

  it('deletes a pod with grace period 0 only when the uid matches', async () => {
    const pod = await podOnNode(`delete-${suffix()}`);
    const key = { namespace: 'default', name: pod.metadata!.name!, uid: pod.metadata!.uid! };
    const wrong = await expectKubeError(deletePod(node, { ...key, uid: '00000000-0000-0000-0000-000000000000' }));
    expect(wrong.kind).to.equal('Conflict');
    expect(wrong.status).to.equal(409);
    expect(await deletePod(node, key)).to.deep.equal({ deleted: true });
    const gone = await expectKubeError(call('get pod', () => admin.core.readNamespacedPod({ namespace: 'default', name: key.name })));
    expect(gone.kind).to.equal('NotFound');
    expect(await deletePod(node, key)).to.deep.equal({ deleted: false });
  });

  it('creates and deletes a mirror pod owned by the node', async () => {
    const name = `static-${suffix()}-${tb.nodeName}`;
    const staticPod: V1Pod = {
      metadata: {
        name,
        namespace: 'default',
        uid: 'f00dfeedf00dfeedf00dfeedf00dfeed',
        annotations: { 'kubernetes.io/config.hash': 'f00dfeedf00dfeedf00dfeedf00dfeed', 'kubernetes.io/config.source': 'file' },
      },
      spec: { nodeName: tb.nodeName, containers: [{ name: 'main', image: 'busybox' }] },
    };
    const made = await createMirrorPod(node, staticPod, { name: tb.nodeName, uid: nodeUid });
    cleanup.push(() => admin.core.deleteNamespacedPod({ namespace: 'default', name, gracePeriodSeconds: 0 }));
    expect(made.created).to.equal(true);
    const seen = await admin.core.readNamespacedPod({ namespace: 'default', name });
    expect(seen.metadata!.annotations![ANNOTATION_CONFIG_MIRROR]).to.equal('f00dfeedf00dfeedf00dfeedf00dfeed');
    expect(seen.metadata!.ownerReferences).to.have.length(1);
    expect(seen.metadata!.ownerReferences![0]).to.deep.include({ kind: 'Node', name: tb.nodeName, uid: nodeUid, controller: true });
    expect(seen.metadata!.uid).to.not.equal('f00dfeedf00dfeedf00dfeedf00dfeed');

    const again = await createMirrorPod(node, staticPod, { name: tb.nodeName, uid: nodeUid });
    expect(again.created).to.equal(false);
    expect(again.pod.metadata!.uid).to.equal(seen.metadata!.uid);

    expect(await deleteMirrorPod(node, { namespace: 'default', name, uid: 'not-this-one' })).to.deep.equal({ deleted: false });
    expect(await deleteMirrorPod(node, { namespace: 'default', name, uid: seen.metadata!.uid! })).to.deep.equal({ deleted: true });
  });

  it('reads ConfigMaps and Secrets of pods bound to the node, and no others; issues bound tokens', async () => {
    const id = suffix();
    await admin.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-${id}` }, data: { k: 'v' } } });
    await admin.core.createNamespacedConfigMap({ namespace: 'default', body: { metadata: { name: `cm-other-${id}` }, data: { k: 'x' } } });
    await admin.core.createNamespacedSecret({ namespace: 'default', body: { metadata: { name: `sec-${id}` }, stringData: { pw: 'hunter2' } } });
    await admin.core.createNamespacedServiceAccount({ namespace: 'default', body: { metadata: { name: `sa-${id}` } } });
    cleanup.push(
      () => admin.core.deleteNamespacedConfigMap({ namespace: 'default', name: `cm-${id}` }),
      () => admin.core.deleteNamespacedConfigMap({ namespace: 'default', name: `cm-other-${id}` }),
      () => admin.core.deleteNamespacedSecret({ namespace: 'default', name: `sec-${id}` }),
      () => admin.core.deleteNamespacedServiceAccount({ namespace: 'default', name: `sa-${id}` }),
    );
    const pod = await podOnNode(`vols-${id}`, {
      serviceAccountName: `sa-${id}`,
      volumes: [
        { name: 'cm', configMap: { name: `cm-${id}` } },
        { name: 'sec', secret: { secretName: `sec-${id}` } },
        // NodeRestriction only lets the node ask for audiences its pods' projected volumes name
        { name: 'tok', projected: { sources: [{ serviceAccountToken: { audience: 'ledgerlet-test', expirationSeconds: 3600, path: 'token' } }] } },
      ],
    });
    // the Node authorizer learns the pod→configmap edge asynchronously: retry briefly on 403
    let cm;
    for (let i = 0; ; i++) {
      try {
        cm = await getConfigMap(node, 'default', `cm-${id}`);
        break;
      } catch (err) {
        if (!(err instanceof KubeApiError && err.kind === 'Forbidden') || i >= 50) throw err;
        await new Promise((r) => setTimeout(r, 100));
      }
    }
    expect(cm.data).to.deep.equal({ k: 'v' });
    const sec = await getSecret(node, 'default', `sec-${id}`);
    expect(Buffer.from(sec.data!['pw']!, 'base64').toString()).to.equal('hunter2');
    const other = await expectKubeError(getConfigMap(node, 'default', `cm-other-${id}`));
    expect(other.kind).to.equal('Forbidden');

    const tok = await requestServiceAccountToken(node, {
      namespace: 'default',
      serviceAccountName: `sa-${id}`,
      audiences: ['ledgerlet-test'],
      expirationSeconds: 3600,
      pod: { name: pod.metadata!.name!, uid: pod.metadata!.uid! },
    });
    expect(tok.token.split('.')).to.have.length(3); // a JWT
    const claims = JSON.parse(Buffer.from(tok.token.split('.')[1]!, 'base64url').toString());
    expect(claims.aud).to.deep.equal(['ledgerlet-test']);
    expect(claims['kubernetes.io'].pod.uid).to.equal(pod.metadata!.uid);
    expect(new Date(tok.expirationTimestamp).getTime()).to.be.greaterThan(new Date(pod.metadata!.creationTimestamp!).getTime());
  });
});
