// ContainerStartRequested → pull (per imagePullPolicy), create and start, then the postStart hook.
// Idempotent: a container for this pod, name and attempt that already exists is reused.
import type { ContainerConfig } from '../../adapters/cri/index.ts';
import type { Entry, OutcomeDraft } from '../../model/entry.ts';
import { Labels } from '../../model/runtime-observations.ts';
import type { ContainerPlan, SandboxPlan } from '../../reducers/pods/plans.ts';
import { hookWithHeaders } from '../../runtime/withheld-headers.ts';
import { runHook } from '../hooks.ts';
import type { RuntimeEffectDeps } from './deps.ts';
import { SubPathError } from '../volumes/subpaths.ts';
import { containerMounts, type RuntimeMount } from './container-mounts.ts';
import { ContainerConfigError, expand, finishEnv } from './env.ts';
import { pullWithSecrets } from './image-pull.ts';
import { createTerminationMessageFile, terminationMessageFile } from '../../adapters/fs/termination-message.ts';
import { envOwner, scrub } from '../../runtime/secret-values.ts';
import { clusterDomainOf, sandboxConfig } from './sandbox-config.ts';
import { hostsFileMount, wantsHostsFile } from './hosts-file.ts';
import { podDesc, verifyRunAsNonRoot } from '../../model/run-as-non-root.ts';

const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

interface StartData {
  plan: ContainerPlan;
  sandboxId: string;
  sandbox: SandboxPlan;
  restartCount: number;
}

async function ensureImage(deps: RuntimeEffectDeps, plan: ContainerPlan, namespace: string, podUid: string): Promise<{ pulled: boolean; imageRef?: string }> {
  const spec = { image: plan.image };
  if (plan.pullPolicy !== 'Always') {
    const present = await deps.cri.imageStatus(spec);
    if (present) return { pulled: false, imageRef: present.id };
    if (plan.pullPolicy === 'Never') throw Object.assign(new Error(`Container image "${plan.image}" is not present with pull policy of Never`), { reason: 'ErrImageNeverPull' });
  }
  return { pulled: true, imageRef: await pullWithSecrets(deps, plan, namespace, podUid) };
}

/** Upstream mounts a fresh empty file at terminationMessagePath for each container instance. */
async function terminationMessageMount(plan: ContainerPlan, podUid: string, rootDir: string): Promise<RuntimeMount[]> {
  if (!plan.terminationMessagePath) return [];
  const file = terminationMessageFile(rootDir, podUid, plan.name, plan.attempt);
  if (!file) return [];
  await createTerminationMessageFile(file);
  return [{ containerPath: plan.terminationMessagePath, hostPath: file, readonly: false }];
}

function containerConfig(plan: ContainerPlan, sandbox: SandboxPlan, vars: Map<string, string>, mounts: RuntimeMount[], restartCount: number): ContainerConfig {
  return {
    metadata: { name: plan.name, attempt: plan.attempt },
    image: { image: plan.image, userSpecifiedImage: plan.image },
    command: plan.command.map((c) => expand(c, vars)),
    args: plan.args.map((a) => expand(a, vars)),
    workingDir: plan.workingDir,
    envs: [...vars].map(([key, value]) => ({ key, value })),
    mounts,
    labels: {
      [Labels.podName]: sandbox.name,
      [Labels.podNamespace]: sandbox.namespace,
      [Labels.podUid]: sandbox.uid,
      [Labels.containerName]: plan.name,
      [Labels.specHash]: plan.specHash,
    },
    annotations: {
      'io.kubernetes.container.restartCount': String(restartCount),
      'io.kubernetes.container.terminationMessagePath': plan.terminationMessagePath,
      'io.kubernetes.container.terminationMessagePolicy': plan.terminationMessagePolicy ?? 'File',
      'io.kubernetes.pod.terminationGracePeriod': '30',
    },
    logPath: plan.logPath,
    stdin: plan.stdin,
    tty: plan.tty,
    linux: {
      resources: {
        cpuShares: plan.cpuShares,
        ...(plan.cpuQuota !== undefined ? { cpuQuota: plan.cpuQuota, cpuPeriod: plan.cpuPeriod } : {}),
        ...(plan.memoryLimitBytes !== undefined ? { memoryLimitInBytes: plan.memoryLimitBytes } : {}),
      },
      securityContext: {
        privileged: plan.privileged,
        ...(plan.noNewPrivs ? { noNewPrivs: true } : {}),
        readonlyRootfs: plan.readOnlyRootFilesystem,
        ...(plan.runAsUser !== undefined ? { runAsUser: { value: plan.runAsUser } } : {}),
        ...(plan.runAsGroup !== undefined ? { runAsGroup: { value: plan.runAsGroup } } : {}),
        namespaceOptions: { network: sandbox.hostNetwork ? 'NODE' : 'POD', pid: sandbox.hostPID ? 'NODE' : 'CONTAINER', ipc: sandbox.hostIPC ? 'NODE' : 'POD' },
      },
    },
  };
}

/**
 * Garbage collection as upstream's default (MaxPerPodContainer = 1): keep the previous dead
 * instance (its logs and status.lastState), remove the ones before it.
 */
async function removeOlderInstances(deps: RuntimeEffectDeps, sandboxId: string, plan: ContainerPlan) {
  const all = await deps.cri.listContainers({ podSandboxId: sandboxId, labelSelector: { [Labels.containerName]: plan.name } });
  for (const c of all) {
    if (c.metadata.attempt < plan.attempt - 1 && c.state === 'CONTAINER_EXITED') await deps.cri.removeContainer(c.id);
    // An older attempt still `created` (the agent died between CreateContainer and StartContainer, and
    // a later attempt was decided) will never be started: it is a leftover, not a previous instance.
    else if (c.metadata.attempt < plan.attempt && c.state === 'CONTAINER_CREATED') await deps.cri.removeContainer(c.id).catch(() => undefined);
  }
}

export async function startContainer(deps: RuntimeEffectDeps, d: Entry): Promise<OutcomeDraft[]> {
  const { plan, sandboxId, sandbox, restartCount } = d.data as StartData;
  const failed = (stage: string, reason: string, msg: string, created = false, detail?: string): OutcomeDraft[] => [
    { type: 'ContainerStartFailed', pod: d.pod, data: { name: plan.name, attempt: plan.attempt, stage, reason, message: msg, created, ...(detail !== undefined && detail !== msg ? { detail } : {}) } },
  ];
  let image: { pulled: boolean; imageRef?: string };
  try {
    image = await ensureImage(deps, plan, sandbox.namespace, sandbox.uid);
  } catch (e) {
    // scrubbed here too: a registry or runtime may echo what it was sent
    return failed('pull', (e as { reason?: string }).reason ?? 'ErrImagePull', scrub(message(e)));
  }
  let vars: Map<string, string>;
  try {
    vars = await finishEnv(plan, sandbox.namespace, deps, envOwner(sandbox.uid, plan.name));
  } catch (e) {
    if (e instanceof ContainerConfigError) return failed('config', 'CreateContainerConfigError', e.message);
    return failed('config', 'CreateContainerConfigError', message(e));
  }
  let mounts: RuntimeMount[];
  try {
    mounts = await containerMounts(plan, sandbox.uid, deps.rootDir, vars);
  } catch (e) {
    // As upstream, the pod's owner reads a generic message; where it went wrong (host paths) is in `detail`.
    if (e instanceof SubPathError) return failed('config', 'CreateContainerConfigError', e.message, false, e.detail);
    return failed('config', 'CreateContainerConfigError', message(e));
  }
  try {
    mounts = [...mounts, ...(await terminationMessageMount(plan, sandbox.uid, deps.rootDir))];
  } catch (e) {
    return failed('config', 'CreateContainerConfigError', `termination message file: ${message(e)}`);
  }
  try {
    // A sandbox the runtime cannot report on fails the create just after: no hosts file for it.
    const podIPs = sandbox.hostNetwork ? [] : await deps.cri.podSandboxStatus(sandboxId).then((st) => st.ips, () => [] as string[]);
    if (wantsHostsFile(plan, sandbox, podIPs)) mounts.push(await hostsFileMount(deps.rootDir, sandbox, podIPs, clusterDomainOf(await deps.dns()), deps.nodeHostsFile));
  } catch (e) {
    return failed('config', 'CreateContainerConfigError', message(e));
  }
  if (plan.runAsNonRoot) {
    // As upstream (generateContainerConfig): the image's user from ImageStatus, after the pull.
    const refused = await deps.cri.imageStatus({ image: plan.image }).then(
      (img) => verifyRunAsNonRoot(plan, img, podDesc(sandbox.name, sandbox.namespace, sandbox.uid), plan.name),
      (e: unknown) => message(e),
    );
    if (refused) return failed('config', 'CreateContainerConfigError', refused);
  }
  let id: string | undefined;
  try {
    const same = (await deps.cri.listContainers({ podSandboxId: sandboxId, labelSelector: { [Labels.containerName]: plan.name } }))
      .find((c) => c.metadata.attempt === plan.attempt);
    id = same?.id ?? (await deps.cri.createContainer(sandboxId, containerConfig(plan, sandbox, vars, mounts, restartCount), sandboxConfig(sandbox, await deps.dns())));
    if (!same || same.state === 'CONTAINER_CREATED') await deps.cri.startContainer(id);
  } catch (e) {
    return id ? failed('start', 'RunContainerError', message(e), true) : failed('create', 'CreateContainerError', message(e));
  }
  const status = await deps.cri.containerStatus(id).catch(() => undefined);
  await removeOlderInstances(deps, sandboxId, plan).catch(() => undefined);
  const started: OutcomeDraft = {
    type: 'ContainerStarted',
    pod: d.pod,
    data: {
      name: plan.name,
      containerId: id,
      attempt: plan.attempt,
      image: plan.image,
      imageRef: status?.imageRef || image.imageRef,
      startedAt: status?.startedAt,
      specHash: plan.specHash,
      pulled: image.pulled,
    },
  };
  if (plan.postStart) {
    const hook = await runHook(hookWithHeaders(plan.postStart, sandbox.uid, plan.name, 'postStart'), { cri: deps.cri, containerId: id, podIP: undefined, ports: plan.ports, timeoutSeconds: 30, sleep: (ms) => deps.clock.sleep(ms) });
    if (!hook.ok) {
      // Upstream kills a container whose postStart hook failed; it is then restarted per policy.
      await deps.cri.stopContainer(id, 2).catch(() => undefined);
      return [started, { type: 'PostStartHookFailed', pod: d.pod, data: { name: plan.name, containerId: id, detail: hook.detail ?? '' } }];
    }
  }
  return [started];
}
