import { expect } from 'chai';
import { tmpdir } from 'node:os';
import {
  formatBinaryQuantity, goArch, parseBootId, parseMachineId, parseMeminfo, parseOsRelease, pickNodeIP, readNodeFacts,
} from '../../src/adapters/fs/node-info.ts';

const MEMINFO = `MemTotal:        8152384 kB
MemFree:          512000 kB
MemAvailable:    4096000 kB
`;

const OS_RELEASE = `PRETTY_NAME="Debian GNU/Linux 12 (bookworm)"
NAME="Debian GNU/Linux"
VERSION_ID="12"
VERSION="12 (bookworm)"
ID=debian
# comment
HOME_URL="https://www.debian.org/"
`;

describe('node-info parsers', () => {
  it('parses MemTotal in kB into bytes', () => {
    expect(parseMeminfo(MEMINFO)).to.deep.equal({ ok: true, value: { memTotalBytes: 8152384 * 1024 } });
  });

  it('rejects meminfo without MemTotal', () => {
    const r = parseMeminfo('MemFree: 1 kB\n');
    expect(r.ok).to.equal(false);
    if (!r.ok) expect(r.problem).to.contain('MemTotal');
  });

  it('parses PRETTY_NAME, ID and VERSION_ID from os-release', () => {
    expect(parseOsRelease(OS_RELEASE)).to.deep.equal({
      ok: true, value: { prettyName: 'Debian GNU/Linux 12 (bookworm)', id: 'debian', versionId: '12' },
    });
  });

  it('falls back to NAME + VERSION and fails on an empty file', () => {
    expect(parseOsRelease('NAME=Alpine\nVERSION=3.19\n')).to.deep.equal({ ok: true, value: { prettyName: 'Alpine 3.19' } });
    expect(parseOsRelease('\n# nothing\n').ok).to.equal(false);
  });

  it('validates boot id and machine id', () => {
    expect(parseBootId('3F2504E0-4F89-11D3-9A0C-0305E82C3301\n')).to.deep.equal({ ok: true, value: '3f2504e0-4f89-11d3-9a0c-0305e82c3301' });
    expect(parseBootId('not-a-uuid').ok).to.equal(false);
    expect(parseMachineId('0123456789abcdef0123456789ABCDEF\n')).to.deep.equal({ ok: true, value: '0123456789abcdef0123456789abcdef' });
    expect(parseMachineId('0123').ok).to.equal(false);
  });

  it('maps Node architectures to GOARCH', () => {
    expect(goArch('x64')).to.equal('amd64');
    expect(goArch('arm64')).to.equal('arm64');
    expect(goArch('ia32')).to.equal('386');
  });

  it('picks the first non-loopback, non-bridge IPv4 address, or the override', () => {
    const ifaces = {
      lo: [{ address: '127.0.0.1', family: 'IPv4', internal: true, netmask: '255.0.0.0', mac: '', cidr: null }],
      cni0: [{ address: '10.88.0.1', family: 'IPv4', internal: false, netmask: '255.255.0.0', mac: '', cidr: null }],
      eth0: [
        { address: 'fe80::1', family: 'IPv6', internal: false, netmask: '', mac: '', cidr: null, scopeid: 1 },
        { address: '192.168.1.20', family: 'IPv4', internal: false, netmask: '255.255.255.0', mac: '', cidr: null },
      ],
    } as unknown as Parameters<typeof pickNodeIP>[0];
    expect(pickNodeIP(ifaces)).to.deep.equal({ ok: true, value: '192.168.1.20' });
    expect(pickNodeIP(ifaces, '10.1.2.3')).to.deep.equal({ ok: true, value: '10.1.2.3' });
    expect(pickNodeIP(ifaces, 'not-an-ip').ok).to.equal(false);
    expect(pickNodeIP({})).to.deep.equal({ ok: true, value: undefined });
  });

  it('formats byte counts as canonical BinarySI quantities', () => {
    expect(formatBinaryQuantity(8152384 * 1024)).to.equal('8152384Ki');
    expect(formatBinaryQuantity(2 * 1024 * 1024 * 1024)).to.equal('2Gi');
    expect(formatBinaryQuantity(1000)).to.equal('1000');
    expect(formatBinaryQuantity(0)).to.equal('0');
  });

  it('reads the facts of this machine', async () => {
    const { facts } = await readNodeFacts({ storageDir: tmpdir(), hostnameOverride: 'Node-A' });
    expect(facts.hostname).to.equal('node-a');
    expect(facts.memoryBytes).to.be.greaterThan(0);
    expect(facts.ephemeralStorageBytes).to.be.greaterThan(0);
    expect(facts.cpuCount).to.be.greaterThan(0);
    expect(facts.bootID).to.match(/^[0-9a-f-]{36}$/);
    expect(facts.osImage).to.be.a('string').and.not.equal('');
    expect(facts.operatingSystem).to.equal('linux');
  });

  it('reports every missing required fact at once', async () => {
    const err = await readNodeFacts({ storageDir: '/nonexistent-dir-xyz', procRoot: '/nonexistent-proc' }).then(
      () => undefined,
      (e: unknown) => e as Error & { problems: string[] },
    );
    expect(err?.problems).to.be.an('array');
    expect(err!.problems.join('\n')).to.contain('meminfo').and.contain('boot_id').and.contain('statfs');
  });
});

describe('node status from facts', () => {
  it('reports capacity in canonical quantities and addresses in upstream order', async () => {
    const { nodeCapacity, nodeAddresses } = await import('../../src/adapters/kube/node-status.ts');
    const facts = {
      hostname: 'n1', nodeIP: '10.0.0.5', cpuCount: 2, memoryBytes: 8152384 * 1024, ephemeralStorageBytes: 20 * 1024 ** 3,
      kernelVersion: '6.1.0', osImage: 'Debian GNU/Linux 12 (bookworm)', operatingSystem: 'linux' as const,
      architecture: 'amd64', bootID: 'b', machineID: undefined, systemUUID: undefined,
    };
    expect(nodeCapacity(facts)).to.deep.equal({
      cpu: '2', memory: '8152384Ki', 'ephemeral-storage': '20Gi', pods: '110', 'hugepages-1Gi': '0', 'hugepages-2Mi': '0',
    });
    expect(nodeAddresses(facts)).to.deep.equal([{ type: 'InternalIP', address: '10.0.0.5' }, { type: 'Hostname', address: 'n1' }]);
    expect(nodeAddresses({ ...facts, nodeIP: undefined })).to.deep.equal([{ type: 'Hostname', address: 'n1' }]);
  });
});
