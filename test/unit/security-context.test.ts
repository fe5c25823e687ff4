// Privileged sandboxes, no_new_privs and runAsNonRoot as upstream (issue #14 causes 10 and 11).
import { expect } from 'chai';
import { sandboxConfig } from '../../src/effects/cri/sandbox-config.ts';
import { podDesc, verifyRunAsNonRoot } from '../../src/model/run-as-non-root.ts';
import type { ContainerPlan, SandboxPlan } from '../../src/reducers/pods/plans.ts';
import { only, podManifest, readyNode, refFor } from './pods/scenario.ts';

const dns = { clusterDNS: [], clusterDomain: 'cluster.local', host: { servers: [], searches: [], options: [] } };
const image = '127.0.0.1:5000/busybox:1.36';

describe('security context', () => {
  it('a privileged init container marks the sandbox privileged; no privileged container, no key', () => {
    const s = readyNode();
    const ds = s.observe('PodObserved', { pod: podManifest('u1', {}, { initContainers: [{ name: 'setup', image, securityContext: { privileged: true } }] }), origin: 'api' }, refFor('u1'));
    expect(ds.map((d) => d.type)).to.deep.equal(['PodStatusChanged', 'PodSandboxRequested']);
    const plan = (only(ds, 'PodSandboxRequested').data as { plan: SandboxPlan }).plan;
    expect(plan.privileged).to.equal(true);
    expect(sandboxConfig(plan, dns).linux?.securityContext?.privileged).to.equal(true);

    const plain = (only(s.observe('PodObserved', { pod: podManifest('u2', {}, { containers: [{ name: 'app', image, securityContext: { privileged: false } }] }), origin: 'api' }, refFor('u2')), 'PodSandboxRequested').data as { plan: SandboxPlan }).plan;
    expect(plain).to.not.have.property('privileged');
    expect(sandboxConfig(plain, dns).linux?.securityContext).to.not.have.property('privileged');
  });

  it('the start decision carries noNewPrivs for allowPrivilegeEscalation: false and the effective runAsNonRoot', () => {
    const s = readyNode();
    const pod = podManifest('u3', {}, {
      securityContext: { runAsNonRoot: true },
      containers: [
        { name: 'a', image, securityContext: { allowPrivilegeEscalation: false } },
        { name: 'b', image, securityContext: { allowPrivilegeEscalation: true, runAsNonRoot: false } },
        { name: 'c', image },
      ],
    });
    const sb = only(s.observe('PodObserved', { pod, origin: 'api' }, refFor('u3')), 'PodSandboxRequested');
    const starts = s.outcome(sb, 'PodSandboxStarted', { sandboxId: 'sb-u3', ip: '10.88.0.7', ips: ['10.88.0.7'] }).filter((d) => d.type === 'ContainerStartRequested');
    const flags = starts.map((d) => {
      const p = (d.data as { plan: ContainerPlan }).plan;
      return { name: p.name, noNewPrivs: p.noNewPrivs, runAsNonRoot: p.runAsNonRoot };
    });
    expect(flags).to.deep.equal([
      { name: 'a', noNewPrivs: true, runAsNonRoot: true },
      { name: 'b', noNewPrivs: undefined, runAsNonRoot: undefined },
      { name: 'c', noNewPrivs: undefined, runAsNonRoot: true },
    ]);
  });

  it('runAsNonRoot: upstream messages for root, a named user and a bad uid; nothing when the user is not root', () => {
    const pod = podDesc('p', 'ns', 'u-1');
    expect(pod).to.equal('"p_ns(u-1)"');
    const cases: [Parameters<typeof verifyRunAsNonRoot>[0], Parameters<typeof verifyRunAsNonRoot>[1], string | undefined][] = [
      [{}, { uid: 0 }, undefined],
      [{ runAsNonRoot: true, runAsUser: 0 }, { uid: 1000 }, `container's runAsUser breaks non-root policy (pod: "p_ns(u-1)", container: c)`],
      [{ runAsNonRoot: true, runAsUser: 1000 }, { uid: 0 }, undefined],
      [{ runAsNonRoot: true }, { uid: 0 }, `container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c)`],
      [{ runAsNonRoot: true }, {}, `container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c)`],
      [{ runAsNonRoot: true }, undefined, `container has runAsNonRoot and image will run as root (pod: "p_ns(u-1)", container: c)`],
      [{ runAsNonRoot: true }, { username: 'nobody' }, `container has runAsNonRoot and image has non-numeric user (nobody), cannot verify user is non-root (pod: "p_ns(u-1)", container: c)`],
      [{ runAsNonRoot: true }, { uid: 65534, username: '' }, undefined],
      [{ runAsNonRoot: true }, { uid: -1 }, `container has runAsNonRoot and image has an invalid user id (-1). (Must be 1-(2147483647)): must be between 0 and 2147483647, inclusive (pod: "p_ns(u-1)", container: c)`],
    ];
    for (const [sc, img, want] of cases) expect(verifyRunAsNonRoot(sc, img, pod, 'c'), JSON.stringify([sc, img])).to.equal(want);
  });
});
