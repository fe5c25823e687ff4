// Properties of the REAL node and pods deciders over generated histories: pods added, updated and
// deleted; sandbox and container observations; probe results; effects that succeed or fail; time.
// Folded strictly (test/setup/strict-folds.ts: state frozen, clock and randomness throwing), and
// after every history:
// - at most one sandbox request is in flight per pod;
// - no container start is decided before the pod's volumes are set up (nor after they are torn down);
// - every kill has a cause: an observation or outcome of the same pod (or node-wide), a reason, a
//   target container, and a liveness kill names the failed probe results of that container;
// - refolding the produced log from scratch gives the same state and the same decisions.
import { expect } from 'chai';
import fc from 'fast-check';
import type { Entry } from '../../../src/model/entry.ts';
import { nodeDecider } from '../../../src/reducers/index.ts';
import { canonicalJson } from '../../../src/runtime/canonical.ts';
import { decideOn, decisionDraftFor, evolveEntry } from '../../../src/runtime/fold.ts';
import { podManifest, readyNode, refFor, type Scenario } from './scenario.ts';

const EFFECTS = new Set([
  'PodVolumesSetUpRequested', 'PodSandboxRequested', 'ContainerStartRequested', 'RestartBackedOff', 'ContainerKilled', 'PodSandboxKilled',
  'PodVolumesTearDownRequested', 'PodObjectDeleteRequested', 'PodRuntimeCleanupRequested', 'OrphanPodKilled', 'PodStatusChanged',
  'MirrorPodCreateRequested', 'MirrorPodDeleteRequested', 'NodeRegistrationRequested', 'NodeStatusChanged',
]);
const KILLS = new Set(['ContainerKilled', 'PodSandboxKilled', 'OrphanPodKilled']);

type Step =
  | { kind: 'pod'; n: number; policy: 'Always' | 'OnFailure' | 'Never'; init: boolean; volume: boolean; liveness: boolean }
  | { kind: 'update'; pick: number }
  | { kind: 'delete'; pick: number; graceful: boolean }
  | { kind: 'succeed'; pick: number }
  | { kind: 'fail'; pick: number }
  | { kind: 'exit'; pick: number; code: number }
  | { kind: 'sandboxDied'; pick: number }
  | { kind: 'probe'; pick: number; fails: boolean }
  | { kind: 'time'; seconds: number }
  | { kind: 'patched' };

const step: fc.Arbitrary<Step> = fc.oneof(
  { arbitrary: fc.record({ kind: fc.constant('pod' as const), n: fc.integer({ min: 1, max: 3 }), policy: fc.constantFrom('Always' as const, 'OnFailure' as const, 'Never' as const), init: fc.boolean(), volume: fc.boolean(), liveness: fc.constantFrom(true, true, false) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('update' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('delete' as const), pick: fc.nat(), graceful: fc.boolean() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('succeed' as const), pick: fc.nat() }), weight: 8 },
  { arbitrary: fc.record({ kind: fc.constant('fail' as const), pick: fc.nat() }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('exit' as const), pick: fc.nat(), code: fc.constantFrom(0, 1, 137) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('sandboxDied' as const), pick: fc.nat() }), weight: 1 },
  { arbitrary: fc.record({ kind: fc.constant('probe' as const), pick: fc.nat(), fails: fc.constantFrom(true, true, false) }), weight: 4 },
  { arbitrary: fc.record({ kind: fc.constant('time' as const), seconds: fc.constantFrom(1, 10, 30, 300) }), weight: 2 },
  { arbitrary: fc.record({ kind: fc.constant('patched' as const) }), weight: 1 },
);

const IMAGE = '127.0.0.1:5000/busybox:1.36';

function manifest(st: Extract<Step, { kind: 'pod' }>, uid: string, image = IMAGE) {
  const app: Record<string, unknown> = { name: 'app', image, command: ['sleep', '3600'] };
  if (st.liveness) app.livenessProbe = { exec: { command: ['true'] }, failureThreshold: 1, periodSeconds: 1 };
  if (st.volume) app.volumeMounts = [{ name: 'cfg', mountPath: '/etc/cfg' }];
  const spec: Record<string, unknown> = { restartPolicy: st.policy, containers: [app], terminationGracePeriodSeconds: 5 };
  if (st.init) spec.initContainers = [{ name: 'init', image: IMAGE, command: ['true'] }];
  if (st.volume) spec.volumes = [{ name: 'cfg', configMap: { name: 'settings' } }];
  return podManifest(uid, {}, spec);
}

/** What the effect reports when it works. */
function succeed(s: Scenario, d: Entry): Entry[] {
  const data = d.data as Record<string, unknown>;
  const uid = d.pod?.uid ?? '';
  switch (d.type) {
    case 'PodSandboxRequested':
      return s.outcome(d, 'PodSandboxStarted', { sandboxId: `sb-${uid}-${data.attempt as number}`, ip: '10.88.0.7', ips: ['10.88.0.7'] });
    case 'ContainerStartRequested': {
      const plan = data.plan as { name: string; attempt: number; specHash: string };
      return s.outcome(d, 'ContainerStarted', { name: plan.name, containerId: `c-${uid}-${plan.name}-${plan.attempt}`, attempt: plan.attempt, imageRef: 'sha256:abc', startedAt: new Date(s.now).toISOString(), specHash: plan.specHash });
    }
    case 'PodVolumesSetUpRequested':
      return s.outcome(d, 'PodVolumesSetUp', { mounts: { cfg: { hostPath: `/var/lib/kubelet/pods/${uid}/volumes/cfg` } }, volumes: [] });
    case 'PodVolumesTearDownRequested':
      return s.outcome(d, 'PodVolumesTornDown', { volumes: ['cfg'] });
    case 'ContainerKilled':
      return s.outcome(d, 'ContainerStopped', { name: data.name, containerId: data.containerId });
    case 'PodSandboxKilled':
      return s.outcome(d, 'PodSandboxStopped', { sandboxId: data.sandboxId });
    case 'PodObjectDeleteRequested':
      return s.outcome(d, 'PodObjectDeleted', {});
    case 'RestartBackedOff':
      s.now = Math.max(s.now, Date.parse(data.until as string));
      return s.outcome(d, 'BackOffExpired', { name: data.name, which: data.which });
    case 'PodStatusChanged':
      return s.outcome(d, 'PodStatusPatched', {});
    default:
      return s.outcome(d, 'EffectCompleted', { decision: d.type });
  }
}

/** What the effect reports when it does not work. */
function fail(s: Scenario, d: Entry): Entry[] {
  const data = d.data as Record<string, unknown>;
  switch (d.type) {
    case 'PodSandboxRequested':
      return s.outcome(d, 'PodSandboxStartFailed', { attempt: data.attempt, error: 'RunPodSandbox: network not ready' });
    case 'ContainerStartRequested':
      return s.outcome(d, 'ContainerStartFailed', { name: (data.plan as { name: string }).name, stage: 'start', reason: 'RunContainerError', message: 'exec format error' });
    case 'PodVolumesSetUpRequested':
      return s.outcome(d, 'PodVolumesSetUpFailed', { volume: 'cfg', reason: 'FailedMount', message: 'configmap "settings" not found' });
    default:
      return s.outcome(d, 'EffectFailed', { decision: d.type, error: 'boom' });
  }
}

/** The invariants, over the whole log. */
function checkInvariants(log: Entry[], withVolumes: Set<string>): void {
  const bySeq = new Map(log.map((e) => [e.seq, e]));
  const sandboxInFlight = new Map<string, number>();
  const volumesReady = new Set<string>();
  for (const e of log) {
    const uid = e.pod?.uid ?? '';
    if (e.kind === 'decision' && e.type === 'PodSandboxRequested') {
      expect(sandboxInFlight.has(uid), `#${e.seq}: a second PodSandboxRequested for ${uid} while #${sandboxInFlight.get(uid)} is in flight`).to.equal(false);
      sandboxInFlight.set(uid, e.seq);
    }
    if (e.kind === 'outcome' && e.cause !== undefined && sandboxInFlight.get(uid) === e.cause) sandboxInFlight.delete(uid);
    if (e.kind === 'outcome' && e.type === 'PodVolumesSetUp') volumesReady.add(uid);
    if (e.kind === 'decision' && e.type === 'PodVolumesTearDownRequested') volumesReady.delete(uid);
    if (e.kind === 'decision' && e.type === 'ContainerStartRequested' && withVolumes.has(uid)) {
      expect(volumesReady.has(uid), `#${e.seq}: ContainerStartRequested for ${uid} before its volumes are set up`).to.equal(true);
    }
    if (e.kind === 'decision' && KILLS.has(e.type)) {
      expect(e.reason, `#${e.seq}: ${e.type} without a reason`).to.be.a('string').and.not.equal('');
      const cause = e.cause !== undefined ? bySeq.get(e.cause) : undefined;
      expect(cause, `#${e.seq}: ${e.type} without a cause entry`).to.not.equal(undefined);
      expect(cause!.kind, `#${e.seq}: ${e.type} caused by a decision`).to.not.equal('decision');
      if (cause!.pod && e.type !== 'OrphanPodKilled') expect(cause!.pod.uid, `#${e.seq}: ${e.type} of ${uid} caused by an entry about ${cause!.pod.uid}`).to.equal(uid);
      const data = e.data as { containerId?: string; sandboxId?: string; name?: string; failures?: number[] };
      if (e.type === 'ContainerKilled') expect(data.containerId, `#${e.seq}: ContainerKilled names no container`).to.be.a('string');
      if (e.type === 'PodSandboxKilled') expect(data.sandboxId, `#${e.seq}: PodSandboxKilled names no sandbox`).to.be.a('string');
      if (e.reason === 'LivenessProbeFailed') {
        expect(data.failures, `#${e.seq}: a liveness kill names no failed probe result`).to.be.an('array').that.is.not.empty;
        for (const f of data.failures!) {
          const pf = bySeq.get(f);
          expect(pf?.type, `#${e.seq}: failure #${f} is not a ProbeFailed entry`).to.equal('ProbeFailed');
          expect((pf!.data as { containerId: string }).containerId).to.equal(data.containerId);
        }
      }
    }
  }
}

/** Refold the log as replay and verify do: same state, and every decision comes out again. */
function checkReplay(s: Scenario): void {
  let state = nodeDecider.initialState();
  let expected: string[] = [];
  for (const e of s.log) {
    if (e.kind === 'decision') {
      const want = expected.shift();
      expect(canonicalJson({ type: e.type, reason: e.reason, data: e.data, pod: e.pod, cause: e.cause }), `#${e.seq} on replay`).to.equal(want);
    } else expect(expected, `decisions missing before #${e.seq}`).to.deep.equal([]);
    const r = evolveEntry(nodeDecider, state, e, { guard: true });
    expect(r.error).to.equal(undefined);
    state = r.state;
    if (e.kind !== 'decision') {
      const d = decideOn(nodeDecider, state, e, { guard: true });
      expect(d.error).to.equal(undefined);
      expected = d.decisions.map((x) => {
        const y = decisionDraftFor(e, x);
        return canonicalJson({ type: y.type, reason: y.reason, data: y.data, pod: y.pod, cause: y.cause });
      });
    }
  }
  expect(expected).to.deep.equal([]);
  expect(canonicalJson(state)).to.equal(canonicalJson(s.state));
}

describe('invariants of the real node and pods deciders (property)', function () {
  this.timeout(120_000);

  it('sandbox requests, volume gating, kill causes and replay hold over generated histories', () => {
    const seen = { livenessKills: 0, startsWithVolumes: 0, sandboxReplaced: 0, deletions: 0 };
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 80 }), (steps) => {
        const s = readyNode();
        let open: Entry[] = [];
        const track = (ds: Entry[]) => { open.push(...ds.filter((d) => d.kind === 'decision' && EFFECTS.has(d.type))); };
        // Status patches are answered in bulk ('patched'), so picks land on the lifecycle's effects.
        const take = (pick: number) => {
          const work = open.filter((d) => d.type !== 'PodStatusChanged');
          if (!work.length) return undefined;
          const d = work[pick % work.length];
          open.splice(open.indexOf(d), 1);
          return d;
        };
        const pods = new Map<string, Extract<Step, { kind: 'pod' }>>();
        const withVolumes = new Set<string>();
        const uids = () => [...pods.keys()];
        const runningContainers = () => uids().flatMap((uid) => Object.entries(s.pod(uid)?.containers ?? {}).filter(([, c]) => c.current?.state === 'running').map(([name, c]) => ({ uid, name, c })));
        let rv = 10;
        for (const st of steps) {
          rv++;
          if (st.kind === 'pod') {
            const uid = `u${st.n}`;
            if (pods.has(uid)) continue;
            pods.set(uid, st);
            if (st.volume) withVolumes.add(uid);
            track(s.observe('PodObserved', { pod: manifest(st, uid), origin: 'api', resourceVersion: String(rv) }, refFor(uid), 'apiserver'));
          } else if (st.kind === 'update') {
            const live = uids().filter((u) => s.pod(u) && !s.pod(u).terminating);
            if (!live.length) continue;
            const uid = live[st.pick % live.length];
            track(s.observe('PodObserved', { pod: manifest(pods.get(uid)!, uid, `${IMAGE}-${rv}`), origin: 'api', resourceVersion: String(rv) }, refFor(uid), 'apiserver'));
          } else if (st.kind === 'delete') {
            const live = uids().filter((u) => s.pod(u));
            if (!live.length) continue;
            const uid = live[st.pick % live.length];
            if (st.graceful) {
              const m = manifest(pods.get(uid)!, uid);
              track(s.observe('PodObserved', { pod: { ...m, metadata: { ...m.metadata, deletionTimestamp: new Date(s.now + 5000).toISOString(), deletionGracePeriodSeconds: 5 } }, origin: 'api', resourceVersion: String(rv) }, refFor(uid), 'apiserver'));
            } else track(s.observe('PodDeletedFromApi', { uid, resourceVersion: String(rv) }, refFor(uid), 'apiserver'));
          } else if (st.kind === 'succeed') {
            const d = take(st.pick);
            if (d) track(succeed(s, d));
          } else if (st.kind === 'fail') {
            const d = take(st.pick);
            if (d) track(fail(s, d));
          } else if (st.kind === 'exit') {
            const running = runningContainers();
            if (!running.length) continue;
            const { uid, name, c } = running[st.pick % running.length];
            track(s.observe('ContainerStateChanged', {
              container: { id: c.current!.id, podUid: uid, sandboxId: s.pod(uid).sandbox.id ?? 'sb', name, attempt: c.current!.attempt, state: 'exited', exitCode: st.code, startedAt: c.current!.startedAt, finishedAt: new Date(s.now).toISOString(), reason: st.code === 0 ? 'Completed' : 'Error' },
            }, refFor(uid), 'pleg'));
          } else if (st.kind === 'sandboxDied') {
            const ready = uids().filter((u) => s.pod(u)?.sandbox.state === 'ready' && s.pod(u).sandbox.id);
            if (!ready.length) continue;
            const uid = ready[st.pick % ready.length];
            const sb = s.pod(uid).sandbox;
            track(s.observe('PodSandboxStateChanged', { sandbox: { id: sb.id!, podUid: uid, name: `pod-${uid}`, namespace: 'default', attempt: sb.attempt, state: 'notready' } }, refFor(uid), 'pleg'));
          } else if (st.kind === 'probe') {
            const probed = runningContainers().filter((x) => x.name === 'app' && pods.get(x.uid)?.liveness);
            if (!probed.length) continue;
            const { uid, name, c } = probed[st.pick % probed.length];
            const base = { container: name, containerId: c.current!.id, probe: 'liveness' as const };
            if (st.fails) {
              track(s.observe('ProbeFailed', { ...base, consecutiveFailures: 1, failureThreshold: 1, handler: 'exec', detail: 'command exited 1' }, refFor(uid), 'prober'));
              track(s.observe('ProbeResultChanged', { ...base, result: 'failure', previous: c.probes?.liveness ?? 'unknown' }, refFor(uid), 'prober'));
            } else track(s.observe('ProbeResultChanged', { ...base, result: 'success', previous: c.probes?.liveness ?? 'unknown' }, refFor(uid), 'prober'));
          } else if (st.kind === 'patched') {
            const patches = open.filter((d) => d.type === 'PodStatusChanged');
            open = open.filter((d) => d.type !== 'PodStatusChanged');
            for (const d of patches) track(succeed(s, d));
          } else {
            s.now += st.seconds * 1000;
          }
        }
        checkInvariants(s.log, withVolumes);
        checkReplay(s);
        for (const e of s.log) {
          if (e.reason === 'LivenessProbeFailed' && e.type === 'ContainerKilled') seen.livenessKills++;
          if (e.type === 'ContainerStartRequested' && withVolumes.has(e.pod!.uid)) seen.startsWithVolumes++;
          if (e.type === 'PodSandboxRequested' && e.reason === 'SandboxChanged') seen.sandboxReplaced++;
          if (e.type === 'PodVolumesTearDownRequested' || e.type === 'PodRuntimeCleanupRequested') seen.deletions++;
        }
      }),
      { numRuns: 300 },
    );
    // The histories reach what the invariants are about (else they would hold vacuously).
    for (const [what, n] of Object.entries(seen)) expect(n, `generated histories never produced ${what}`).to.be.greaterThan(0);
  });
});
