// The prober's timing and threshold logic (src/streams/prober.ts) in virtual time. The handlers
// here are test doubles on purpose: what is under test is when checks run and what reaches the
// log, not HTTP or exec (test/integration/probes*.test.ts run the real handlers on the testbed).
import { expect } from 'chai';
import { BehaviorSubject, Subject, type Subscription } from 'rxjs';
import type { ObservationDraft } from '../../src/model/entry.ts';
import type { Probe } from '../../src/model/pod.ts';
import { ProbeFailed, ProbeResultChanged, type ProbeKind, type ProbeTarget } from '../../src/model/probe-observations.ts';
import type { ProbeHandlers, ProbeOutcome, ProbeRequest } from '../../src/adapters/probe/types.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { createProberStats, distinctTargets, effectiveProbe, prober$, type ProberStats } from '../../src/streams/prober.ts';

const T0 = Date.parse('2024-01-01T00:00:00.000Z');

type Behaviour = ProbeOutcome['result'] | 'error' | 'hang';

class Harness {
  readonly clock = new VirtualClock(new Date(T0));
  readonly targets = new BehaviorSubject<ProbeTarget[]>([]);
  readonly out: ObservationDraft[] = [];
  /** `${containerId}/${kind}@${seconds since T0}` per check started */
  readonly calls: string[] = [];
  readonly stats: ProberStats = createProberStats();
  /** what onResult was told (prober_probe_total), as `${kind} ${result}` */
  readonly counted: string[] = [];
  /** what each (containerId/kind) answers now; default success */
  readonly answer = new Map<string, Behaviour>();
  aborted = 0;
  private readonly sub: Subscription;

  constructor(graceMs = 5000) {
    const handler = (req: ProbeRequest): Promise<ProbeOutcome> => {
      const key = `${req.target.containerId}/${req.kind}`;
      this.calls.push(`${key}@${(this.clock.now().getTime() - T0) / 1000}`);
      const b = this.answer.get(key) ?? 'success';
      if (b === 'error') return Promise.reject(new Error('container not found'));
      if (b === 'hang') {
        return new Promise((_, reject) => req.signal.addEventListener('abort', () => {
          this.aborted++;
          reject(new Error('aborted'));
        }));
      }
      return Promise.resolve({ result: b, detail: b === 'failure' ? 'HTTP probe failed with statuscode: 500' : '' });
    };
    const handlers: ProbeHandlers = { exec: handler, httpGet: handler, tcpSocket: handler, grpc: handler };
    this.sub = prober$({ targets$: this.targets, handlers, clock: this.clock, stats: this.stats, handlerGraceMs: graceMs, onResult: (r) => this.counted.push(`${r.pod.namespace}/${r.pod.name}/${r.container} ${r.kind} ${r.result}`) }).subscribe((d) => {
      const codec = d.type === 'ProbeFailed' ? ProbeFailed : d.type === 'ProbeResultChanged' ? ProbeResultChanged : undefined;
      expect(codec, `unexpected ${d.type}`).to.not.equal(undefined);
      expect(codec!.is(d.data), JSON.stringify(d.data)).to.equal(true);
      expect(d.source).to.equal('prober');
      this.out.push(d);
    });
  }

  /** lets workers reach their next wait (as real time would), then moves virtual time */
  async advance(seconds: number) {
    for (let i = 0; i < 5; i++) await new Promise<void>((r) => setImmediate(r));
    await this.clock.advance(seconds * 1000);
  }

  stop() {
    this.sub.unsubscribe();
  }

  callsOf(key: string): number[] {
    return this.calls.filter((c) => c.startsWith(`${key}@`)).map((c) => Number(c.split('@')[1]));
  }

  /** compact view of what was emitted */
  emitted(): string[] {
    return this.out.map((d) => {
      const x = d.data as Record<string, unknown>;
      return d.type === 'ProbeFailed'
        ? `${x.containerId}/${x.probe} failed ${x.consecutiveFailures}/${x.failureThreshold}`
        : `${x.containerId}/${x.probe} ${x.previous}->${x.result}`;
    });
  }
}

const httpProbe = (extra: Partial<Probe> = {}): Probe => ({ httpGet: { port: 8080, path: '/healthz' }, periodSeconds: 1, ...extra });

function target(containerId: string, probes: Partial<Record<ProbeKind, Probe>>, startedAtS = 0): ProbeTarget {
  return {
    podUid: 'uid-1',
    pod: { uid: 'uid-1', namespace: 'default', name: 'web' },
    container: 'app',
    containerId,
    startedAt: new Date(T0 + startedAtS * 1000).toISOString(),
    podIP: '10.88.0.9',
    ports: [{ name: 'http', containerPort: 8080 }],
    ...probes,
  };
}

describe('prober: workers, thresholds and timing (virtual time)', () => {
  let h: Harness;
  afterEach(() => h?.stop());

  it('applies upstream defaults', () => {
    expect(effectiveProbe({})).to.deep.equal({ initialDelaySeconds: 0, periodSeconds: 10, timeoutSeconds: 1, successThreshold: 1, failureThreshold: 3 });
    expect(effectiveProbe({ periodSeconds: 0, timeoutSeconds: 0, failureThreshold: 0 })).to.include({ periodSeconds: 10, timeoutSeconds: 1, failureThreshold: 3 });
  });

  it('first check after initialDelaySeconds from startedAt, then every periodSeconds', async () => {
    h = new Harness();
    h.targets.next([target('c1', { liveness: httpProbe({ initialDelaySeconds: 5, periodSeconds: 3 }) })]);
    await h.advance(4.9);
    expect(h.callsOf('c1/liveness')).to.deep.equal([]);
    await h.advance(10.1);
    expect(h.callsOf('c1/liveness')).to.deep.equal([5, 8, 11, 14]);
  });

  it('every check that ran is counted for prober_probe_total: successful, failed, unknown when the handler failed', async () => {
    h = new Harness();
    h.targets.next([target('c1', { readiness: httpProbe({ periodSeconds: 1, failureThreshold: 100 }) })]);
    await h.advance(0.5);
    h.answer.set('c1/readiness', 'failure');
    await h.advance(1);
    h.answer.set('c1/readiness', 'error');
    await h.advance(1);
    expect(h.counted).to.deep.equal(['default/web/app readiness successful', 'default/web/app readiness failed', 'default/web/app readiness unknown']);
  });

  it('a container that started long ago is probed at once', async () => {
    h = new Harness();
    await h.advance(100);
    h.targets.next([target('c1', { liveness: httpProbe({ initialDelaySeconds: 5, periodSeconds: 10 }) }, 0)]);
    await h.advance(0);
    expect(h.callsOf('c1/liveness')).to.deep.equal([100]);
  });

  it('a healthy container probed every second adds one entry (readiness unknown → success) and then nothing', async () => {
    h = new Harness();
    h.targets.next([target('c1', { liveness: httpProbe(), readiness: httpProbe() })]);
    await h.advance(600);
    expect(h.stats.checks).to.be.greaterThan(1100);
    expect(h.emitted()).to.deep.equal(['c1/readiness unknown->success']);
  });

  it('liveness: each failure below the threshold is reported, the flip once, then the worker holds', async () => {
    h = new Harness();
    h.targets.next([target('c1', { liveness: httpProbe({ failureThreshold: 3 }) })]);
    await h.advance(2.5); // checks at 0, 1, 2 succeed: nothing reported (liveness starts as success)
    expect(h.emitted()).to.deep.equal([]);
    h.answer.set('c1/liveness', 'failure');
    await h.advance(10);
    expect(h.emitted()).to.deep.equal(['c1/liveness failed 1/3', 'c1/liveness failed 2/3', 'c1/liveness failed 3/3', 'c1/liveness success->failure']);
    // on hold until a new instance: no more checks
    expect(h.callsOf('c1/liveness')).to.deep.equal([0, 1, 2, 3, 4, 5]);
    const flip = h.out[3].data as ProbeResultChanged;
    expect(flip.detail).to.equal('HTTP probe failed with statuscode: 500');
    const f1 = h.out[0];
    expect(f1.pod).to.deep.equal({ uid: 'uid-1', namespace: 'default', name: 'web' });
    expect(f1.data).to.deep.include({ container: 'app', containerId: 'c1', handler: 'httpGet', target: 'http://10.88.0.9:8080/healthz' });
  });

  it('a failure run broken by a success starts counting again', async () => {
    h = new Harness();
    h.targets.next([target('c1', { liveness: httpProbe({ failureThreshold: 3 }) })]);
    h.answer.set('c1/liveness', 'failure');
    await h.advance(1.5); // failures at 0 and 1
    h.answer.set('c1/liveness', 'success');
    await h.advance(1); // success at 2
    h.answer.set('c1/liveness', 'failure');
    await h.advance(1.9); // failures at 3, 4
    expect(h.emitted()).to.deep.equal(['c1/liveness failed 1/3', 'c1/liveness failed 2/3', 'c1/liveness failed 1/3', 'c1/liveness failed 2/3']);
    await h.advance(1);
    expect(h.emitted().slice(-2)).to.deep.equal(['c1/liveness failed 3/3', 'c1/liveness success->failure']);
  });

  it('readiness: successThreshold consecutive successes to become ready, failureThreshold failures to drop, no entries while failed', async () => {
    h = new Harness();
    h.targets.next([target('c1', { readiness: httpProbe({ successThreshold: 2, failureThreshold: 2 }) })]);
    await h.advance(0.5);
    expect(h.emitted()).to.deep.equal([]);
    await h.advance(1);
    expect(h.emitted()).to.deep.equal(['c1/readiness unknown->success']);
    h.answer.set('c1/readiness', 'failure');
    await h.advance(10);
    expect(h.emitted().slice(1)).to.deep.equal(['c1/readiness failed 1/2', 'c1/readiness failed 2/2', 'c1/readiness success->failure']);
    // readiness keeps probing while failed (no hold), silently
    expect(h.callsOf('c1/readiness').length).to.equal(12);
    h.answer.set('c1/readiness', 'success');
    await h.advance(1);
    expect(h.emitted()).to.have.length(4);
    await h.advance(1);
    expect(h.emitted().slice(4)).to.deep.equal(['c1/readiness failure->success']);
  });

  it('readiness failing from the start: failures up to the threshold, then unknown → failure, then silence', async () => {
    h = new Harness();
    h.answer.set('c1/readiness', 'failure');
    h.targets.next([target('c1', { readiness: httpProbe() })]);
    await h.advance(60);
    expect(h.emitted()).to.deep.equal(['c1/readiness failed 1/3', 'c1/readiness failed 2/3', 'c1/readiness failed 3/3', 'c1/readiness unknown->failure']);
  });

  it('startup gates liveness and readiness; once it succeeds its worker stops and readiness runs at once', async () => {
    h = new Harness();
    h.answer.set('c1/startup', 'failure');
    h.targets.next([target('c1', {
      startup: httpProbe({ periodSeconds: 2, failureThreshold: 30 }),
      liveness: httpProbe({ periodSeconds: 1, failureThreshold: 1 }),
      readiness: httpProbe({ periodSeconds: 10 }),
    })]);
    h.answer.set('c1/liveness', 'failure'); // would kill at once if it ran before startup succeeded
    await h.advance(7);
    expect(h.callsOf('c1/liveness')).to.deep.equal([]);
    expect(h.callsOf('c1/readiness')).to.deep.equal([]);
    h.answer.set('c1/startup', 'success');
    h.answer.set('c1/liveness', 'success');
    await h.advance(1); // startup check at 8 succeeds
    expect(h.emitted().slice(-2)).to.deep.equal(['c1/startup unknown->success', 'c1/readiness unknown->success']);
    expect(h.callsOf('c1/readiness')).to.deep.equal([8]);
    await h.advance(20);
    expect(h.callsOf('c1/startup')).to.deep.equal([0, 2, 4, 6, 8]);
    expect(h.callsOf('c1/liveness')[0]).to.equal(8);
    expect(h.callsOf('c1/readiness')).to.deep.equal([8, 10, 20]);
    expect(h.emitted().filter((e) => e.includes('failed')).length).to.equal(4); // startup's failures at 0, 2, 4, 6
  });

  it('a startup probe that reaches its threshold reports failure and holds; liveness never runs', async () => {
    h = new Harness();
    h.answer.set('c1/startup', 'failure');
    h.targets.next([target('c1', { startup: httpProbe({ failureThreshold: 3 }), liveness: httpProbe() })]);
    await h.advance(30);
    expect(h.emitted()).to.deep.equal(['c1/startup failed 1/3', 'c1/startup failed 2/3', 'c1/startup failed 3/3', 'c1/startup unknown->failure']);
    expect(h.callsOf('c1/startup')).to.have.length(3);
    expect(h.callsOf('c1/liveness')).to.deep.equal([]);
  });

  it('a new container id (a restart) starts from fresh state; the old workers stop', async () => {
    h = new Harness();
    h.answer.set('c1/liveness', 'failure');
    h.targets.next([target('c1', { liveness: httpProbe({ failureThreshold: 2 }), readiness: httpProbe() })]);
    await h.advance(5);
    expect(h.emitted()).to.include('c1/liveness success->failure');
    h.targets.next([target('c2', { liveness: httpProbe({ failureThreshold: 2 }), readiness: httpProbe() }, 6)]);
    await h.advance(5);
    expect(h.callsOf('c1/readiness').every((s) => s < 5.5)).to.equal(true);
    expect(h.callsOf('c2/liveness')[0]).to.equal(6);
    expect(h.emitted().filter((e) => e.startsWith('c2'))).to.deep.equal(['c2/readiness unknown->success']);
    expect(h.stats.workers).to.equal(2);
  });

  it('removing a target stops its workers and aborts a check in flight; unsubscribing stops everything', async () => {
    h = new Harness();
    h.answer.set('c1/liveness', 'hang');
    h.targets.next([target('c1', { liveness: httpProbe({ timeoutSeconds: 30 }) }), { ...target('c9', { readiness: httpProbe() }), container: 'other' }]);
    await h.advance(1);
    expect(h.stats.workers).to.equal(2);
    h.targets.next([{ ...target('c9', { readiness: httpProbe() }), container: 'other' }]);
    await h.advance(0);
    expect(h.aborted).to.equal(1);
    expect(h.stats.workers).to.equal(1);
    const before = h.callsOf('c1/liveness').length;
    await h.advance(60);
    expect(h.callsOf('c1/liveness').length).to.equal(before);
    h.stop();
    expect(h.stats.workers).to.equal(0);
    const n = h.calls.length;
    await h.advance(60);
    expect(h.calls.length).to.equal(n);
    expect(h.clock.pendingTimers).to.equal(0);
  });

  it('a handler that never answers counts as a failure after timeout + grace, and never delays another worker', async () => {
    h = new Harness(2000);
    h.answer.set('c1/liveness', 'hang');
    h.targets.next([
      target('c1', { liveness: httpProbe({ timeoutSeconds: 1, periodSeconds: 1, failureThreshold: 2 }) }),
      { ...target('c2', { readiness: httpProbe({ periodSeconds: 1 }) }), container: 'other' },
    ]);
    await h.advance(10);
    expect(h.callsOf('c2/readiness')).to.deep.equal([0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    // a hung check holds its own worker: checks at 0 and 3 (each given up after 1 s + 2 s)
    expect(h.callsOf('c1/liveness')).to.deep.equal([0, 3]);
    const failed = h.out.filter((d) => d.type === 'ProbeFailed').map((d) => (d.data as ProbeFailed).detail);
    expect(failed).to.deep.equal(['timeout: probe did not complete within 1s', 'timeout: probe did not complete within 1s']);
    expect(h.emitted()).to.include('c1/liveness success->failure');
  });

  it('a handler error (prober error) is thrown away, neither success nor failure', async () => {
    h = new Harness();
    h.answer.set('c1/liveness', 'error');
    h.answer.set('c1/readiness', 'error');
    h.targets.next([target('c1', { liveness: httpProbe({ failureThreshold: 1 }), readiness: httpProbe() })]);
    await h.advance(30);
    expect(h.emitted()).to.deep.equal([]);
    expect(h.stats.errors).to.equal(62);
  });

  it('the same container listed again after a short absence keeps its reported results', async () => {
    h = new Harness();
    const t = target('c1', { readiness: httpProbe() });
    h.targets.next([t]);
    await h.advance(2.5);
    h.targets.next([]);
    await h.advance(1);
    h.targets.next([t]);
    await h.advance(5);
    expect(h.emitted()).to.deep.equal(['c1/readiness unknown->success']);
  });

  it('a changed probe spec restarts only that worker; the others keep their schedule', async () => {
    h = new Harness();
    const t1 = target('c1', { liveness: httpProbe({ periodSeconds: 10 }), readiness: httpProbe({ periodSeconds: 10 }) });
    h.targets.next([{ ...t1, podIP: undefined }]);
    await h.advance(1);
    h.targets.next([{ ...t1, readiness: httpProbe({ periodSeconds: 2 }) }]);
    await h.advance(4.5);
    expect(h.callsOf('c1/liveness')).to.deep.equal([0]);
    expect(h.callsOf('c1/readiness')).to.deep.equal([0, 1, 3, 5]);
    expect(h.emitted()).to.deep.equal(['c1/readiness unknown->success']);
  });
});

describe('prober: distinctTargets()', () => {
  it('passes a list only when ids, specs, pod IP or ports change', () => {
    const s = new Subject<ProbeTarget[]>();
    const got: ProbeTarget[][] = [];
    s.pipe(distinctTargets()).subscribe((x) => got.push(x));
    const a = target('c1', { liveness: httpProbe() });
    s.next([a]);
    s.next([{ ...a }]);
    s.next([{ ...a, liveness: httpProbe() }]); // equal content, new object
    s.next([{ ...a, podIP: '10.88.0.10' }]);
    s.next([{ ...a, podIP: '10.88.0.10', liveness: httpProbe({ failureThreshold: 5 }) }]);
    s.next([]);
    s.next([]);
    expect(got.map((x) => x.length)).to.deep.equal([1, 1, 1, 0]);
  });
});
