// The one place naming the Kubernetes release ledgerlet behaves as (the testbed's pin) and
// ledgerlet's own version (package.json's), for `--version` and the Node's nodeInfo.
import { readFileSync } from 'node:fs';

export const TARGET_KUBERNETES_VERSION = 'v1.36.3';

/** Reported as nodeInfo.kubeletVersion: the target release, marked as ledgerlet. */
export const KUBELET_VERSION = `${TARGET_KUBERNETES_VERSION}-ledgerlet`;

/** package.json sits two levels above this file both in a checkout (src/model) and in the release (dist/model). */
export function ledgerletVersion(): string {
  try {
    const pkg: unknown = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8'));
    return typeof pkg === 'object' && pkg !== null && 'version' in pkg && typeof pkg.version === 'string' ? pkg.version : 'unknown';
  } catch {
    return 'unknown';
  }
}
