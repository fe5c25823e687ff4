// All Services, list + watch, through client-node's ListWatch (relist on 410 with deletions of
// what vanished). The caller restarts it after an error.
import { ListWatch, type V1Service } from '@kubernetes/client-node';
import type { KubeClients } from './connect.ts';

export interface ServiceWatch {
  start(): Promise<void>;
  stop(): Promise<void>;
  on(verb: 'add' | 'update' | 'delete', cb: (svc: V1Service) => void): void;
  on(verb: 'error', cb: (err: unknown) => void): void;
}

export function serviceListWatch(clients: KubeClients): ServiceWatch {
  const lw = new ListWatch<V1Service>('/api/v1/services', clients.watch, () => clients.core.listServiceForAllNamespaces(), false);
  return {
    start: () => lw.start(),
    stop: () => lw.stop(),
    on: (verb: string, cb: (x: never) => void) => lw.on(verb as 'add', cb as never),
  };
}
