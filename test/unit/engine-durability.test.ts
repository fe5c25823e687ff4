// Durability: the batch carrying a decision with a destructive effect is synced to disk before the
// effect runs; other batches are not (their loss to a power cut is repaired by the relist).
import { expect } from 'chai';
import { LogStore } from '../../src/adapters/store/index.ts';
import { DESTRUCTIVE_DECISIONS, isDestructive } from '../../src/agent/destructive-decisions.ts';
import type { Entry } from '../../src/model/entry.ts';
import { Engine } from '../../src/runtime/engine.ts';
import { VirtualClock } from '../../src/runtime/virtual-clock.ts';
import { lifecycleDecider, podRef, type LifecycleState } from './helpers/test-deciders.ts';
import { tempDirs } from './helpers/temp-dir.ts';

const pod = (n: number, type: string) => ({ type, source: 'apiserver', data: { n }, pod: podRef(n) });

describe('engine: durable destructive decisions', () => {
  const dirs = tempDirs();
  let store: LogStore;
  let engine: Engine<LifecycleState> | undefined;
  /** every write in order: its entry types and whether it was synced, and when it finished */
  let writes: { types: string[]; sync: boolean; done: boolean }[];
  const order: string[] = [];

  beforeEach(async () => {
    store = await LogStore.open(dirs.make());
    writes = [];
    order.length = 0;
    const write = store.write.bind(store);
    store.write = async (entries, opts) => {
      const w = { types: entries.map((e) => e.type), sync: opts?.sync === true, done: false };
      writes.push(w);
      await write(entries, opts);
      w.done = true;
      order.push(`written:${w.types.join(',')}:${w.sync ? 'synced' : 'buffered'}`);
    };
    engine = await Engine.start<LifecycleState>({
      store,
      decider: lifecycleDecider,
      clock: new VirtualClock('2024-03-01T12:00:00.000Z'),
      isDestructive: (d: Entry) => d.type === 'KillPod',
      effects: {
        StartPod: async () => { order.push('effect:StartPod'); return [{ type: 'PodStarted', data: {} }]; },
        KillPod: async () => { order.push('effect:KillPod'); return [{ type: 'PodKilled', data: {} }]; },
      },
    });
  });
  afterEach(async () => {
    await engine?.stop({ timeoutMs: 50 });
    await store.close();
    dirs.cleanup();
  });

  it('given a pod, when its kill is decided, then that batch alone is synced, before the kill runs', async () => {
    await engine!.submit(pod(1, 'PodAdded'));
    await engine!.settled();
    await engine!.submit(pod(1, 'PodDeleted'));
    await engine!.settled();
    expect(writes.map((w) => `${w.types.join(',')}:${w.sync ? 'synced' : 'buffered'}`)).to.deep.equal([
      'AgentStarted:buffered',
      'PodAdded,StartPod:buffered',
      'PodStarted:buffered',
      'PodDeleted,KillPod:synced',
      'PodKilled:buffered',
    ]);
    expect(order.slice(order.indexOf('written:PodDeleted,KillPod:synced'))).to.deep.equal(['written:PodDeleted,KillPod:synced', 'effect:KillPod', 'written:PodKilled:buffered']);
  });

  it('a synced batch is written like any other and reads back', async () => {
    await store.write(store.stamp([{ kind: 'observation', type: 'Probe', source: 'test', data: { x: 1 }, at: '2024-03-01T12:00:01.000Z' }]), { sync: true });
    const read: string[] = [];
    for await (const r of store.readRange()) if (r.ok) read.push(r.entry.type);
    expect(read).to.deep.equal(['AgentStarted', 'Probe']);
  });
});

describe('the node\'s destructive decisions', () => {
  const d = (type: string): Entry => ({ v: 1, seq: 1, at: '2024-03-01T12:00:00.000Z', kind: 'decision', type, source: 'engine', data: {} });
  it('are the kills, removals and deletions, not starts, status reports or timers', () => {
    for (const t of ['ContainerKilled', 'PodSandboxKilled', 'OrphanPodKilled', 'PodRuntimeCleanupRequested', 'PodVolumesTearDownRequested', 'PodObjectDeleteRequested', 'MirrorPodDeleteRequested', 'PodEvicted', 'PodShutdownKilled', 'ImageRemoveRequested']) {
      expect(isDestructive(d(t)), t).to.equal(true);
    }
    for (const t of ['ContainerStartRequested', 'PodSandboxRequested', 'PodStatusChanged', 'RestartBackedOff', 'PodVolumesSetUpRequested', 'MirrorPodCreateRequested', 'NodeStatusChanged', 'NodeShutdownGroupStarted']) {
      expect(isDestructive(d(t)), t).to.equal(false);
    }
    expect(DESTRUCTIVE_DECISIONS.size).to.equal(10);
  });
});
