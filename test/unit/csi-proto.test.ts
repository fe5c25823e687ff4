// The CSI proto loads through the same loader as CRI, has the services the agent calls, and the
// response codecs decode what a plugin sends (after a trip through the wire format).
import { expect } from 'chai';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import type * as t from 'io-ts';
import { decodeWith } from '../../src/model/decode.ts';
import { CSI_PROTO, loadProto, serviceDefinition } from '../../src/adapters/cri/proto.ts';
import { IDENTITY_SERVICE, NODE_SERVICE, CsiClient } from '../../src/adapters/csi/client.ts';
import * as C from '../../src/adapters/csi/codecs.ts';
import { CsiError, Status } from '../../src/adapters/csi/errors.ts';

const def = loadProto(CSI_PROTO);
const identity = serviceDefinition(def, IDENTITY_SERVICE);
const node = serviceDefinition(def, NODE_SERVICE);

function method(svc: typeof node, name: string) {
  const m = svc[name];
  if (!m) throw new Error(`no method ${name}`);
  return m;
}
const wire = (svc: typeof node, name: string, response: object): unknown => {
  const m = method(svc, name);
  return m.responseDeserialize(m.responseSerialize(response));
};
function ok<A>(codec: t.Decoder<unknown, A>, raw: unknown): A {
  const r = decodeWith(codec, raw);
  if (isLeft(r)) throw new Error(r.left.join('; '));
  return r.right;
}

describe('CSI proto', () => {
  it('has the Identity methods with their gRPC paths', () => {
    for (const m of ['GetPluginInfo', 'GetPluginCapabilities', 'Probe']) {
      expect(method(identity, m).path).to.equal(`/csi.v1.Identity/${m}`);
      expect(method(identity, m).requestStream).to.equal(false);
    }
  });

  it('has the Node methods with their gRPC paths', () => {
    for (const m of ['NodeGetInfo', 'NodeGetCapabilities', 'NodeStageVolume', 'NodeUnstageVolume', 'NodePublishVolume', 'NodeUnpublishVolume']) {
      expect(method(node, m).path).to.equal(`/csi.v1.Node/${m}`);
      expect(method(node, m).responseStream).to.equal(false);
    }
  });

  it('serialises a NodePublishVolume request with a mount capability and secrets intact', () => {
    const m = method(node, 'NodePublishVolume');
    const req = {
      volumeId: 'vol-1',
      targetPath: '/var/lib/kubelet/pods/u/volumes/kubernetes.io~csi/pv/mount',
      volumeCapability: { mount: { fsType: 'ext4', mountFlags: ['noatime'] }, accessMode: { mode: 'SINGLE_NODE_WRITER' } },
      readonly: true,
      secrets: { token: 's3cret' },
      volumeContext: { size: '1Gi' },
    };
    const back = m.requestDeserialize(m.requestSerialize(req)) as Record<string, unknown>;
    expect(back.volumeId).to.equal('vol-1');
    expect(back.readonly).to.equal(true);
    expect(back.secrets).to.deep.equal({ token: 's3cret' });
    expect(back.volumeCapability).to.deep.include({ accessType: 'mount', accessMode: { mode: 'SINGLE_NODE_WRITER' } });
    expect(back.volumeCapability).to.not.have.property('block');
    expect((back.volumeCapability as { mount: unknown }).mount).to.deep.include({ fsType: 'ext4', mountFlags: ['noatime'] });
  });

  it('decodes plugin info, capabilities and probe', () => {
    expect(ok(C.PluginInfo, wire(identity, 'GetPluginInfo', { name: 'hostpath.csi.k8s.io', vendorVersion: 'v1.0.0' }))).to.deep.equal({
      name: 'hostpath.csi.k8s.io',
      vendorVersion: 'v1.0.0',
      manifest: {},
    });
    const caps = ok(
      C.PluginCapabilities,
      wire(identity, 'GetPluginCapabilities', { capabilities: [{ service: { type: 'CONTROLLER_SERVICE' } }, { volumeExpansion: { type: 'ONLINE' } }] }),
    );
    expect(caps).to.deep.equal({ services: ['CONTROLLER_SERVICE'], volumeExpansion: ['ONLINE'] });
    expect(ok(C.ProbeResponse, wire(identity, 'Probe', {}))).to.deep.equal({ ready: true });
    expect(ok(C.ProbeResponse, wire(identity, 'Probe', { ready: { value: false } }))).to.deep.equal({ ready: false });
  });

  it('decodes node info and node capabilities', () => {
    const info = ok(C.NodeGetInfoResponse, wire(node, 'NodeGetInfo', { nodeId: 'node-a', maxVolumesPerNode: '16', accessibleTopology: { segments: { zone: 'z1' } } }));
    expect(info).to.deep.equal({ nodeId: 'node-a', maxVolumesPerNode: 16, accessibleTopology: { zone: 'z1' } });
    const caps = ok(C.NodeGetCapabilitiesResponse, wire(node, 'NodeGetCapabilities', { capabilities: [{ rpc: { type: 'STAGE_UNSTAGE_VOLUME' } }, { rpc: { type: 'GET_VOLUME_STATS' } }] }));
    expect(caps).to.deep.equal(['STAGE_UNSTAGE_VOLUME', 'GET_VOLUME_STATS']);
    // a capability newer than our proto arrives as a number and is kept, not fatal
    expect(ok(C.NodeGetCapabilitiesResponse, { capabilities: [{ rpc: { type: 42 } }] })).to.deep.equal(['UNKNOWN_42']);
  });

  it('reports a malformed node info readably', () => {
    const r = decodeWith(C.NodeGetInfoResponse, { nodeId: 5, maxVolumesPerNode: 'many', accessibleTopology: null });
    expect(isRight(r)).to.equal(false);
    const p = isLeft(r) ? r.left : [];
    expect(p.some((x) => x.startsWith('nodeId: '))).to.equal(true, p.join('\n'));
    expect(p.some((x) => x.startsWith('maxVolumesPerNode: ') && x.includes('"many"'))).to.equal(true, p.join('\n'));
  });

  it('builds a client without I/O and names CSI in its errors', () => {
    const c = new CsiClient('/run/csi/nothing.sock');
    expect(c.endpoint).to.equal('unix:///run/csi/nothing.sock');
    c.close();
    const e = new CsiError({ kind: 'rpc', code: Status.NOT_FOUND, details: 'volume vol-1 not found', service: 'Node', method: 'NodeUnpublishVolume', endpoint: c.endpoint });
    expect(e.isNotFound()).to.equal(true);
    expect(e.message).to.equal('CSI Node/NodeUnpublishVolume on unix:///run/csi/nothing.sock failed: NOT_FOUND: volume vol-1 not found');
  });
});
