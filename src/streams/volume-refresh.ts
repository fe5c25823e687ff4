// Keeps mounted configMap, secret, downwardAPI and projected volumes current, as upstream's
// periodic remount: every `syncFrequencyMs` (the kubelet's syncFrequency, default 1 min) each
// target volume's objects are read again and, when the content differs, written with the atomic
// writer (the `..data` symlink swap: readers see the old or the new set of files, never a mix).
// Projected service-account tokens are rotated once 80% of their lifetime has passed (at most
// 24 h after issue), as upstream's token manager; a token not yet due is kept.
// Emits, only on a change (source `volumes`):
//   PodVolumeContentUpdated {volume, kind, contentHash, resourceVersion?, resourceVersions?, tokenRotated?}
//   PodVolumeRefreshFailed  {volume, kind, error}          once per distinct error for a volume
// Never any content: names, resource versions and the sha256 of what was written.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { Observable, type Subscription } from 'rxjs';
import { DATA_DIR } from '../effects/volumes/atomic-writer.ts';
import { buildPayload, writeVolume } from '../effects/volumes/index.ts';
import type { VolumeEffectDeps } from '../effects/volumes/deps.ts';
import { tokenDue, tokenOnDisk, tokenTimes, refreshAt } from '../effects/volumes/token.ts';
import type { ObservationDraft } from '../model/entry.ts';
import type { VolumeRefreshTarget } from '../reducers/pods/volume-targets.ts';

export const VOLUMES_SOURCE = 'volumes';

export interface VolumeRefreshOptions {
  targets$: Observable<VolumeRefreshTarget[]>;
  deps: VolumeEffectDeps;
  /** syncFrequency in ms (default 60 s) */
  syncFrequencyMs?: number;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** One pass over the targets; exported for tests. `known` holds the last hash per pod/volume. */
export async function refreshOnce(targets: VolumeRefreshTarget[], deps: VolumeEffectDeps, known: Map<string, string>, errors: Map<string, string>, emit: (o: ObservationDraft) => void): Promise<void> {
  for (const t of targets) {
    for (const v of t.volumes) {
      const key = `${t.pod.uid}/${v.name}`;
      const spec = t.plan.volumes.find((x) => x.name === v.name);
      // a volume being torn down (or never written) is left alone: never write where nothing is mounted
      if (!spec || !existsSync(join(v.hostPath, DATA_DIR))) continue;
      try {
        const now = deps.clock.now();
        const built = await buildPayload(deps, t.plan, spec, v.hostPath, now);
        const w = await writeVolume(v.hostPath, built.payload, now, t.plan.fsGroup);
        errors.delete(key);
        const prev = known.get(key);
        known.set(key, w.contentHash);
        if (!w.changed && prev !== undefined) continue;
        if (!w.changed) continue; // first sight of a volume written by the set-up effect
        const rvs = built.resourceVersions;
        const single = Object.values(rvs);
        emit({
          type: 'PodVolumeContentUpdated',
          source: VOLUMES_SOURCE,
          pod: t.pod,
          data: {
            volume: v.name,
            kind: v.kind,
            contentHash: w.contentHash,
            ...(single.length === 1 ? { resourceVersion: single[0] } : {}),
            ...(single.length > 1 ? { resourceVersions: rvs } : {}),
            ...(built.tokens.length ? { tokens: built.tokens.map((x) => x.path) } : {}),
          },
        });
      } catch (e) {
        const err = message(e);
        if (errors.get(key) !== err) emit({ type: 'PodVolumeRefreshFailed', source: VOLUMES_SOURCE, pod: t.pod, data: { volume: v.name, kind: v.kind, error: err } });
        errors.set(key, err);
      }
    }
  }
}

/** The earliest moment a projected token among the targets is due (ms since epoch), if any. */
export async function nextTokenDue(targets: VolumeRefreshTarget[]): Promise<number | undefined> {
  let next: number | undefined;
  for (const t of targets) {
    for (const v of t.volumes) {
      if (v.kind !== 'projected') continue;
      const spec = t.plan.volumes.find((x) => x.name === v.name) as { projected?: { sources?: { serviceAccountToken?: { path: string } }[] } } | undefined;
      for (const s of spec?.projected?.sources ?? []) {
        if (!s.serviceAccountToken) continue;
        const tok = await tokenOnDisk(v.hostPath, s.serviceAccountToken.path);
        const times = tok && tokenTimes(tok);
        if (!times) continue;
        const at = refreshAt(times);
        next = next === undefined ? at : Math.min(next, at);
      }
    }
  }
  return next;
}

export function volumeRefresh$(o: VolumeRefreshOptions): Observable<ObservationDraft> {
  return new Observable<ObservationDraft>((sub) => {
    const ac = new AbortController();
    let targets: VolumeRefreshTarget[] = [];
    const known = new Map<string, string>();
    const errors = new Map<string, string>();
    const period = o.syncFrequencyMs ?? 60_000;
    const tsub: Subscription = o.targets$.subscribe({ next: (t) => (targets = t), error: (e) => sub.error(e) });
    (async () => {
      while (!ac.signal.aborted) {
        // Wake at the sync period, or earlier when a token falls due before it.
        const now = o.deps.clock.now().getTime();
        const due = await nextTokenDue(targets).catch(() => undefined);
        const wait = due !== undefined ? Math.max(0, Math.min(period, due - now)) : period;
        await o.deps.clock.sleep(Math.max(wait, 100), ac.signal).catch(() => undefined);
        if (ac.signal.aborted) break;
        const current = targets;
        const live = new Set(current.flatMap((t) => t.volumes.map((v) => `${t.pod.uid}/${v.name}`)));
        for (const k of [...known.keys()]) if (!live.has(k)) known.delete(k);
        await refreshOnce(current, o.deps, known, errors, (x) => sub.next(x));
      }
    })().catch((e) => sub.error(e));
    return () => {
      ac.abort();
      tsub.unsubscribe();
    };
  });
}

export { tokenDue };
