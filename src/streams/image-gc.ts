// The image garbage collector's eyes: every ImageGCPeriod (5 min, as upstream; first round at
// start-up) the runtime's images, the images its containers use and the image filesystem's figures
// are read. An ImagesObserved entry is logged only when it can matter: at start-up, when the image
// set, the images in use or the pins changed, at or above the high threshold, and every round while
// imageMaximumGCAge is set (an image ages without anything changing). The reducer decides.
import { Observable } from 'rxjs';
import type { ObservationDraft } from '../model/entry.ts';
import { IMAGE_GC_SOURCE, usagePercent, type ImageFsFigures, type ImageGCPolicy, type ImagesObserved, type ObservedImage } from '../model/image-gc.ts';
import type { Clock } from '../runtime/clock.ts';

export const IMAGE_GC_PERIOD_MS = 5 * 60_000;

export interface ImageGCSourceOptions {
  policy: ImageGCPolicy;
  clock: Clock;
  intervalMs?: number;
  listImages: () => Promise<ObservedImage[]>;
  /** Image ids of every container the runtime has, whatever its state. */
  imagesInUse: () => Promise<string[]>;
  /** The id of the runtime's sandbox image, if it names one. */
  sandboxImage: () => Promise<string | undefined>;
  imageFs: () => Promise<ImageFsFigures | undefined>;
}

const shape = (d: Pick<ImagesObserved, 'images' | 'inUse' | 'sandboxImage'>) =>
  JSON.stringify([d.images.map((i) => `${i.id}:${i.pinned}`).sort(), d.inUse, d.sandboxImage]);

export function imageGC$(o: ImageGCSourceOptions): Observable<ObservationDraft<ImagesObserved>> {
  return new Observable((sub) => {
    const stop = new AbortController();
    let last: string | undefined;
    void (async () => {
      while (!stop.signal.aborted) {
        try {
          const [images, inUse, sandboxImage, imageFs] = await Promise.all([o.listImages(), o.imagesInUse(), o.sandboxImage(), o.imageFs()]);
          if (imageFs) {
            const data: ImagesObserved = { images, inUse: [...new Set(inUse)].sort(), ...(sandboxImage ? { sandboxImage } : {}), imageFs, policy: o.policy };
            const s = shape(data);
            if (s !== last || usagePercent(imageFs) >= o.policy.highThresholdPercent || o.policy.maximumAgeMs > 0) {
              last = s;
              sub.next({ type: 'ImagesObserved', source: IMAGE_GC_SOURCE, data });
            }
          }
        } catch {
          // The runtime did not answer this round; the next round reads everything again.
        }
        await o.clock.sleep(o.intervalMs ?? IMAGE_GC_PERIOD_MS, stop.signal).catch(() => undefined);
      }
    })();
    return () => stop.abort();
  });
}
