// The termination message of an exited container, as upstream's convertToKubeContainerStatus:
// the file at terminationMessagePath (its last 4 KiB) or, with FallbackToLogsOnError and a failed
// container, the tail of its log; appended to the runtime's own message after ": ". It is
// container output: values the agent holds (secrets) are scrubbed before it can reach the log.
import type { ContainerStatus } from '../adapters/cri/codecs.ts';
import { readLogTail, readTerminationMessage, terminationMessageFile } from '../adapters/fs/termination-message.ts';
import { Labels } from '../model/runtime-observations.ts';
import { scrub } from '../runtime/secret-values.ts';

export async function terminationMessage(status: ContainerStatus, rootDir: string): Promise<string | undefined> {
  if (status.state !== 'CONTAINER_EXITED') return undefined;
  const path = status.annotations['io.kubernetes.container.terminationMessagePath'];
  const policy = status.annotations['io.kubernetes.container.terminationMessagePolicy'];
  // A container that could not even start has no logs to fall back to.
  const fallback = policy === 'FallbackToLogsOnError' && status.exitCode !== 0 && status.reason !== 'ContainerCannotRun';
  let text = '';
  let checkLogs = fallback;
  const podUid = status.labels[Labels.podUid] ?? '';
  const name = status.labels[Labels.containerName] || status.metadata.name;
  const file = path ? terminationMessageFile(rootDir, podUid, name, status.metadata.attempt) : undefined;
  if (file) {
    try {
      const data = await readTerminationMessage(file);
      text = data ?? '';
      checkLogs = fallback && !data;
    } catch (e) {
      text = `Error on reading termination log ${file}: ${(e as Error).message}`;
      checkLogs = false;
    }
  }
  if (checkLogs && status.logPath) {
    text = await readLogTail(status.logPath).catch((e: unknown) => `Error on reading termination message from logs: ${(e as Error).message}`);
  }
  if (!text) return status.message || undefined;
  return scrub(status.message ? `${status.message}: ${text}` : text);
}
