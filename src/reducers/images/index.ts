// The image garbage collector (upstream pkg/kubelet/images/image_gc_manager.go) as a pure reducer.
// Records: when each image was first detected and last used, from ImagesObserved entries.
// Decisions, one ImageRemoveRequested per image, least recently used first:
// - at or above imageGCHighThresholdPercent, until the low threshold would be reached (images
//   younger than imageMinimumGCAge are skipped);
// - with imageMaximumGCAge set (and the agent up longer than it), images unused for longer;
// - when an eviction signal's disk threshold is met, every unused image (upstream's eviction
//   manager reclaims node-level resources before evicting a pod).
// Kept always: images any container uses, pinned images, the runtime's sandbox image. Nothing is
// decided while a removal is in flight: the next observation re-reads the disk.
import type { DecisionDraft, Entry } from '../../model/entry.ts';
import { CONDITION_OF, EvictionSignalsCodec, metThresholds } from '../../model/eviction.ts';
import {
  ImageRemoveRequested, ImagesObserved, bytesToFree, evictionOrder, usagePercent,
  type ImageFsFigures, type ImageGCPolicy, type ImageRecord,
} from '../../model/image-gc.ts';
import type { Decider } from '../decider.ts';

export interface ImagesState {
  records: Record<string, ImageRecord>;
  inUse: string[];
  sandboxImage?: string;
  policy?: ImageGCPolicy;
  /** Removals decided and not yet answered: image id → decision seq. */
  pending: Record<string, number>;
  /** When the agent last started (imageMaximumGCAge only applies once it has run that long). */
  startedAt?: string;
}

export const initialImagesState = (): ImagesState => ({ records: {}, inUse: [], pending: {} });

function evolveImages(s: ImagesState, e: Entry): ImagesState {
  if (e.kind === 'decision') {
    if (e.type === 'ImageRemoveRequested' && ImageRemoveRequested.is(e.data)) return { ...s, pending: { ...s.pending, [e.data.image.id]: e.seq } };
    return s;
  }
  if (e.kind === 'outcome') {
    const id = Object.keys(s.pending).find((k) => s.pending[k] === e.cause);
    if (id === undefined) return s;
    const { [id]: _answered, ...pending } = s.pending;
    if (e.type !== 'ImageRemoved') return { ...s, pending };
    const { [id]: _removed, ...records } = s.records;
    return { ...s, pending, records };
  }
  if (e.type === 'AgentStarted') return { ...s, startedAt: e.at, pending: {} };
  if (e.type !== 'ImagesObserved' || !ImagesObserved.is(e.data)) return s;
  const d = e.data;
  const used = new Set(d.inUse);
  const wasUsed = new Set(s.inUse);
  const records: Record<string, ImageRecord> = {};
  for (const img of d.images) {
    const old = s.records[img.id];
    // In use now, or seen to stop being used since the last observation: used until now.
    const lastUsed = used.has(img.id) || wasUsed.has(img.id) ? e.at : old?.lastUsed;
    records[img.id] = { firstDetected: old?.firstDetected ?? e.at, ...(lastUsed ? { lastUsed } : {}), size: img.size, pinned: img.pinned, repoTags: img.repoTags };
  }
  const pending = Object.fromEntries(Object.entries(s.pending).filter(([id]) => records[id]));
  return { ...s, records, inUse: [...used].sort(), sandboxImage: d.sandboxImage, policy: d.policy, pending };
}

/** Images the collector may remove, in eviction order (in use, pinned and sandbox images are kept). */
function candidates(s: ImagesState) {
  const used = new Set(s.inUse);
  const list = Object.entries(s.records)
    .filter(([id, r]) => !used.has(id) && !r.pinned && id !== s.sandboxImage)
    .map(([id, r]) => ({ id, ...r }));
  return evictionOrder(list);
}

const oldEnough = (at: string, firstDetected: string, minimumAgeMs: number) => Date.parse(at) - Date.parse(firstDetected) >= minimumAgeMs;

function removal(c: ReturnType<typeof candidates>[number], reason: DecisionDraft['reason'], data: Omit<ImageRemoveRequested, 'image'>): DecisionDraft<ImageRemoveRequested> {
  return {
    type: 'ImageRemoveRequested',
    reason,
    data: { image: { id: c.id, repoTags: c.repoTags, size: c.size, firstDetected: c.firstDetected }, ...(c.lastUsed ? { lastUsed: c.lastUsed } : {}), ...data },
  };
}

/** Upstream's GarbageCollect: old images first (imageMaximumGCAge), then by space to the low threshold. */
function collect(s: ImagesState, at: string, fs: ImageFsFigures, p: ImageGCPolicy): DecisionDraft[] {
  const out: DecisionDraft[] = [];
  let rest = candidates(s);
  const now = Date.parse(at);
  const pct = usagePercent(fs);
  if (p.maximumAgeMs > 0 && s.startedAt && now - Date.parse(s.startedAt) > p.maximumAgeMs) {
    // Deliberate difference: an image never used counts from its first detection (upstream: from the epoch).
    const old = rest.filter((c) => now - Date.parse(c.lastUsed ?? c.firstDetected) > p.maximumAgeMs);
    for (const c of old) out.push(removal(c, 'ImageUnusedBeyondMaximumAge', { imageFs: fs, usagePercent: pct, maximumAgeMs: p.maximumAgeMs }));
    rest = rest.filter((c) => !old.includes(c));
  }
  if (fs.capacityBytes > 0 && pct >= p.highThresholdPercent) {
    const toFree = bytesToFree(fs, p.lowThresholdPercent);
    let freed = 0;
    for (const c of rest) {
      if (freed >= toFree) break;
      if (!oldEnough(at, c.firstDetected, p.minimumAgeMs)) continue;
      out.push(removal(c, 'ImageFsAboveHighThreshold', { imageFs: fs, usagePercent: pct, highThresholdPercent: p.highThresholdPercent, lowThresholdPercent: p.lowThresholdPercent, bytesToFree: toFree, freedBefore: freed }));
      freed += c.size;
    }
  }
  return out;
}

/** Upstream's DeleteUnusedImages before a disk-pressure eviction: every unused image old enough. */
function reclaimForDiskPressure(s: ImagesState, e: Entry): DecisionDraft[] {
  if (!s.policy || !EvictionSignalsCodec.is(e.data)) return [];
  const d = e.data;
  const met = metThresholds(d.thresholds, d.observed).filter((m) => CONDITION_OF[m.signal] === 'DiskPressure');
  if (met.length === 0) return [];
  const fsSignal = d.observed['imagefs.available'] ?? d.observed['nodefs.available'];
  const fs = { availableBytes: fsSignal?.available ?? 0, capacityBytes: fsSignal?.capacity ?? 0 };
  const p = s.policy;
  return candidates(s)
    .filter((c) => oldEnough(e.at, c.firstDetected, p.minimumAgeMs))
    .map((c) => removal(c, 'DiskPressure', { imageFs: fs, usagePercent: usagePercent(fs), signal: met[0].signal, threshold: met[0].threshold }));
}

function decideImages(s: ImagesState, e: Entry): DecisionDraft[] {
  if (e.kind !== 'observation' || Object.keys(s.pending).length > 0) return [];
  if (e.type === 'ImagesObserved' && ImagesObserved.is(e.data)) return collect(s, e.at, e.data.imageFs, e.data.policy);
  if (e.type === 'EvictionSignalsObserved') return reclaimForDiskPressure(s, e);
  return [];
}

export const imagesDecider: Decider<ImagesState> = {
  initialState: initialImagesState,
  evolve: evolveImages,
  decide: decideImages,
};
