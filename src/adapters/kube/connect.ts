// One place that turns a kubeconfig file into the API clients the agent uses.
import {
  CoordinationV1Api,
  CoreV1Api,
  KubeConfig,
  Watch,
} from '@kubernetes/client-node';
import { KubeApiError } from './errors.ts';

export interface KubeClients {
  readonly kubeConfig: KubeConfig;
  readonly core: CoreV1Api;
  readonly coordination: CoordinationV1Api;
  readonly watch: Watch;
  /** The API server URL of the current context. */
  readonly server: string;
  /** The user name of the current context (for messages only; never credentials). */
  readonly userName: string;
}

/** Build clients from a loaded KubeConfig (tests use it to point at a dead address). */
export function clientsFromKubeConfig(kubeConfig: KubeConfig): KubeClients {
  const cluster = kubeConfig.getCurrentCluster();
  if (!cluster) throw new KubeApiError('Unknown', undefined, 'NoCluster', 'kubeconfig has no current cluster', 'connect');
  return {
    kubeConfig,
    core: kubeConfig.makeApiClient(CoreV1Api),
    coordination: kubeConfig.makeApiClient(CoordinationV1Api),
    watch: new Watch(kubeConfig),
    server: cluster.server,
    userName: kubeConfig.getCurrentUser()?.name ?? '',
  };
}

/** Load a kubeconfig file (as given by --kubeconfig) and build the clients. */
export function connect(kubeconfigPath: string): KubeClients {
  const kc = new KubeConfig();
  try {
    kc.loadFromFile(kubeconfigPath); // relative cert paths resolve against the file's directory
  } catch (err) {
    throw new KubeApiError('Unknown', undefined, 'KubeconfigInvalid', `cannot load kubeconfig ${kubeconfigPath}: ${(err as Error).message}`, 'connect');
  }
  return clientsFromKubeConfig(kc);
}
