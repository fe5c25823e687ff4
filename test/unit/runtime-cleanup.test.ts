// Clean-up against a runtime stand-in that keeps a container the way containerd 1.6 does after
// the agent died inside StartContainer: the container reports exited (128, StartError) but its
// task stays CREATED, so RemoveContainer (and RemovePodSandbox, which removes its containers
// first) fails with "cannot delete running task", and StopContainer of an exited container does
// nothing. Clean-up must say so, naming what is left, rather than report it removed.
import { expect } from 'chai';
import type { CriClient } from '../../src/adapters/cri/index.ts';
import type { RuntimeEffectDeps } from '../../src/effects/cri/deps.ts';
import { cleanupPod, killOrphan } from '../../src/effects/cri/cleanup.ts';
import type { Entry } from '../../src/model/entry.ts';
import { RuntimeCleanupFailed } from '../../src/model/runtime-cleanup.ts';

const UID = 'pod-uid-1';

/** A runtime with one sandbox and one container of pod UID whose task is stuck CREATED. */
function runtime(opts: { stuck: boolean }) {
  const calls: string[] = [];
  const containers = new Map([['ctr-1', { state: 'CONTAINER_EXITED', taskCreated: opts.stuck }]]);
  const sandboxes = new Set(['sb-1']);
  const stuck = (id: string) => new Error(`failed to delete containerd container "${id}": cannot delete running task ${id}: failed precondition`);
  const cri = {
    listContainers: async () => [...containers].map(([id, c]) => ({ id, state: c.state, labels: { 'io.kubernetes.pod.uid': UID } })),
    listPodSandbox: async () => [...sandboxes].map((id) => ({ id, state: 'SANDBOX_NOTREADY', labels: { 'io.kubernetes.pod.uid': UID } })),
    // as containerd 1.6 for a container that is not running: nothing
    stopContainer: async (id: string, timeout: number) => void calls.push(`stopContainer ${id} ${timeout}`),
    removeContainer: async (id: string) => {
      calls.push(`removeContainer ${id}`);
      if (containers.get(id)?.taskCreated) throw stuck(id);
      containers.delete(id);
    },
    stopPodSandbox: async (id: string) => void calls.push(`stopPodSandbox ${id}`),
    removePodSandbox: async (id: string) => {
      calls.push(`removePodSandbox ${id}`);
      for (const [cid, c] of containers) if (c.taskCreated) throw new Error(`failed to remove container "${cid}": ${stuck(cid).message}`);
      sandboxes.delete(id);
    },
  } as unknown as CriClient;
  const deps = { cri, clock: undefined as never, dns: undefined as never, mkdirp: async () => undefined, rootDir: '/nonexistent' } satisfies RuntimeEffectDeps;
  return { deps, calls, containers, sandboxes };
}

const decision = (type: string): Entry => ({ v: 1, seq: 7, at: '2026-11-23T10:00:00.000Z', kind: 'decision', type, source: 'engine', pod: { uid: UID, namespace: 'default', name: 'p' }, data: { podUid: UID } });

describe('runtime clean-up of a container whose start was cut short', () => {
  it('reports the pod clean-up failed, naming the container and the sandbox still there and why', async () => {
    const rt = runtime({ stuck: true });
    const [out] = await cleanupPod(rt.deps, decision('PodRuntimeCleanupRequested'));
    expect(out.type).to.equal('PodRuntimeCleanupFailed');
    expect(RuntimeCleanupFailed.is(out.data)).to.equal(true);
    const data = out.data as RuntimeCleanupFailed;
    expect(data.notRemoved!.map((o) => `${o.kind} ${o.id}`)).to.deep.equal(['container ctr-1', 'sandbox sb-1']);
    expect(data.notRemoved![0].error).to.match(/cannot delete running task/);
    expect(data.error).to.contain('ctr-1');
    expect(rt.calls).to.include('removeContainer ctr-1');
    expect(rt.containers.size).to.equal(1);
  });

  it('reports an orphan that could not be removed as OrphanRemoveFailed, not OrphanRemoved', async () => {
    const rt = runtime({ stuck: true });
    const [out] = await killOrphan(rt.deps, decision('OrphanPodKilled'));
    expect(out.type).to.equal('OrphanRemoveFailed');
    expect((out.data as RuntimeCleanupFailed).notRemoved!.map((o) => o.id)).to.deep.equal(['ctr-1', 'sb-1']);
  });

  it('reports the clean-up done once nothing is left', async () => {
    const rt = runtime({ stuck: false });
    const [out] = await cleanupPod(rt.deps, decision('PodRuntimeCleanupRequested'));
    expect(out.type).to.equal('PodRuntimeCleanedUp');
    expect(out.data).to.deep.include({ removedContainers: 1, removedSandboxes: 1 });
    expect(rt.containers.size + rt.sandboxes.size).to.equal(0);
  });
});
