// The one list of KubeletConfiguration settings ledgerlet reads but does not act on. A file that
// sets one gets a start-up warning naming it, and so does a field ledgerlet does not know (upstream
// also logs unknown fields and decodes leniently).
import { parse as parseYaml } from 'yaml';
import { KubeletConfigurationFile } from './kubelet-config.ts';

export const SETTINGS_NOT_ACTED_ON: Readonly<Record<string, string>> = {
  serializeImagePulls: 'images are pulled one per container start, as they are asked for',
  registryPullQPS: 'image pulls are not rate-limited',
  imagePullProgressDeadline: 'a pull is bounded by runtimeRequestTimeout only',
  podPidsLimit: 'no pids limit is set on pod cgroups',
  nodeStatusUpdateFrequency: 'the Lease is renewed every nodeLeaseDurationSeconds/4 and the status re-posted every nodeStatusReportFrequency',
  cgroupRoot: 'pod cgroups are always under /kubepods',
  cgroupsPerQOS: 'pod cgroups are always per QoS class',
  registerNode: 'the agent always registers its Node when it has a kubeconfig',
};

export interface ConfigWarning {
  setting: string;
  why: string;
}

/** The settings a --config file's text sets that will have no effect (the file is valid otherwise). */
export function settingsWithoutEffect(text: string): ConfigWarning[] {
  let raw: unknown;
  try {
    raw = parseYaml(text);
  } catch {
    return [];
  }
  if (raw === null || typeof raw !== 'object' || Array.isArray(raw)) return [];
  const known = KubeletConfigurationFile.type.props;
  const out: ConfigWarning[] = [];
  for (const key of Object.keys(raw)) {
    if (key in SETTINGS_NOT_ACTED_ON) out.push({ setting: key, why: SETTINGS_NOT_ACTED_ON[key] });
    else if (!(key in known)) out.push({ setting: key, why: 'not a KubeletConfiguration field ledgerlet knows; ignored' });
  }
  return out;
}
