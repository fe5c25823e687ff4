// What the runtime effects need, injected so tests and the agent wire real clients.
import type { CriClient } from '../../adapters/cri/index.ts';
import type { Clock } from '../../runtime/clock.ts';
import type { DnsSettings } from './sandbox-config.ts';

export interface RuntimeEffectDeps {
  cri: CriClient;
  clock: Clock;
  /** Cluster DNS settings and the host's resolv.conf, read when a sandbox is made. */
  dns: () => Promise<DnsSettings>;
  /** configMapKeyRef / secretKeyRef and envFrom lookups; undefined when running standalone. */
  lookup?: {
    configMap(namespace: string, name: string): Promise<Record<string, string> | undefined>;
    secret(namespace: string, name: string): Promise<Record<string, string> | undefined>;
    /** An imagePullSecret: its type and its base64-decoded data; undefined when not found. */
    pullSecret?(namespace: string, name: string): Promise<{ type?: string; data: Record<string, string> } | undefined>;
  };
  /** The agent's --root-dir: subPath mounts are bind-mounted under its pods/<uid>/volume-subpaths. */
  rootDir: string;
  /** The node's /etc/hosts, copied for hostNetwork pods (tests give their own). */
  nodeHostsFile?: () => Promise<string>;
  /** Creates directories (pod log dirs). */
  mkdirp: (dir: string) => Promise<void>;
}
