// Pulling a container's image with the pod's imagePullSecrets, as upstream's image manager and
// kuberuntime PullImage: the secrets are read when pulling (a missing one is skipped, as upstream
// getPullSecretsForPod), the matching credentials are tried one after the other until a pull
// succeeds, and without a matching credential the image is pulled anonymously. The credential
// values are registered with the secret value registry for as long as the pod lives, so that no
// error text, entry or stdout line carries them; the log only ever names the secrets.
import type { ContainerPlan } from '../../reducers/pods/plans.ts';
import { register, release, scrub } from '../../runtime/secret-values.ts';
import type { RuntimeEffectDeps } from './deps.ts';
import { credentialsFor, credentialsOf, PullSecretError, secretValuesOf, type KeyedCredential, type PullSecret } from './pull-keyring.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

/** The registry owner of a pod's pull credentials; released when the pod's runtime objects go. */
export const pullCredentialsOwner = (podUid: string) => `image-pull/${podUid}`;

export function releasePullCredentials(podUid: string): void {
  release(pullCredentialsOwner(podUid));
}

const pullError = (text: string) => Object.assign(new Error(text), { reason: 'ErrImagePull' });

async function readSecrets(deps: RuntimeEffectDeps, namespace: string, names: string[]): Promise<{ secrets: PullSecret[]; missing: string[] }> {
  const secrets: PullSecret[] = [];
  const missing: string[] = [];
  for (const name of names) {
    const found = deps.lookup?.pullSecret ? await deps.lookup.pullSecret(namespace, name).catch(() => undefined) : undefined;
    if (found) secrets.push({ name, ...found });
    else missing.push(name);
  }
  return { secrets, missing };
}

/** PullImage with the pod's pull secrets; resolves to the image ref, or throws an error whose text holds no credential. */
export async function pullWithSecrets(deps: RuntimeEffectDeps, plan: ContainerPlan, namespace: string, podUid: string): Promise<string> {
  const spec = { image: plan.image };
  const names = plan.pullSecrets ?? [];
  if (names.length === 0) return deps.cri.pullImage(spec);

  const { secrets, missing } = await readSecrets(deps, namespace, names);
  let keyed: KeyedCredential[];
  try {
    keyed = credentialsOf(secrets);
  } catch (e) {
    if (e instanceof PullSecretError) throw pullError(e.message);
    throw e;
  } finally {
    // registered before any use, whole secret data included, so even a malformed secret's text is scrubbed
    register(pullCredentialsOwner(podUid), secretValuesOf([], secrets));
  }
  register(pullCredentialsOwner(podUid), secretValuesOf(keyed, secrets));
  // upstream warns with the FailedToRetrieveImagePullSecret event; here it is part of a failure's message
  const note = missing.length > 0 ? ` (unable to retrieve some image pull secrets (${missing.join(', ')}); attempting to pull the image may not succeed)` : '';

  const creds = credentialsFor(plan.image, keyed);
  if (creds.length === 0) {
    try {
      return await deps.cri.pullImage(spec);
    } catch (e) {
      throw pullError(scrub(message(e)) + note);
    }
  }
  const errors: string[] = [];
  for (const c of creds) {
    try {
      return await deps.cri.pullImage(spec, { username: c.auth.username, password: c.auth.password });
    } catch (e) {
      errors.push(scrub(message(e)));
    }
  }
  // upstream utilerrors.NewAggregate: one error as it is, several as [a, b]
  throw pullError((errors.length === 1 ? errors[0] : `[${errors.join(', ')}]`) + note);
}
