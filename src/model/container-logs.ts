// Container log rotation is housekeeping, not a decision about a pod: a rotation that works adds
// nothing to the node log; one that fails is observed (source `container-logs`) once per
// container and distinct error, so a full disk does not write the same entry every 10 s.
import * as t from 'io-ts';

export const ContainerLogRotationFailed = t.type({
  container: t.string,
  containerId: t.string,
  path: t.string,
  error: t.string,
});
export type ContainerLogRotationFailed = t.TypeOf<typeof ContainerLogRotationFailed>;
