// What the crash-test writer appends at each seq, so the reader can check every surviving entry
// byte for byte without any record from the killed process.
import type { AppendDraft } from '../../../src/model/entry.ts';

export function expectedDraft(seq: number): AppendDraft {
  return {
    kind: seq % 3 === 0 ? 'decision' : 'observation',
    type: seq % 3 === 0 ? 'StartPod' : 'PodAdded',
    source: 'crash-test',
    at: new Date(Date.UTC(2024, 0, 1) + seq).toISOString(),
    // Sizes vary so batches straddle LevelDB write-buffer boundaries differently.
    data: { seq, filler: 'x'.repeat((seq * 37) % 900) },
    ...(seq % 2 === 0 ? { pod: { uid: `uid-${seq % 7}`, namespace: 'default', name: `pod-${seq % 7}` } } : {}),
    ...(seq % 3 === 0 ? { cause: seq - 1, reason: 'PodAdded' } : {}),
  };
}
