// Image garbage collection (upstream pkg/kubelet/images/image_gc_manager.go): the payloads of what
// the image GC source observes, what the reducer decides and what the effect reports, and the pure
// ordering and threshold arithmetic the reducer uses.
import * as t from 'io-ts';

export const IMAGE_GC_SOURCE = 'image-gc';

/** The policy from KubeletConfiguration, carried in each observation so a replay decides the same. */
export const ImageGCPolicy = t.type({
  highThresholdPercent: t.number,
  lowThresholdPercent: t.number,
  minimumAgeMs: t.number,
  /** 0 = images are never removed for their age alone. */
  maximumAgeMs: t.number,
}, 'ImageGCPolicy');
export type ImageGCPolicy = t.TypeOf<typeof ImageGCPolicy>;

/** The image filesystem's figures (bytes), as the eviction signals read them (imagefs.available). */
export const ImageFsFigures = t.type({ availableBytes: t.number, capacityBytes: t.number }, 'ImageFsFigures');
export type ImageFsFigures = t.TypeOf<typeof ImageFsFigures>;

export const ObservedImage = t.type({ id: t.string, repoTags: t.array(t.string), size: t.number, pinned: t.boolean }, 'ObservedImage');
export type ObservedImage = t.TypeOf<typeof ObservedImage>;

/**
 * `ImagesObserved` (source `image-gc`), every ImageGCPeriod (5 min, as upstream) when the image
 * set, the images in use or the pins changed, when the image filesystem is at or above the high
 * threshold, when images may be too old (imageMaximumGCAge), and at start-up.
 * `inUse` holds the image ids of every container the runtime has (CRI ListContainers, any state);
 * `sandboxImage` the id of the runtime's sandbox (pause) image, kept like a pinned one.
 */
export const ImagesObserved = t.intersection([
  t.type({ images: t.array(ObservedImage), inUse: t.array(t.string), imageFs: ImageFsFigures, policy: ImageGCPolicy }),
  t.partial({ sandboxImage: t.string }),
], 'ImagesObserved');
export type ImagesObserved = t.TypeOf<typeof ImagesObserved>;

export const ImageRemovalReason = t.keyof({ ImageFsAboveHighThreshold: null, ImageUnusedBeyondMaximumAge: null, DiskPressure: null });
export type ImageRemovalReason = t.TypeOf<typeof ImageRemovalReason>;

/**
 * `ImageRemoveRequested` decision: the image chosen and the figures that caused it. `usagePercent`
 * is the image filesystem's use when decided, `bytesToFree` what it takes to reach the low
 * threshold (upstream's amountToFree), `freedBefore` what the removals decided before this one in
 * the same round free.
 */
export const ImageRemoveRequested = t.intersection([
  t.type({
    image: t.type({ id: t.string, repoTags: t.array(t.string), size: t.number, firstDetected: t.string }),
    imageFs: ImageFsFigures,
    usagePercent: t.number,
  }),
  t.partial({
    lastUsed: t.string,
    highThresholdPercent: t.number,
    lowThresholdPercent: t.number,
    bytesToFree: t.number,
    freedBefore: t.number,
    maximumAgeMs: t.number,
    /** For DiskPressure: the eviction signal and threshold that were met. */
    signal: t.string,
    threshold: t.string,
  }),
], 'ImageRemoveRequested');
export type ImageRemoveRequested = t.TypeOf<typeof ImageRemoveRequested>;

/** Outcomes: `ImageRemoved` {id} / `ImageRemoveFailed` {id, error}. */
export const ImageRemoved = t.type({ id: t.string }, 'ImageRemoved');
export const ImageRemoveFailed = t.type({ id: t.string, error: t.string }, 'ImageRemoveFailed');

/** What the reducer remembers of an image (upstream's imageRecord). */
export interface ImageRecord {
  firstDetected: string;
  /** Last observation that saw a container using it (or that saw it stop being used). */
  lastUsed?: string;
  size: number;
  pinned: boolean;
  repoTags: string[];
}

/** Use of the image filesystem in whole percent, as upstream computes it. */
export function usagePercent(fs: ImageFsFigures): number {
  const available = Math.min(fs.availableBytes, fs.capacityBytes);
  return fs.capacityBytes > 0 ? 100 - Math.floor((available * 100) / fs.capacityBytes) : 0;
}

/** Bytes to free to get down to the low threshold (upstream's amountToFree). */
export function bytesToFree(fs: ImageFsFigures, lowThresholdPercent: number): number {
  const available = Math.min(fs.availableBytes, fs.capacityBytes);
  return Math.floor((fs.capacityBytes * (100 - lowThresholdPercent)) / 100) - available;
}

/** Upstream's eviction order: least recently used first (never used counts as oldest), then first detected. */
export function evictionOrder<T extends { id: string; lastUsed?: string; firstDetected: string }>(images: readonly T[]): T[] {
  const ms = (s: string | undefined) => (s === undefined ? -Infinity : Date.parse(s));
  return [...images].sort((a, b) => ms(a.lastUsed) - ms(b.lastUsed) || ms(a.firstDetected) - ms(b.firstDetected) || a.id.localeCompare(b.id));
}
