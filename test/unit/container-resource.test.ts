import { expect } from 'chai';
import { isRight } from 'fp-ts/lib/Either.js';
import { containerResourceValue } from '../../src/model/container-resource.ts';
import { decodePod } from '../../src/model/pod.ts';
import { containerPlan } from '../../src/reducers/pods/plans.ts';

const node = { cpu: '2', memory: '4Gi', 'ephemeral-storage': '20Gi' };

describe('downward API: container resource values (upstream ExtractContainerResourceValue)', () => {
  const limited = { resources: { limits: { cpu: '500m', memory: '128Mi', 'ephemeral-storage': '1Gi', 'hugepages-2Mi': '4Mi' }, requests: { cpu: '250m', memory: '64Mi' } } };
  const value = (c: object, resource: string, divisor?: string | number) => containerResourceValue(c, resource, divisor, node);

  it('treats the API server default divisor "0" (and an unset one) as 1', () => {
    expect(value(limited, 'limits.cpu', '0')).to.deep.equal({ value: '1' });
    expect(value(limited, 'limits.cpu', 0)).to.deep.equal({ value: '1' });
    expect(value(limited, 'limits.memory', '0')).to.deep.equal({ value: String(128 * 2 ** 20) });
    expect(value(limited, 'limits.memory')).to.deep.equal({ value: String(128 * 2 ** 20) });
    expect(value(limited, 'requests.cpu', '1m')).to.deep.equal({ value: '250' });
    expect(value(limited, 'requests.memory', '1Mi')).to.deep.equal({ value: '64' });
    expect(value(limited, 'limits.ephemeral-storage', '1Mi')).to.deep.equal({ value: '1024' });
    expect(value(limited, 'limits.hugepages-2Mi', '1Mi')).to.deep.equal({ value: '4' });
  });

  it('reads unset cpu/memory/ephemeral-storage limits as node allocatable; unset requests as 0', () => {
    const bare = {};
    expect(value(bare, 'limits.cpu', '0')).to.deep.equal({ value: '2' });
    expect(value(bare, 'limits.cpu', '1m')).to.deep.equal({ value: '2000' });
    expect(value(bare, 'limits.memory', '1Mi')).to.deep.equal({ value: '4096' });
    expect(value(bare, 'limits.ephemeral-storage', '1Gi')).to.deep.equal({ value: '20' });
    expect(value({ resources: { limits: { cpu: '0' } } }, 'limits.cpu', '1m')).to.deep.equal({ value: '2000' });
    expect(value(bare, 'requests.cpu', '0')).to.deep.equal({ value: '0' });
    expect(value(bare, 'requests.memory', '0')).to.deep.equal({ value: '0' });
    expect(value(bare, 'limits.hugepages-2Mi', '0')).to.deep.equal({ value: '0' });
    // A request left unset takes the container's own limit, never the node's.
    expect(value({ resources: { limits: { memory: '1Gi' } } }, 'requests.memory', '1Mi')).to.deep.equal({ value: '1024' });
  });

  it('rounds up to whole divisor units without floating point noise', () => {
    expect(value({ resources: { limits: { cpu: '100m' } } }, 'limits.cpu', '1m')).to.deep.equal({ value: '100' });
    expect(value({ resources: { limits: { cpu: '1.1' } } }, 'limits.cpu', '100m')).to.deep.equal({ value: '11' });
    expect(value({ resources: { limits: { cpu: '1001m' } } }, 'limits.cpu', '1')).to.deep.equal({ value: '2' });
    expect(value({ resources: { limits: { memory: '1025' } } }, 'limits.memory', '1Ki')).to.deep.equal({ value: '2' });
  });

  it('names what it cannot read', () => {
    expect(value(limited, 'limits.gpu', '0')).to.have.property('error').that.matches(/unsupported container resource: limits.gpu/);
    expect(value(limited, 'cpu', '0')).to.have.property('error').that.matches(/unsupported/);
    expect(value(limited, 'limits.cpu', 'lots')).to.have.property('error').that.matches(/invalid divisor/);
    expect(value({ resources: { limits: { cpu: 'x' } } }, 'limits.cpu', '1')).to.have.property('error').that.matches(/invalid quantity/);
  });

  it('resolves env resourceFieldRef with the defaulted divisor and allocatable in the start plan', () => {
    const r = decodePod({
      metadata: { name: 'p', namespace: 'ns1', uid: 'u1' },
      spec: { containers: [{ name: 'c', image: 'busybox:1', env: [
        { name: 'CPU_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.cpu', divisor: '0' } } },
        { name: 'MEMORY_LIMIT', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '0' } } },
        { name: 'CPU_REQUEST', valueFrom: { resourceFieldRef: { resource: 'requests.cpu', divisor: '0' } } },
        { name: 'BAD', valueFrom: { resourceFieldRef: { resource: 'limits.nothing' } } },
      ] }] },
    });
    if (!isRight(r)) throw new Error(r.left.join());
    const plan = containerPlan(r.right, r.right.spec.containers[0], 'app', 0, { nodeName: 'n1', allocatable: node });
    expect(plan.env.slice(0, 3)).to.deep.equal([{ name: 'CPU_LIMIT', value: '2' }, { name: 'MEMORY_LIMIT', value: String(4 * 2 ** 30) }, { name: 'CPU_REQUEST', value: '0' }]);
    expect(plan.env[3].error).to.match(/cannot resolve resource limits.nothing: unsupported/);
  });
});
