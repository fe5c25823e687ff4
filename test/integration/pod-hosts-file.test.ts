// The kubelet-managed /etc/hosts and the pod's hostname against the real agent, containerd and
// API server (issue #14 cause 2): what a container sees in /etc/hosts and `hostname`.
import { expect } from 'chai';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { parseCriLogLine } from '../../src/adapters/fs/cri-log.ts';
import { getJson, kubectl, startWithCleanPods, stopAfterDeletingPods, waitFor, type RunningAgent, type TestbedEnv } from './helpers/agent.ts';

const NS = 'default';
const LABEL = 'ledgerlet-test=hosts-file';

function pod(env: TestbedEnv, name: string, spec: Record<string, unknown>, script = 'cat /etc/hosts; echo HOSTNAME=$(hostname); sleep 3600'): string {
  return JSON.stringify({
    apiVersion: 'v1', kind: 'Pod',
    metadata: { name, namespace: NS, labels: { 'ledgerlet-test': 'hosts-file' } },
    spec: { nodeName: env.TESTBED_NODE_NAME, terminationGracePeriodSeconds: 1, automountServiceAccountToken: false, containers: [{ name: 'main', image: env.TESTBED_IMAGE_BUSYBOX, command: ['sh', '-c', script] }], ...spec },
  });
}

/** What the container printed, from its CRI log file (the testbed's API server does not trust the agent's serving certificate). */
async function logsOnce(env: TestbedEnv, name: string): Promise<string> {
  return waitFor(`${name} printed its hosts file`, async () => {
    const p = await getJson(env, ['-n', NS, 'get', 'pod', name]);
    const file = `/var/log/pods/${NS}_${name}_${p.metadata.uid}/main/0.log`;
    if (!existsSync(file)) return undefined;
    const out = readFileSync(file, 'utf8').split('\n').filter((l) => l !== '').map((l) => parseCriLogLine(l)?.message ?? '').join('\n') + '\n';
    return out.includes('HOSTNAME=') ? out : undefined;
  }, 120_000, 1000);
}

describe('kubelet-managed /etc/hosts (ledgerlet run + containerd)', function () {
  this.timeout(300_000);
  let env: TestbedEnv;
  let agent: RunningAgent | undefined;

  before(async () => ({ env, agent } = await startWithCleanPods(NS, LABEL)));
  after(() => stopAfterDeletingPods(env, agent, NS, LABEL));

  it('a pod-network pod sees its IP with hostname and FQDN, its hostAliases, and an FQDN hostname', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'hosts-fqdn', {
      hostname: 'web-0', subdomain: 'web', setHostnameAsFQDN: true,
      hostAliases: [{ ip: '123.45.67.89', hostnames: ['foo.remote', 'bar.remote'] }, { ip: '::2', hostnames: ['six'] }],
    }));
    const out = await logsOnce(env, 'hosts-fqdn');
    const p = await getJson(env, ['-n', NS, 'get', 'pod', 'hosts-fqdn']);
    const ip: string = p.status.podIP;
    expect(ip).to.match(/^\d+\.\d+\.\d+\.\d+$/);
    expect(out).to.equal([
      '# Kubernetes-managed hosts file.',
      '127.0.0.1\tlocalhost',
      '::1\tlocalhost ip6-localhost ip6-loopback',
      'fe00::0\tip6-localnet',
      'fe00::0\tip6-mcastprefix',
      'fe00::1\tip6-allnodes',
      'fe00::2\tip6-allrouters',
      `${ip}\tweb-0.web.${NS}.svc.cluster.local\tweb-0`,
      '',
      '# Entries added by HostAliases.',
      '123.45.67.89\tfoo.remote\tbar.remote',
      '::2\tsix',
      `HOSTNAME=web-0.web.${NS}.svc.cluster.local`,
      '',
    ].join('\n'));
    // The file lives in the pod's directory, as upstream.
    const file = join(agent!.rootDir, 'pods', p.metadata.uid, 'etc-hosts');
    expect(readFileSync(file, 'utf8')).to.equal(out.slice(0, out.indexOf('HOSTNAME=')));
  });

  it('hostnameOverride names the pod without a domain; a plain pod gets its name', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'hosts-override', { hostnameOverride: 'custom.host.name', subdomain: 'web' }));
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'hosts-plain', {}));
    const o = await logsOnce(env, 'hosts-override');
    const oip = (await getJson(env, ['-n', NS, 'get', 'pod', 'hosts-override'])).status.podIP;
    expect(o).to.contain(`\n${oip}\tcustom.host.name\n`).and.contain('\nHOSTNAME=custom.host.name\n');
    const pl = await logsOnce(env, 'hosts-plain');
    const pip = (await getJson(env, ['-n', NS, 'get', 'pod', 'hosts-plain'])).status.podIP;
    expect(pl).to.contain(`\n${pip}\thosts-plain\n`).and.contain('\nHOSTNAME=hosts-plain\n').and.not.contain('HostAliases');
  });

  it('a hostNetwork pod gets the node\'s hosts file with its hostAliases appended', async () => {
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'hosts-hostnet', { hostNetwork: true, hostAliases: [{ ip: '10.1.2.3', hostnames: ['alias.one'] }] }));
    const out = await logsOnce(env, 'hosts-hostnet');
    const body = out.slice(0, out.indexOf('HOSTNAME='));
    expect(body).to.equal(`# Kubernetes-managed hosts file (host network).\n${readFileSync('/etc/hosts', 'utf8')}\n# Entries added by HostAliases.\n10.1.2.3\talias.one\n`);
  });

  it('attack: the API server refuses a hostAlias with a newline, and the pod\'s hosts file has no extra lines', async () => {
    const err = await kubectl(env, ['apply', '-f', '-'], pod(env, 'hosts-evil', { hostAliases: [{ ip: '1.2.3.4', hostnames: ['ok\n6.6.6.6 kubernetes.default'] }] })).then(() => '', (e: Error) => e.message);
    expect(err).to.match(/hostAliases/);
    // A container writing to /etc/hosts changes only its pod's file; the node's stays as it was.
    const before = readFileSync('/etc/hosts', 'utf8');
    await kubectl(env, ['apply', '-f', '-'], pod(env, 'hosts-writer', {}, 'echo "6.6.6.6 evil" >> /etc/hosts; echo HOSTNAME=$(hostname); sleep 3600'));
    await logsOnce(env, 'hosts-writer');
    expect(readFileSync('/etc/hosts', 'utf8')).to.equal(before);
    const uid = (await getJson(env, ['-n', NS, 'get', 'pod', 'hosts-writer'])).metadata.uid;
    expect(readFileSync(join(agent!.rootDir, 'pods', uid, 'etc-hosts'), 'utf8')).to.contain('6.6.6.6 evil');
    await kubectl(env, ['-n', NS, 'delete', 'pod', 'hosts-writer', '--wait=true', '--timeout=90s']);
    await waitFor('the pod directory removed with the pod', async () => (existsSync(join(agent!.rootDir, 'pods', uid)) ? undefined : true), 60_000);
  });
});
