// The systemd unit and its kubeadm-shaped drop-in: systemd accepts them, they keep containers
// alive across agent restarts, and every flag kubeadm hands the kubelet is one `ledgerlet run` takes.
import { expect } from 'chai';
import { execFileSync } from 'node:child_process';
import { existsSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { buildProgram } from '../../src/cli/program.ts';

const repo = resolve(import.meta.dirname, '../..');
const unit = readFileSync(join(repo, 'packaging/ledgerlet.service'), 'utf8');
const dropIn = readFileSync(join(repo, 'packaging/ledgerlet.service.d/10-kubeadm.conf'), 'utf8');
const settings = (text: string) => text.split('\n').filter((l) => /^\w+=/.test(l)).map((l) => l.trim());

describe('packaging: the systemd unit', function () {
  this.timeout(60_000); // loading every command's modules takes seconds on a busy machine
  it('restarts always, signals only the agent on stop (containers outlive it) and delegates cgroups', () => {
    expect(settings(unit)).to.include.members(['Restart=always', 'KillMode=process', 'Delegate=yes', 'StartLimitInterval=0']);
  });

  it('passes systemd-analyze verify', function () {
    if (!existsSync('/usr/bin/systemd-analyze')) throw new Error('systemd-analyze is missing: scripts/install installs systemd');
    const dir = mkdtempSync(join(tmpdir(), 'ledgerlet-unit-'));
    try {
      // verify checks that ExecStart's program exists: point it at this checkout's.
      writeFileSync(join(dir, 'ledgerlet.service'), unit.replace('/usr/local/bin/ledgerlet', join(repo, 'bin/ledgerlet.js')));
      const out = execFileSync('systemd-analyze', ['verify', join(dir, 'ledgerlet.service')], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'] });
      expect(out).to.not.match(/ledgerlet\.service:\d+/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('the drop-in uses kubeadm\'s variables and files, and every flag it or kubeadm-flags.env passes is one `run` takes', async () => {
    for (const v of ['$KUBELET_KUBECONFIG_ARGS', '$KUBELET_CONFIG_ARGS', '$KUBELET_KUBEADM_ARGS', '$KUBELET_EXTRA_ARGS']) expect(dropIn).to.contain(v);
    expect(dropIn).to.contain('EnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env');
    const run = (await buildProgram()).commands.find((c) => c.name() === 'run');
    const flags = new Set(run?.options.map((o) => o.long));
    const inDropIn = [...dropIn.matchAll(/--([a-z-]+)=/g)].map((m) => `--${m[1]}`);
    // The flags kubeadm v1.36 writes into kubeadm-flags.env (cmd/kubeadm/app/phases/kubelet/flags.go).
    const kubeadm = ['--container-runtime-endpoint', '--hostname-override', '--node-ip', '--register-with-taints'];
    for (const f of [...inDropIn, ...kubeadm]) expect(flags.has(f), f).to.equal(true);
  });
});
