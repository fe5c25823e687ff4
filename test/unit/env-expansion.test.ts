import { expect } from 'chai';
import { expand, finishEnv } from '../../src/effects/cri/env.ts';
import { containerPlan } from '../../src/reducers/pods/plans.ts';
import { decodePod } from '../../src/model/pod.ts';
import { isRight } from 'fp-ts/lib/Either.js';

describe('container environment', () => {
  it('expands $(VAR) from earlier variables, keeps unknown references and unescapes $$', () => {
    const vars = new Map([['A', 'one'], ['B', 'two']]);
    expect(expand('$(A)-$(B)', vars)).to.equal('one-two');
    expect(expand('$(MISSING) and $$(A)', vars)).to.equal('$(MISSING) and $(A)');
  });

  it('resolves fieldRef and resourceFieldRef in the reducer, configMap and secret refs only in the effect', async () => {
    const r = decodePod({
      metadata: { name: 'p', namespace: 'ns1', uid: 'u1', labels: { app: 'web' } },
      spec: { containers: [{ name: 'c', image: 'busybox:1', resources: { limits: { memory: '64Mi' } }, command: ['echo', '$(GREETING) from $(POD_NAME)'], env: [
        { name: 'POD_NAME', valueFrom: { fieldRef: { fieldPath: 'metadata.name' } } },
        { name: 'POD_IP', valueFrom: { fieldRef: { fieldPath: 'status.podIP' } } },
        { name: 'APP', valueFrom: { fieldRef: { fieldPath: "metadata.labels['app']" } } },
        { name: 'MEM', valueFrom: { resourceFieldRef: { resource: 'limits.memory', divisor: '1Mi' } } },
        { name: 'GREETING', valueFrom: { configMapKeyRef: { name: 'cm', key: 'greeting' } } },
        { name: 'TOKEN', valueFrom: { secretKeyRef: { name: 's', key: 'token' } } },
        { name: 'BOTH', value: '$(APP)/$(GREETING)' },
      ] }] },
    });
    if (!isRight(r)) throw new Error(r.left.join());
    const pod = r.right;
    const plan = containerPlan(pod, pod.spec.containers[0], 'app', 0, { podIP: '10.88.0.4', nodeName: 'n1' });
    // The decision (what the log keeps) names the secret, never its value.
    expect(plan.env.find((e) => e.name === 'TOKEN')).to.deep.equal({ name: 'TOKEN', ref: { kind: 'secret', name: 's', key: 'token', optional: false } });
    expect(plan.env.find((e) => e.name === 'MEM')?.value).to.equal('64');
    const vars = await finishEnv(plan, 'ns1', {
      lookup: { configMap: async () => ({ greeting: 'hello' }), secret: async () => ({ token: 's3cret' }) },
    } as never);
    expect(Object.fromEntries(vars)).to.deep.equal({ POD_NAME: 'p', POD_IP: '10.88.0.4', APP: 'web', MEM: '64', GREETING: 'hello', TOKEN: 's3cret', BOTH: 'web/hello' });
    expect(expand(plan.command[1], vars)).to.equal('hello from p');
  });

  it('a missing configMap key is a CreateContainerConfigError unless optional', async () => {
    const r = decodePod({ metadata: { name: 'p', uid: 'u' }, spec: { containers: [{ name: 'c', image: 'b:1', env: [{ name: 'X', valueFrom: { configMapKeyRef: { name: 'cm', key: 'nope' } } }] }] } });
    if (!isRight(r)) throw new Error('decode');
    const plan = containerPlan(r.right, r.right.spec.containers[0], 'app', 0, { nodeName: 'n' });
    let err: Error | undefined;
    await finishEnv(plan, 'default', { lookup: { configMap: async () => ({ other: '1' }), secret: async () => undefined } } as never).catch((e) => (err = e));
    expect(err?.message).to.equal("couldn't find key nope in configMap default/cm");
  });
});
