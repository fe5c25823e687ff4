// The httpGet, tcpSocket and grpc probe handlers against real servers: the testbed's agnhost
// binary (netexec for HTTP/TCP, grpc-health-checking for gRPC) run on this host on free ports.
// The exec handler needs a container and is covered through the agent in probes.test.ts.
import { expect } from 'chai';
import { spawn, type ChildProcess } from 'node:child_process';
import { createServer } from 'node:net';
import { join } from 'node:path';
import { grpcProbe, httpGetProbe, httpProbe, probeHeaders, tcpProbe, tcpSocketProbe } from '../../src/adapters/probe/index.ts';
import type { ProbeTarget } from '../../src/model/probe-observations.ts';
import { testbedEnv, waitFor } from './helpers/agent.ts';

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
    s.on('error', reject);
  });
}

const target = (ports: ProbeTarget['ports'] = []): ProbeTarget => ({
  podUid: 'u', pod: { uid: 'u', namespace: 'default', name: 'p' }, container: 'c', containerId: 'id', startedAt: new Date().toISOString(), podIP: '127.0.0.1', ports,
});

describe('probe handlers against agnhost (httpGet, tcpSocket, grpc)', function () {
  this.timeout(60_000);
  const children: ChildProcess[] = [];
  let http: number;
  let grpcPort: number;
  let grpcHttp: number;
  let closed: number;

  before(async () => {
    const env = await testbedEnv();
    const agnhost = join(env.TESTBED_BIN, 'agnhost');
    [http, grpcPort, grpcHttp, closed] = [await freePort(), await freePort(), await freePort(), await freePort()];
    children.push(spawn(agnhost, ['netexec', `--http-port=${http}`, '--udp-port=-1'], { stdio: 'ignore' }));
    children.push(spawn(agnhost, ['grpc-health-checking', `--port=${grpcPort}`, `--http-port=${grpcHttp}`, '--service=app'], { stdio: 'ignore' }));
    await waitFor('netexec up', async () => ((await tcpProbe('127.0.0.1', http, 1)).result === 'success' ? true : undefined), 20_000, 100);
    await waitFor('grpc health up', async () => ((await tcpProbe('127.0.0.1', grpcPort, 1)).result === 'success' ? true : undefined), 20_000, 100);
  });

  after(() => {
    for (const c of children) if (c.exitCode === null) c.kill('SIGTERM');
  });

  const get = (path: string, headers = probeHeaders({ port: http })) => httpProbe(new URL(`http://127.0.0.1:${http}${path}`), headers, 2);

  describe('httpGet', () => {
    it('2xx is success, other codes fail with upstream\'s message', async () => {
      expect(await get('/echo?msg=ok')).to.deep.include({ result: 'success' });
      expect(await get('/echo?msg=x&code=299')).to.deep.include({ result: 'success' });
      expect(await get('/echo?msg=x&code=500')).to.deep.equal({ result: 'failure', detail: 'HTTP probe failed with statuscode: 500' });
      expect(await get('/echo?msg=x&code=404')).to.deep.equal({ result: 'failure', detail: 'HTTP probe failed with statuscode: 404' });
    });

    it('sends kube-probe/1.36, Accept */* and the probe\'s headers (a given User-Agent wins)', async () => {
      const headers = probeHeaders({ port: http, httpHeaders: [{ name: 'X-Custom', value: 'v1' }] });
      expect(headers).to.deep.equal({ 'X-Custom': 'v1', 'User-Agent': 'kube-probe/1.36', Accept: '*/*' });
      expect(probeHeaders({ port: 1, httpHeaders: [{ name: 'user-agent', value: 'mine' }, { name: 'Accept', value: '' }] })).to.deep.equal({ 'user-agent': 'mine' });
      // netexec's /header returns the request headers it received
      const seen = await new Promise<string>((resolve, reject) => {
        import('node:http').then(({ request }) => {
          const req = request({ host: '127.0.0.1', port: http, path: '/header', headers }, (res) => {
            let b = '';
            res.on('data', (c) => (b += c));
            res.on('end', () => resolve(b));
          });
          req.on('error', reject);
          req.end();
        }, reject);
      });
      expect(JSON.parse(seen)).to.deep.include({ 'User-Agent': ['kube-probe/1.36'], 'X-Custom': ['v1'] });
    });

    it('follows same-host redirects (also across ports), stops after 10, and takes an off-host redirect as success with a warning', async () => {
      const to = (loc: string, code = 302) => `/redirect?location=${encodeURIComponent(loc)}&code=${code}`;
      expect(await get(to('/echo?msg=ok&code=200'))).to.deep.include({ result: 'success', detail: '' });
      expect(await get(to('/echo?msg=x&code=503', 307))).to.deep.include({ result: 'failure', detail: 'HTTP probe failed with statuscode: 503' });
      // same host name, other port (nothing listens): followed, so the connection error shows
      const other = await get(to(`http://127.0.0.1:${closed}/`));
      expect(other.result).to.equal('failure');
      expect(other.detail).to.match(/ECONNREFUSED/);
      // another host: the 3xx itself is the answer
      const off = await get(to(`http://localhost:${http}/echo?msg=x&code=500`));
      expect(off.result).to.equal('success');
      expect(off.warning).to.match(/^Probe terminated redirects/);
      // a chain of 10 redirects is followed, the 11th is not
      let ten = '/echo?msg=end';
      for (let i = 0; i < 10; i++) ten = to(ten);
      expect((await get(ten)).result).to.equal('success');
      const eleven = await get(to(ten));
      expect(eleven.result).to.equal('failure');
      expect(eleven.detail).to.match(/stopped after 10 redirects$/);
    });

    it('resolves a named port, defaults the host to the pod IP, and fails on a refused connection', async () => {
      const h = httpGetProbe();
      const signal = new AbortController().signal;
      const ok = await h({ kind: 'liveness', probe: { httpGet: { port: 'web', path: 'echo?msg=hi' } }, target: target([{ name: 'web', containerPort: http }]), timeoutSeconds: 1, signal });
      expect(ok.result).to.equal('success');
      const refused = await h({ kind: 'liveness', probe: { httpGet: { port: closed, path: '/' } }, target: target(), timeoutSeconds: 1, signal });
      expect(refused.result).to.equal('failure');
      expect(refused.detail).to.equal(`Get "http://127.0.0.1:${closed}/": connect ECONNREFUSED 127.0.0.1:${closed}`);
      // an unknown port name is a prober error (thrown away upstream), not a failure
      let err: Error | undefined;
      await h({ kind: 'liveness', probe: { httpGet: { port: 'nope' } }, target: target(), timeoutSeconds: 1, signal }).catch((e: Error) => (err = e));
      expect(err?.message).to.match(/unable to resolve port "nope"/);
    });

    it('a server that accepts but never answers is a timeout failure', async () => {
      const held: import('node:net').Socket[] = [];
      const silent = createServer((s) => void held.push(s));
      await new Promise<void>((r) => silent.listen(0, '127.0.0.1', () => r()));
      const port = (silent.address() as { port: number }).port;
      try {
        const r = await httpProbe(new URL(`http://127.0.0.1:${port}/`), probeHeaders({ port }), 1);
        expect(r).to.deep.equal({ result: 'failure', detail: `Get "http://127.0.0.1:${port}/": timeout: no answer within 1s` });
        expect(held.length).to.equal(1);
      } finally {
        for (const s of held) s.destroy();
        silent.close();
      }
    });
  });

  describe('tcpSocket', () => {
    it('an open port is success, a closed one a failure', async () => {
      const h = tcpSocketProbe();
      const signal = new AbortController().signal;
      expect(await h({ kind: 'readiness', probe: { tcpSocket: { port: http } }, target: target(), timeoutSeconds: 1, signal })).to.deep.equal({ result: 'success', detail: '' });
      const bad = await h({ kind: 'readiness', probe: { tcpSocket: { port: 'web' } }, target: target([{ name: 'web', containerPort: closed }]), timeoutSeconds: 1, signal });
      expect(bad).to.deep.equal({ result: 'failure', detail: `dial tcp 127.0.0.1:${closed}: connect ECONNREFUSED 127.0.0.1:${closed}` });
    });
  });

  describe('grpc', () => {
    it('SERVING is success; NOT_SERVING, an unknown service and a non-gRPC port are failures with upstream\'s messages', async () => {
      expect(await grpcProbe('127.0.0.1', grpcPort, 'app', 1)).to.deep.equal({ result: 'success', detail: 'service healthy' });
      const unknown = await grpcProbe('127.0.0.1', grpcPort, 'other', 1);
      expect(unknown.result).to.equal('failure');
      expect(unknown.detail).to.match(/^error: health rpc probe failed: rpc error: code = NOT_FOUND/);
      const notGrpc = await grpcProbe('127.0.0.1', closed, '', 1);
      expect(notGrpc.result).to.equal('failure');
      expect(notGrpc.detail).to.match(/^timeout: failed to connect service "127.0.0.1:\d+" within 1s/);
      await fetch(`http://127.0.0.1:${grpcHttp}/make-not-serving`);
      expect(await grpcProbe('127.0.0.1', grpcPort, 'app', 1)).to.deep.equal({ result: 'failure', detail: 'service unhealthy (responded with "NOT_SERVING")' });
      await fetch(`http://127.0.0.1:${grpcHttp}/make-serving`);
      expect((await grpcProbe('127.0.0.1', grpcPort, 'app', 1)).result).to.equal('success');
    });
  });
});
