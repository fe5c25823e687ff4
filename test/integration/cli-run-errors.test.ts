// Bad input to `ledgerlet run` gives a readable error and a non-zero exit, never a stack trace;
// a runtime that does not answer is reported and the agent keeps running.
import { expect } from 'chai';
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, writeFileSync } from 'node:fs';
import { request as httpsRequest } from 'node:https';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';

const cli = resolve(import.meta.dirname, '../../bin/ledgerlet.js');

function run(args: string[]) {
  const r = spawnSync(process.execPath, [cli, 'run', ...args], { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: r.stdout + r.stderr };
}

describe('ledgerlet run: bad input', function () {
  this.timeout(120_000);
  const dir = mkdtempSync(join(tmpdir(), 'ledgerlet-cli-'));

  it('an invalid KubeletConfiguration names the field and exits 2', () => {
    writeFileSync(join(dir, 'bad.yaml'), 'maxPods: "lots"\nsyncFrequency: 5x\n');
    const r = run(['--root-dir', join(dir, 'r1'), '--config', join(dir, 'bad.yaml')]);
    expect(r.code).to.equal(2);
    expect(r.out).to.include('maxPods: expected number, got \\"lots\\"');
    expect(r.out).to.include('syncFrequency: expected a duration');
    expect(r.out).to.not.include('    at ');
  });

  it('a kubeconfig that cannot be read is a readable start-up error', () => {
    const r = run(['--root-dir', join(dir, 'r2'), '--kubeconfig', join(dir, 'missing.kubeconfig')]);
    expect(r.code).to.equal(1);
    expect(r.out).to.include('ledgerlet could not start');
    expect(r.out).to.include('missing.kubeconfig');
  });

  it('a runtime that does not answer is reported, and the agent keeps running until told to stop', async () => {
    const port = 20000 + (process.pid % 20000);
    const apiPort = port + 1;
    // Standalone: the kubelet API answers anyone (anonymous, AlwaysAllow) so its /metrics can be read without an API server.
    writeFileSync(join(dir, 'health.yaml'), `apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nhealthzPort: ${port}\nport: ${apiPort}\nauthentication:\n  anonymous:\n    enabled: true\nauthorization:\n  mode: AlwaysAllow\n`);
    const child = spawn(process.execPath, [cli, 'run', '--root-dir', join(dir, 'r3'), '--config', join(dir, 'health.yaml'), '--container-runtime-endpoint', `unix://${join(dir, 'no-runtime.sock')}`], { stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    // A failed assertion must not leave the agent running (it would hold its ports and a core).
    try {
      const deadline = Date.now() + 60_000;
      while (!out.includes('RuntimeUnreachable') && Date.now() < deadline && child.exitCode === null) await new Promise((r) => setTimeout(r, 200));
      expect(out).to.include('RuntimeUnreachable');
      expect(child.exitCode).to.equal(null);
      // The kubelet API still answers, and its metrics show the log growing; the healthz port serves /healthz only, as upstream.
      const metrics = await insecureGet(`https://127.0.0.1:${apiPort}/metrics`);
      expect((await fetch(`http://127.0.0.1:${port}/metrics`)).status).to.equal(404);
      expect(metrics).to.match(/ledgerlet_log_entries_total\{kind="observation"\} [1-9]/);
      expect(metrics).to.include('kubelet_running_pods 0');
      child.kill('SIGTERM');
      const code = await new Promise((r) => child.on('exit', r));
      expect(code).to.equal(0);
      expect(out).to.include('ledgerlet stopped; pods keep running');
    } finally {
      if (child.exitCode === null) child.kill('SIGKILL');
    }
  });
});

/** GET over TLS without checking the agent's self-signed serving certificate. */
function insecureGet(url: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const req = httpsRequest(url, { rejectUnauthorized: false }, (res) => {
      let body = '';
      res.on('data', (d) => (body += d));
      res.on('end', () => resolve(body));
    });
    req.on('error', reject);
    req.end();
  });
}
