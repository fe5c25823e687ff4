// Property: the real node and pods deciders never answer a failed effect with the same decision
// at once. Random pods are driven through random runtime events, successes and time; at random
// moments every open decision fails (EffectFailed, at the same instant, nothing else changing),
// repeatedly, and no decision may come back identical within that storm.
import { expect } from 'chai';
import fc from 'fast-check';
import type { Entry } from '../../../src/model/entry.ts';
import { canonicalJson } from '../../../src/runtime/canonical.ts';
import { podManifest, readyNode, refFor, type Scenario } from './scenario.ts';

const EFFECTS = new Set([
  'PodVolumesSetUpRequested', 'PodSandboxRequested', 'ContainerStartRequested', 'RestartBackedOff', 'ContainerKilled', 'PodSandboxKilled',
  'PodVolumesTearDownRequested', 'PodObjectDeleteRequested', 'PodRuntimeCleanupRequested', 'OrphanPodKilled', 'PodStatusChanged',
  'MirrorPodCreateRequested', 'MirrorPodDeleteRequested', 'NodeRegistrationRequested', 'NodeStatusChanged',
]);
const key = (d: Entry) => canonicalJson({ type: d.type, reason: d.reason, pod: d.pod, data: d.data });

type Step =
  | { kind: 'pod'; n: number; policy: 'Always' | 'OnFailure' | 'Never'; init: boolean }
  | { kind: 'succeed'; pick: number }
  | { kind: 'exit'; pick: number; code: number }
  | { kind: 'delete'; pick: number }
  | { kind: 'time'; seconds: number }
  | { kind: 'storm' };

const step: fc.Arbitrary<Step> = fc.oneof(
  fc.record({ kind: fc.constant('pod' as const), n: fc.integer({ min: 1, max: 3 }), policy: fc.constantFrom('Always' as const, 'OnFailure' as const, 'Never' as const), init: fc.boolean() }),
  fc.record({ kind: fc.constant('succeed' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('succeed' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('exit' as const), pick: fc.nat(), code: fc.constantFrom(0, 1, 137) }),
  fc.record({ kind: fc.constant('delete' as const), pick: fc.nat() }),
  fc.record({ kind: fc.constant('time' as const), seconds: fc.constantFrom(1, 10, 30, 300) }),
  fc.record({ kind: fc.constant('storm' as const) }),
);

/** The success outcome an effect would report for a decision. */
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
      return s.outcome(d, 'PodVolumesSetUp', { mounts: {} });
    case 'RestartBackedOff':
      s.now = Math.max(s.now, Date.parse(data.until as string));
      return s.outcome(d, 'BackOffExpired', { name: data.name, which: data.which });
    case 'PodStatusChanged':
      return s.outcome(d, 'PodStatusPatched', {});
    default:
      return s.outcome(d, 'EffectCompleted', { decision: d.type });
  }
}

describe('no decide → fail → decide loops (property over the real deciders)', () => {
  it('a failed effect is not decided again without time passing or another change', () => {
    fc.assert(
      fc.property(fc.array(step, { minLength: 5, maxLength: 40 }), (steps) => {
        const s = readyNode();
        let open: Entry[] = [];
        const track = (ds: Entry[]) => { open.push(...ds.filter((d) => d.kind === 'decision' && EFFECTS.has(d.type))); };
        const take = (pick: number) => (open.length ? open.splice(pick % open.length, 1)[0] : undefined);
        const pods: string[] = [];
        for (const st of steps) {
          if (st.kind === 'pod') {
            const uid = `u${st.n}`;
            if (pods.includes(uid)) continue;
            pods.push(uid);
            const spec: Record<string, unknown> = { restartPolicy: st.policy };
            if (st.init) spec.initContainers = [{ name: 'init', image: '127.0.0.1:5000/busybox:1.36', command: ['true'] }];
            track(s.observe('PodObserved', { pod: podManifest(uid, {}, spec), origin: 'api', resourceVersion: String(s.log.length) }, refFor(uid), 'apiserver'));
          } else if (st.kind === 'succeed') {
            const d = take(st.pick);
            if (d) track(succeed(s, d));
          } else if (st.kind === 'exit') {
            const running = pods.flatMap((uid) => Object.entries(s.pod(uid)?.containers ?? {}).filter(([, c]) => c.current?.state === 'running').map(([name, c]) => ({ uid, name, c })));
            if (!running.length) continue;
            const { uid, name, c } = running[st.pick % running.length];
            track(s.observe('ContainerStateChanged', {
              container: { id: c.current!.id, podUid: uid, sandboxId: s.pod(uid).sandbox.id ?? 'sb', name, attempt: c.current!.attempt, state: 'exited', exitCode: st.code, startedAt: c.current!.startedAt, finishedAt: new Date(s.now).toISOString(), reason: st.code === 0 ? 'Completed' : 'Error' },
            }, refFor(uid), 'pleg'));
          } else if (st.kind === 'delete') {
            if (!pods.length) continue;
            const uid = pods[st.pick % pods.length];
            track(s.observe('PodDeletedFromApi', { uid, resourceVersion: String(s.log.length) }, refFor(uid), 'apiserver'));
          } else if (st.kind === 'time') {
            s.now += st.seconds * 1000;
          } else {
            // Every open decision fails, again and again, at this same instant.
            const seen = new Set(open.map(key));
            for (let round = 0; round < 20 && open.length; round++) {
              const failing = open;
              open = [];
              for (const d of failing) {
                const again = s.outcome(d, 'EffectFailed', { decision: d.type, error: 'boom' });
                for (const x of again) {
                  if (x.kind !== 'decision') continue;
                  expect(seen.has(key(x)), `${x.type} (${x.reason}) for ${x.pod?.name ?? 'the node'} decided again at once after ${d.type} failed`).to.equal(false);
                  seen.add(key(x));
                }
                track(again);
              }
            }
            expect(open.map((d) => `${d.type} (${d.reason})`), 'failures at one instant die out').to.deep.equal([]);
          }
        }
      }),
      { numRuns: 300 },
    );
  });
});
