// The runtime's sandbox (pause) image, which image GC keeps. containerd 1.7+ marks it `pinned`;
// containerd 1.6 does not, so its name is read from the CRI config containerd reports in verbose
// Status (`sandboxImage`; containerd 2: `pinnedImages.sandbox`) and resolved to an image id.
import * as t from 'io-ts';
import type { CriClient } from './client.ts';

const CriConfig = t.partial({ sandboxImage: t.string, pinnedImages: t.partial({ sandbox: t.string }) });

export function sandboxImageName(info: Record<string, string>): string | undefined {
  try {
    const c: unknown = JSON.parse(info.config ?? '{}');
    if (!CriConfig.is(c)) return undefined;
    return c.pinnedImages?.sandbox || c.sandboxImage || undefined;
  } catch {
    return undefined;
  }
}

export async function sandboxImageId(cri: CriClient): Promise<string | undefined> {
  const name = sandboxImageName(await cri.statusInfo());
  return name ? (await cri.imageStatus({ image: name }))?.id : undefined;
}
