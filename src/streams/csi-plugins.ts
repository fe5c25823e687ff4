// CSI driver discovery through the kubelet plugin registration directory, as upstream's plugin
// watcher + csi plugin: a driver's registrar puts a socket into <root>/plugins_registry; we call
// Registration.GetInfo on it (type CSIPlugin, driver name, CSI endpoint, versions), dial the CSI
// endpoint (NodeGetInfo, NodeGetCapabilities), record the driver in the registry the volume
// effects use, report it in the node's CSINode object and the csi.volume.kubernetes.io/nodeid
// annotation, and answer NotifyRegistrationStatus. A socket that disappears unregisters the driver.
//
// Observations (source `csi-plugins`):
//   CsiDriverRegistered {driver, endpoint, nodeId, maxVolumes?, topology?, capabilities, socket}
//   CsiDriverUnregistered {driver, socket}
//   CsiDriverRegistrationFailed {socket, error}     once per distinct error; retried every scan
//   CsiNodeReportFailed {driver, error}             the API update failed; retried every scan
// The directory is scanned on change notifications and every `rescanMs` (default 5 s).
import { watch as fsWatch, type FSWatcher } from 'node:fs';
import { mkdir, readdir, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { Observable } from 'rxjs';
import { CsiClient } from '../adapters/csi/index.ts';
import { RegistrationClient } from '../adapters/csi/registration.ts';
import type { KubeClients } from '../adapters/kube/connect.ts';
import { setNodeIdAnnotation, upsertCsiNodeDriver } from '../adapters/kube/csi-objects.ts';
import type { CsiDriverLookup, RegisteredCsiDriver } from '../effects/volumes/deps.ts';
import type { ObservationDraft } from '../model/entry.ts';
import type { Clock } from '../runtime/clock.ts';

export const CSI_PLUGINS_SOURCE = 'csi-plugins';

/** The drivers registered on this node; the volume effects look drivers up here. */
export class CsiPluginRegistry implements CsiDriverLookup {
  private readonly drivers = new Map<string, RegisteredCsiDriver & { socket: string }>();
  driver(name: string): RegisteredCsiDriver | undefined {
    return this.drivers.get(name);
  }
  names(): string[] {
    return [...this.drivers.keys()].sort();
  }
  bySocket(socket: string) {
    return [...this.drivers.values()].find((d) => d.socket === socket);
  }
  entries(): (RegisteredCsiDriver & { socket: string })[] {
    return [...this.drivers.values()];
  }
  set(d: RegisteredCsiDriver & { socket: string }): void {
    const old = this.drivers.get(d.name);
    if (old && old.client !== d.client) old.client.close();
    this.drivers.set(d.name, d);
  }
  delete(name: string): void {
    this.drivers.get(name)?.client.close();
    this.drivers.delete(name);
  }
  closeAll(): void {
    for (const n of this.names()) this.delete(n);
  }
}

export interface CsiPluginsOptions {
  /** <root>/plugins_registry */
  dir: string;
  registry: CsiPluginRegistry;
  nodeName: string;
  clock: Clock;
  clients?: KubeClients;
  nodeUid?: () => string | undefined;
  rescanMs?: number;
}

const unixPath = (e: string) => e.replace(/^unix:\/\//, '');
const message = (e: unknown) => (e instanceof Error ? e.message : String(e));

export function csiPlugins$(o: CsiPluginsOptions): Observable<ObservationDraft> {
  return new Observable<ObservationDraft>((sub) => {
    const ac = new AbortController();
    const emit = (type: string, data: unknown) => sub.next({ type, source: CSI_PLUGINS_SOURCE, data });
    const lastError = new Map<string, string>();
    const reported = new Set<string>(); // drivers whose CSINode/annotation are up to date
    let watcher: FSWatcher | undefined;
    let scanning = false;
    let again = false;

    const register = async (socket: string): Promise<void> => {
      const reg = new RegistrationClient(socket);
      try {
        const info = await reg.getInfo();
        if (info.type !== 'CSIPlugin') {
          await reg.notifyRegistrationStatus(false, `plugin type ${info.type} is not handled by this node agent`).catch(() => undefined);
          throw new Error(`plugin type ${info.type} is not handled`);
        }
        if (!info.supportedVersions.some((v) => /^v?1(\.|$)/.test(v))) {
          const err = `no supported CSI version in ${info.supportedVersions.join(',')}`;
          await reg.notifyRegistrationStatus(false, err).catch(() => undefined);
          throw new Error(err);
        }
        const endpoint = unixPath(info.endpoint);
        const client = new CsiClient(endpoint);
        try {
          const nodeInfo = await client.nodeGetInfo();
          const capabilities = await client.nodeGetCapabilities();
          o.registry.set({ name: info.name, endpoint, nodeId: nodeInfo.nodeId, capabilities, client, socket });
          await reg.notifyRegistrationStatus(true).catch(() => undefined);
          lastError.delete(socket);
          const topology = nodeInfo.accessibleTopology;
          emit('CsiDriverRegistered', {
            driver: info.name, endpoint, nodeId: nodeInfo.nodeId, socket, capabilities,
            ...(nodeInfo.maxVolumesPerNode ? { maxVolumes: nodeInfo.maxVolumesPerNode } : {}),
            ...(Object.keys(topology).length ? { topology } : {}),
          });
        } catch (e) {
          client.close();
          await reg.notifyRegistrationStatus(false, message(e)).catch(() => undefined);
          throw e;
        }
      } finally {
        reg.close();
      }
    };

    const report = async (d: RegisteredCsiDriver): Promise<void> => {
      if (!o.clients || reported.has(d.name)) return;
      const info = o.registry.driver(d.name);
      if (!info) return;
      try {
        const client = info.client;
        const topo = (await client.nodeGetInfo()).accessibleTopology;
        await upsertCsiNodeDriver(o.clients, o.nodeName, o.nodeUid?.(), { name: d.name, nodeID: d.nodeId, topologyKeys: Object.keys(topo).sort() });
        await setNodeIdAnnotation(o.clients, o.nodeName, d.name, d.nodeId);
        reported.add(d.name);
        lastError.delete(`report:${d.name}`);
      } catch (e) {
        const err = message(e);
        if (lastError.get(`report:${d.name}`) !== err) emit('CsiNodeReportFailed', { driver: d.name, error: err });
        lastError.set(`report:${d.name}`, err);
      }
    };

    const unregister = async (name: string, socket: string): Promise<void> => {
      o.registry.delete(name);
      reported.delete(name);
      emit('CsiDriverUnregistered', { driver: name, socket });
      if (!o.clients) return;
      try {
        await upsertCsiNodeDriver(o.clients, o.nodeName, o.nodeUid?.(), { remove: name });
        await setNodeIdAnnotation(o.clients, o.nodeName, name, undefined);
      } catch (e) {
        emit('CsiNodeReportFailed', { driver: name, error: message(e) });
      }
    };

    const scan = async (): Promise<void> => {
      if (scanning) {
        again = true;
        return;
      }
      scanning = true;
      try {
        do {
          again = false;
          const names = await readdir(o.dir).catch(() => [] as string[]);
          const sockets = new Set<string>();
          for (const n of names) {
            const p = join(o.dir, n);
            const st = await stat(p).catch(() => undefined);
            if (st?.isSocket()) sockets.add(p);
          }
          for (const d of o.registry.entries()) if (!sockets.has(d.socket)) await unregister(d.name, d.socket);
          for (const s of sockets) {
            if (ac.signal.aborted) return;
            if (o.registry.bySocket(s)) continue;
            try {
              await register(s);
            } catch (e) {
              const err = message(e);
              if (lastError.get(s) !== err) emit('CsiDriverRegistrationFailed', { socket: s, error: err });
              lastError.set(s, err);
            }
          }
          for (const name of o.registry.names()) await report(o.registry.driver(name)!);
        } while (again && !ac.signal.aborted);
      } finally {
        scanning = false;
      }
    };

    (async () => {
      await mkdir(o.dir, { recursive: true, mode: 0o750 });
      try {
        watcher = fsWatch(o.dir, () => void scan().catch(() => undefined));
        watcher.on('error', () => undefined);
      } catch {
        watcher = undefined; // polling alone still works
      }
      while (!ac.signal.aborted) {
        await scan().catch((e) => emit('CsiDriverRegistrationFailed', { socket: o.dir, error: message(e) }));
        await o.clock.sleep(o.rescanMs ?? 5000, ac.signal).catch(() => undefined);
      }
    })().catch((e) => sub.error(e));

    return () => {
      ac.abort();
      watcher?.close();
    };
  });
}
