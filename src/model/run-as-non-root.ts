// Upstream's verifyRunAsNonRoot (pkg/kubelet/kuberuntime/security_context_others.go at v1.36.3):
// with runAsNonRoot, a container whose effective user is root, or cannot be told (the image names a
// user, not a uid), is not created; the message is upstream's, word for word.

/** The user the image runs as, from CRI ImageStatus (uid when numeric, else the name; neither: root). */
export interface ImageUser {
  uid?: number;
  username?: string;
}

const MAX_INT32 = 2147483647;

/** Upstream's format.Pod quoted as %q does: "name_namespace(uid)". */
export const podDesc = (name: string, namespace: string, uid: string) => JSON.stringify(`${name}_${namespace}(${uid})`);

/** undefined when the container may run; else why not (its CreateContainerConfigError message). */
export function verifyRunAsNonRoot(sc: { runAsNonRoot?: boolean; runAsUser?: number }, image: ImageUser | undefined, pod: string, container: string): string | undefined {
  if (!sc.runAsNonRoot) return undefined;
  if (sc.runAsUser !== undefined) {
    return sc.runAsUser === 0 ? `container's runAsUser breaks non-root policy (pod: ${pod}, container: ${container})` : undefined;
  }
  // getImageUser: the uid if the image has one, else its user name, else root.
  const uid = image?.uid ?? (image?.username ? undefined : 0);
  if (uid === undefined) return `container has runAsNonRoot and image has non-numeric user (${image!.username}), cannot verify user is non-root (pod: ${pod}, container: ${container})`;
  if (uid === 0) return `container has runAsNonRoot and image will run as root (pod: ${pod}, container: ${container})`;
  if (uid < 0 || uid > MAX_INT32) {
    return `container has runAsNonRoot and image has an invalid user id (${uid}). (Must be 1-(${MAX_INT32})): must be between 0 and ${MAX_INT32}, inclusive (pod: ${pod}, container: ${container})`;
  }
  return undefined;
}
