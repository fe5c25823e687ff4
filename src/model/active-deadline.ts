// spec.activeDeadlineSeconds as upstream (pkg/kubelet/active_deadline.go at v1.36.3): once the pod
// has been active on the node (since status.startTime) that long, it is killed and reports Failed
// with reason DeadlineExceeded. The decision `PodActiveDeadlineExceeded` carries this payload.
import * as t from 'io-ts';

export const DEADLINE_EXCEEDED_REASON = 'DeadlineExceeded';
export const DEADLINE_EXCEEDED_MESSAGE = 'Pod was active on the node longer than the specified deadline';

export const ActiveDeadlineExceeded = t.type({
  activeDeadlineSeconds: t.number,
  /** status.startTime the deadline counts from. */
  startTime: t.string,
  message: t.string,
}, 'ActiveDeadlineExceeded');
export type ActiveDeadlineExceeded = t.TypeOf<typeof ActiveDeadlineExceeded>;

/** When the pod's deadline passes (ms since the epoch), or undefined without one. */
export function deadlineOf(activeDeadlineSeconds: number | undefined, startTime: string | undefined): number | undefined {
  if (activeDeadlineSeconds === undefined || startTime === undefined) return undefined;
  return Date.parse(startTime) + activeDeadlineSeconds * 1000;
}
