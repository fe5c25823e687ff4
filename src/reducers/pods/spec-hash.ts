// A stable hash of a container's spec: a running container whose hash differs was started from an
// older spec and is replaced, as upstream does with its container hash label.
import { canonicalJson } from '../../runtime/canonical.ts';
import type { Container } from '../../model/pod.ts';

export function fnv1a(text: string): string {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return (h >>> 0).toString(16).padStart(8, '0');
}

export const containerSpecHash = (c: Container): string => fnv1a(canonicalJson(c));
