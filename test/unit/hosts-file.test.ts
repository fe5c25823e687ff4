// The kubelet-managed /etc/hosts (issue #14 cause 2): the sandbox's hostname as upstream's
// GeneratePodHostNameAndDomain + GetNodenameForKernel, the file's text as managedHostsFileContent,
// its write inside the pod directory, and hostile names that try to add lines.
import { expect } from 'chai';
import { lstatSync, mkdirSync, readFileSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { isLeft, isRight } from 'fp-ts/lib/Either.js';
import { writePodHostsFile } from '../../src/adapters/fs/pod-hosts-file.ts';
import { hostsFileMount, podDirOf, wantsHostsFile } from '../../src/effects/cri/hosts-file.ts';
import { kernelHostname, sandboxConfig } from '../../src/effects/cri/sandbox-config.ts';
import { HostsFileError, managedHostsFileContent, nodeHostsFileContent } from '../../src/model/hosts-file.ts';
import { decodePod } from '../../src/model/pod.ts';
import { sandboxPlan, type ContainerPlan, type SandboxPlan } from '../../src/reducers/pods/plans.ts';
import { tempDirs } from './helpers/temp-dir.ts';
import { only, podManifest, readyNode, refFor } from './pods/scenario.ts';

const dns = { clusterDNS: ['10.96.0.10'], clusterDomain: 'cluster.local', host: { servers: [], searches: [], options: [] } };

describe('pod hostname and hosts file', () => {
  const dirs = tempDirs();
  afterEach(() => dirs.cleanup());

  it('the sandbox request carries hostname, subdomain, setHostnameAsFQDN and hostAliases as the spec gives them', () => {
    const s = readyNode();
    const aliases = [{ ip: '123.45.67.89', hostnames: ['foo.remote', 'bar.remote'] }];
    const ds = s.observe('PodObserved', { pod: podManifest('u1', {}, { hostname: 'web-0', subdomain: 'web', setHostnameAsFQDN: true, hostAliases: aliases }), origin: 'api' }, refFor('u1'));
    expect(ds.map((d) => d.type)).to.deep.equal(['PodStatusChanged', 'PodSandboxRequested']);
    const plan = (only(ds, 'PodSandboxRequested').data as { plan: SandboxPlan }).plan;
    expect({ hostname: plan.hostname, subdomain: plan.subdomain, setHostnameAsFQDN: plan.setHostnameAsFQDN, hostAliases: plan.hostAliases })
      .to.deep.equal({ hostname: 'web-0', subdomain: 'web', setHostnameAsFQDN: true, hostAliases: aliases });
    expect(kernelHostname(plan, dns)).to.equal('web-0.web.default.svc.cluster.local');
    expect(sandboxConfig(plan, dns).hostname).to.equal('web-0.web.default.svc.cluster.local');
  });

  it('a pod without those fields gets exactly the plan it got before (no new keys)', () => {
    const plan = sandboxPlan(decodeOk(podManifest('u2')), 0);
    expect(plan).to.not.have.any.keys('subdomain', 'setHostnameAsFQDN', 'hostAliases');
    expect(plan.hostname).to.equal('pod-u2');
    expect(kernelHostname(plan, dns)).to.equal('pod-u2');
  });

  it('hostnameOverride wins over hostname and subdomain and has no domain; long names are cut as upstream', () => {
    const o = sandboxPlan(decodeOk(podManifest('u3', {}, { hostnameOverride: 'my.custom.host', hostname: 'h', subdomain: 's', setHostnameAsFQDN: true })), 0);
    expect([o.hostname, o.subdomain, kernelHostname(o, dns)]).to.deep.equal(['my.custom.host', undefined, 'my.custom.host']);
    const long = sandboxPlan(decodeOk(podManifest('u4', { name: `${'a'.repeat(62)}-b` })), 0);
    expect(long.hostname).to.equal('a'.repeat(62));
    expect(sandboxPlan(decodeOk(podManifest('u5', {}, { hostNetwork: true, hostname: 'h' })), 0).hostname).to.equal('');
  });

  it('an FQDN longer than 64 characters fails the sandbox with upstream message', () => {
    const plan = sandboxPlan(decodeOk(podManifest('u6', {}, { hostname: 'h'.repeat(40), subdomain: 'sub', setHostnameAsFQDN: true })), 0);
    expect(() => kernelHostname(plan, dns)).to.throw(/^failed to construct FQDN from pod hostname and cluster domain, FQDN h{40}\.sub\.default\.svc\.cluster\.local is too long \(64 characters is the max, 70 characters requested\)$/);
  });

  it('writes upstream text: localhost lines, the pod IPs with FQDN and hostname, then hostAliases', () => {
    const text = managedHostsFileContent({ podIPs: ['10.92.0.7', 'fd00::7'], hostname: 'web-0', subdomain: 'web', hostNetwork: false, hostAliases: [{ ip: '1.2.3.4', hostnames: ['a.b', 'c'] }] }, 'web.ns.svc.cluster.local');
    expect(text).to.equal([
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
      '10.92.0.7\tweb-0.web.ns.svc.cluster.local\tweb-0',
      'fd00::7\tweb-0.web.ns.svc.cluster.local\tweb-0',
      '',
      '# Entries added by HostAliases.',
      '1.2.3.4\ta.b\tc',
      '',
    ].join('\n'));
    expect(managedHostsFileContent({ podIPs: ['10.92.0.7'], hostname: 'p', hostNetwork: false }, undefined).split('\n').slice(-2)).to.deep.equal(['10.92.0.7\tp', '']);
    expect(nodeHostsFileContent('127.0.0.1 localhost\n', [{ ip: '5.6.7.8', hostnames: ['x'] }]))
      .to.equal('# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n\n# Entries added by HostAliases.\n5.6.7.8\tx\n');
  });

  it('attack: names and addresses with newlines, blanks or # never reach the file', () => {
    for (const hostnames of [['ok\n6.6.6.6 evil'], ['a b'], ['x#y'], ['']]) {
      expect(() => managedHostsFileContent({ podIPs: ['10.0.0.1'], hostname: 'p', hostNetwork: false, hostAliases: [{ ip: '1.2.3.4', hostnames }] }, undefined)).to.throw(HostsFileError);
    }
    expect(() => nodeHostsFileContent('', [{ ip: '1.2.3.4\n6.6.6.6', hostnames: ['evil'] }])).to.throw(HostsFileError);
    expect(() => managedHostsFileContent({ podIPs: ['10.0.0.1'], hostname: 'p\n6.6.6.6\tkubernetes', hostNetwork: false }, undefined)).to.throw(HostsFileError);
    expect(() => managedHostsFileContent({ podIPs: ['10.0.0.1'], hostname: 'p', subdomain: 's', hostNetwork: false }, 's.ns.svc.x\ny')).to.throw(HostsFileError);
  });

  it('attack: a static pod with such names is refused when decoded, with readable problems', () => {
    const r = decodePod(podManifest('u7', {}, {
      hostname: 'h\n1.1.1.1 evil', subdomain: 'S', hostnameOverride: 'bad host',
      hostAliases: [{ ip: '1.2.3.4\n6.6.6.6', hostnames: ['ok', 'x\ty'] }],
    }));
    expect(isLeft(r) && r.left).to.deep.equal([
      'spec.hostname "h\\n1.1.1.1 evil": must be a DNS-1123 label',
      'spec.subdomain "S": must be a DNS-1123 label',
      'spec.hostnameOverride "bad host": must be a DNS-1123 subdomain',
      'spec.hostAliases[0].ip "1.2.3.4\\n6.6.6.6": must be a valid IP address',
      'spec.hostAliases[0].hostnames "x\\ty": must be a DNS-1123 subdomain',
    ]);
  });

  it('is written as <root>/pods/<uid>/etc-hosts, 0644, and never through a symlink put at its name', async () => {
    const root = dirs.make();
    const sandbox = sandboxPlan(decodeOk(podManifest('u8', {}, { hostAliases: [{ ip: '9.9.9.9', hostnames: ['nine'] }] })), 0);
    const m = await hostsFileMount(root, sandbox, ['10.92.0.8'], 'cluster.local');
    expect(m).to.deep.equal({ containerPath: '/etc/hosts', hostPath: join(root, 'pods', 'u8', 'etc-hosts'), readonly: false });
    expect(readFileSync(m.hostPath, 'utf8')).to.contain('10.92.0.8\tpod-u8\n').and.contain('9.9.9.9\tnine\n');
    expect(statSync(m.hostPath).mode & 0o777).to.equal(0o644);
    expect(statSync(join(root, 'pods', 'u8')).mode & 0o777).to.equal(0o750);
    // hostNetwork: the node's file, then the aliases
    const hn = sandboxPlan(decodeOk(podManifest('u9', {}, { hostNetwork: true, hostAliases: [{ ip: '9.9.9.9', hostnames: ['nine'] }] })), 0);
    const m2 = await hostsFileMount(root, hn, [], 'cluster.local', async () => '127.0.0.1 localhost node-host\n');
    expect(readFileSync(m2.hostPath, 'utf8')).to.equal('# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost node-host\n\n# Entries added by HostAliases.\n9.9.9.9\tnine\n');

    const victim = join(root, 'victim');
    writeFileSync(victim, 'precious\n');
    mkdirSync(join(root, 'pods', 'u10'), { recursive: true });
    symlinkSync(victim, join(root, 'pods', 'u10', 'etc-hosts'));
    let err: unknown;
    await writePodHostsFile(join(root, 'pods', 'u10'), 'evil\n').catch((e: unknown) => { err = e; });
    expect((err as { code?: string }).code).to.equal('ELOOP');
    expect(readFileSync(victim, 'utf8')).to.equal('precious\n');
    expect(lstatSync(join(root, 'pods', 'u10', 'etc-hosts')).isSymbolicLink()).to.equal(true);
  });

  it('a pod uid cannot name a path; the mount is skipped before the pod has an IP or over a /etc/hosts volume', () => {
    for (const uid of ['..', '../x', 'a/b', '', '.hidden']) expect(() => podDirOf('/r', uid), uid).to.throw(/cannot name a pod directory/);
    const sb = sandboxPlan(decodeOk(podManifest('u11')), 0);
    const plan = { mounts: [] } as unknown as ContainerPlan;
    expect([wantsHostsFile(plan, sb, []), wantsHostsFile(plan, sb, ['10.0.0.1'])]).to.deep.equal([false, true]);
    expect(wantsHostsFile({ mounts: [{ containerPath: '/etc/hosts', hostPath: '/v', readOnly: false }] } as unknown as ContainerPlan, sb, ['10.0.0.1'])).to.equal(false);
    expect(wantsHostsFile(plan, { ...sb, hostNetwork: true }, [])).to.equal(true);
  });
});

function decodeOk(raw: unknown) {
  const r = decodePod(raw);
  if (!isRight(r)) throw new Error(JSON.stringify(r.left));
  return r.right;
}
