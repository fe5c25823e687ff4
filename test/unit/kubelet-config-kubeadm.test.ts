// What a kubeadm node hands the agent: --register-with-taints in kubeadm-flags.env, and a
// config.yaml whose cgroupDriver ledgerlet must not silently ignore.
import { expect } from 'chai';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { parseKubeletConfig, parseTaintsFlag } from '../../src/model/kubelet-config.ts';

describe('kubeadm compatibility of the configuration', () => {
  it('parses --register-with-taints as upstream: key=value:Effect and key:Effect, comma-separated', () => {
    const r = parseTaintsFlag('node-role.kubernetes.io/control-plane:NoSchedule, dedicated=infra:NoExecute');
    expect(isRight(r) && r.right).to.deep.equal([
      { key: 'node-role.kubernetes.io/control-plane', effect: 'NoSchedule' },
      { key: 'dedicated', value: 'infra', effect: 'NoExecute' },
    ]);
  });

  it('refuses a taint without a known effect, naming it', () => {
    const r = parseTaintsFlag('a=b:Sometimes');
    expect(isLeft(r) && r.left).to.contain('a=b:Sometimes');
    expect(isLeft(parseTaintsFlag('novalue'))).to.equal(true);
  });

  it('decodes registerWithTaints from the config file with and without values', () => {
    const r = parseKubeletConfig('registerWithTaints:\n- {key: a, value: b, effect: NoSchedule}\n- {key: c, effect: PreferNoSchedule}\n');
    expect(isRight(r) && r.right.registerWithTaints).to.deep.equal([{ key: 'a', value: 'b', effect: 'NoSchedule' }, { key: 'c', effect: 'PreferNoSchedule' }]);
    expect(isLeft(parseKubeletConfig('registerWithTaints:\n- {key: a, effect: Never}\n'))).to.equal(true);
  });

  it('refuses cgroupDriver: systemd with the fix in the message, accepts cgroupfs', () => {
    const r = parseKubeletConfig('cgroupDriver: systemd\n');
    expect(isLeft(r) && r.left.join()).to.match(/cgroupDriver: systemd is not supported.*cgroupfs.*docs\/install\.md/);
    expect(isRight(parseKubeletConfig('cgroupDriver: cgroupfs\n'))).to.equal(true);
  });
});
