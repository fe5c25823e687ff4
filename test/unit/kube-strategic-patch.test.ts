import { expect } from 'chai';
import { twoWayMergePatch, NODE_SCHEMA, POD_SCHEMA } from '../../src/adapters/kube/strategic-patch.ts';
import { podStatusPatch } from '../../src/adapters/kube/pods.ts';
import { nodeStatusPatch } from '../../src/adapters/kube/node.ts';
import { eventName } from '../../src/adapters/kube/events.ts';

describe('two-way strategic merge patch', () => {
  it('is empty when nothing changed', () => {
    const o = { status: { phase: 'Running', conditions: [{ type: 'Ready', status: 'True' }] } };
    expect(twoWayMergePatch(o, structuredClone(o), POD_SCHEMA)).to.deep.equal({});
  });

  it('sets changed scalars, recurses into maps and nulls removed keys', () => {
    const patch = twoWayMergePatch({ a: 1, m: { x: 1, y: 2 }, gone: 'v' }, { a: 2, m: { x: 1, y: 3 } });
    expect(patch).to.deep.equal({ a: 2, m: { y: 3 }, gone: null });
  });

  it('patches keyed lists by merge key with $setElementOrder and deletes', () => {
    const oldStatus = {
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'False', reason: 'ContainersNotReady' },
        { type: 'Stale', status: 'True' },
      ],
    };
    const newStatus = {
      conditions: [
        { type: 'Initialized', status: 'True' },
        { type: 'Ready', status: 'True' },
      ],
    };
    const patch = twoWayMergePatch({ status: oldStatus }, { status: newStatus }, POD_SCHEMA);
    expect(patch).to.deep.equal({
      status: {
        '$setElementOrder/conditions': [{ type: 'Initialized' }, { type: 'Ready' }],
        conditions: [
          { type: 'Ready', status: 'True', reason: null },
          { type: 'Stale', $patch: 'delete' },
        ],
      },
    });
  });

  it('replaces lists without a merge key (containerStatuses)', () => {
    const patch = twoWayMergePatch(
      { status: { containerStatuses: [{ name: 'a', ready: false }] } },
      { status: { containerStatuses: [{ name: 'a', ready: true }] } },
      POD_SCHEMA,
    );
    expect(patch).to.deep.equal({ status: { containerStatuses: [{ name: 'a', ready: true }] } });
  });

  it('pod status patch always carries the uid precondition', () => {
    const patch = podStatusPatch('uid-1', { phase: 'Pending' }, { phase: 'Running' });
    expect(patch).to.deep.equal({ metadata: { uid: 'uid-1' }, status: { phase: 'Running' } });
  });

  it('node status replaces addresses whole and merges conditions by type', () => {
    const old = {
      status: {
        addresses: [{ type: 'InternalIP', address: '10.0.0.1' }, { type: 'Hostname', address: 'n1' }],
        conditions: [{ type: 'Ready', status: 'False' }],
      },
    };
    const patch = nodeStatusPatch(old, {
      addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n1' }],
      conditions: [{ type: 'Ready', status: 'True' }],
    });
    expect(patch).to.deep.equal({
      status: {
        addresses: [{ type: 'InternalIP', address: '10.0.0.2' }, { type: 'Hostname', address: 'n1' }, { $patch: 'replace' }],
        '$setElementOrder/conditions': [{ type: 'Ready' }],
        conditions: [{ type: 'Ready', status: 'True' }],
      },
    });
    expect(twoWayMergePatch(old, old, NODE_SCHEMA)).to.deep.equal({});
  });

  it('turns Dates into their JSON form', () => {
    const t = new Date('2024-05-01T10:00:00.000Z');
    const patch = twoWayMergePatch({}, { status: { startTime: t } }, POD_SCHEMA);
    expect(patch).to.deep.equal({ status: { startTime: '2024-05-01T10:00:00.000Z' } });
  });
});

describe('event names', () => {
  it('are <object>.<hex unix nanos>, distinct for events in the same millisecond', () => {
    const at = new Date('2024-01-01T00:00:00.001Z');
    const base = (BigInt(at.getTime()) * 1_000_000n).toString(16);
    expect(eventName('web', at)).to.equal(`web.${base}`);
    expect(eventName('web', at, 7)).to.equal(`web.${(BigInt(at.getTime()) * 1_000_000n + 7n).toString(16)}`);
    expect(eventName('web', at, 7)).to.not.equal(eventName('web', at, 8));
  });
});
