// QoS class as upstream (pkg/apis/core/v1/helper/qos): from the cpu and memory requests and limits.
import type { Pod } from '../../model/pod.ts';
import { parseQuantity } from '../../model/quantity.ts';

export function qosClass(pod: Pod): 'Guaranteed' | 'Burstable' | 'BestEffort' {
  const all = [...(pod.spec.initContainers ?? []), ...pod.spec.containers];
  let anySet = false;
  let guaranteed = true;
  for (const c of all) {
    const req = c.resources?.requests ?? {};
    const lim = c.resources?.limits ?? {};
    for (const r of ['cpu', 'memory']) {
      const q = req[r] ?? lim[r]; // an unset request defaults to the limit
      const l = lim[r];
      if (q !== undefined || l !== undefined) anySet = true;
      if (l === undefined || q === undefined || parseQuantity(String(q)) !== parseQuantity(String(l))) guaranteed = false;
    }
  }
  if (!anySet) return 'BestEffort';
  return guaranteed ? 'Guaranteed' : 'Burstable';
}
