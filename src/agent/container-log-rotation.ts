// The container log manager (upstream pkg/kubelet/logs): every containerLogMonitorInterval, each
// running container's log is rotated once it reaches containerLogMaxSize, by
// containerLogMaxWorkers workers. Like the heartbeat, it acts outside the log (docs/architecture.md
// lists why): rotating a file decides nothing about a pod. Failures are observations.
import { defer, EMPTY, from, interval, mergeMap, startWith, exhaustMap, catchError, type Observable } from 'rxjs';
import type { CriClient } from '../adapters/cri/index.ts';
import { rotateIfNeeded, type RotationPolicy } from '../adapters/fs/container-log-files.ts';
import type { ObservationDraft } from '../model/entry.ts';
import type { ContainerLogRotationFailed } from '../model/container-logs.ts';
import { Labels } from '../model/runtime-observations.ts';

export interface ContainerLogRotationOptions extends RotationPolicy {
  cri: CriClient;
  intervalMs: number;
  workers: number;
  now: () => Date;
}

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function containerLogRotation$(o: ContainerLogRotationOptions): Observable<ObservationDraft<ContainerLogRotationFailed>> {
  // container id → the error last reported for it, so each distinct failure is logged once.
  const reported = new Map<string, string>();
  const round = () =>
    defer(() => o.cri.listContainers({ state: 'CONTAINER_RUNNING' })).pipe(
      mergeMap((containers) => {
        for (const id of reported.keys()) if (!containers.some((c) => c.id === id)) reported.delete(id);
        return from(containers);
      }),
      mergeMap(
        (c) =>
          defer(async (): Promise<ObservationDraft<ContainerLogRotationFailed>[]> => {
            let path = '';
            try {
              path = (await o.cri.containerStatus(c.id)).logPath;
              if (!path) return [];
              await rotateIfNeeded(path, o, o.now(), () => o.cri.reopenContainerLog(c.id));
              reported.delete(c.id);
              return [];
            } catch (e) {
              const error = message(e);
              if (reported.get(c.id) === error) return [];
              reported.set(c.id, error);
              const pod = { uid: c.labels[Labels.podUid] ?? '', namespace: c.labels[Labels.podNamespace] ?? '', name: c.labels[Labels.podName] ?? '' };
              return [{ type: 'ContainerLogRotationFailed', source: 'container-logs', ...(pod.uid ? { pod } : {}), data: { container: c.metadata.name, containerId: c.id, path, error } }];
            }
          }).pipe(mergeMap((drafts) => from(drafts))),
        o.workers,
      ),
      // A runtime that does not answer this round is tried again next round.
      catchError(() => EMPTY),
    );
  return interval(o.intervalMs).pipe(startWith(0), exhaustMap(round));
}
