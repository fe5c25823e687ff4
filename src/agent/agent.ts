// Assembles the node agent: the log, the engine with the node's reducers, the effect handlers,
// and the sources (PLEG, static pods, API watch, heartbeats). Stopping it leaves pods running.
import { mkdir, readFile } from 'node:fs/promises';
import { join } from 'node:path';
import type { Logger } from 'pino';
import { auditTime, distinctUntilChanged, filter, firstValueFrom, map, startWith, type Subscription } from 'rxjs';
import { CriClient } from '../adapters/cri/index.ts';
import { connect, type KubeClients } from '../adapters/kube/connect.ts';
import { getConfigMap, getSecret } from '../adapters/kube/volume-sources.ts';
import { isNotFound } from '../adapters/kube/errors.ts';
import { logDir, type LogStore } from '../adapters/store/index.ts';
import { ensureRootDirs, guardLogDir, tightenLogFiles } from '../adapters/fs/private-dirs.ts';
import { openNodeLog } from './open-node-log.ts';
import { patchNodeConditions, register, reportNodeStatus } from '../effects/api/node-api.ts';
import { deletePodObject, patchStatus } from '../effects/api/pod-api.ts';
import { createMirror, deleteMirror } from '../effects/api/mirror-api.ts';
import { runtimeEffects } from '../effects/cri/index.ts';
import { volumeEffects, type VolumeEffectDeps } from '../effects/volumes/index.ts';
import { pluginsRegistryDir } from '../effects/volumes/layout.ts';
import { volumeRefreshTargets } from '../reducers/pods/volume-targets.ts';
import { CsiPluginRegistry, csiPlugins$ } from '../streams/csi-plugins.ts';
import { volumeRefresh$ } from '../streams/volume-refresh.ts';
import { parseResolvConf } from '../effects/cri/sandbox-config.ts';
import type { EffectHandlers } from '../effects/effect.ts';
import type { KubeletConfiguration } from '../model/kubelet-config.ts';
import { parseDurationMs } from '../model/duration.ts';
import { nodeDecider, type NodeAgentState } from '../reducers/index.ts';
import { systemClock, type Clock } from '../runtime/clock.ts';
import { DEFAULT_MAX_WRITE_OUTAGE_MS, Engine, LogWriteOutageError } from '../runtime/engine.ts';
import { withLogCondition } from './log-condition.ts';
import { apiPods$ } from '../streams/api-pods.ts';
import { apiServices$ } from '../streams/api-services.ts';
import { serviceListWatch } from '../adapters/kube/services.ts';
import { createPlegStats, pleg$ } from '../streams/pleg.ts';
import { criRuntimeView } from '../streams/pleg-cri.ts';
import { staticPods$ } from '../streams/static-pods.ts';
import { withholdHeaders } from '../runtime/withheld-headers.ts';
import { evictionSignals$, type PodUsage } from '../streams/eviction-signals.ts';
import { readNodeSignals } from '../adapters/fs/node-signals.ts';
import { parseThresholds } from '../model/eviction.ts';
import { imageGC$ } from '../streams/image-gc.ts';
import { waitShutdownGroup } from '../effects/shutdown-timer.ts';
import { NODE_SHUTDOWN_SOURCE, shutdownGroups } from '../model/node-shutdown.ts';
import { sandboxImageId } from '../adapters/cri/sandbox-image.ts';
import { distinctTargets, prober$, proberHandlers } from '../streams/prober.ts';
import { probeTargets } from '../reducers/pods/probe-targets.ts';
import { effectKey } from './effect-keys.ts';
import { isDestructive } from './destructive-decisions.ts';
import { recordEvents } from './event-recorder.ts';
import { heartbeat$ } from './heartbeat.ts';
import { serveHealth } from './health-server.ts';
import { agentMetrics } from './agent-metrics.ts';
import { StatsProvider } from './stats-provider.ts';
import { containerLogRotation$ } from './container-log-rotation.ts';
import { parseQuantity } from '../model/quantity.ts';
import { KubeletAuth } from './kubelet-auth.ts';
import { serveKubeletApi, type KubeletServerOptions } from './kubelet-server.ts';
import { serveReadOnlyKubeletApi } from './kubelet-read-only.ts';
import { insecureCipherSuites } from '../model/tls-settings.ts';
import { runningContainers } from './kubelet-api-queries.ts';
import { servingTls } from './kubelet-tls.ts';
import { nodeStatusSource } from './node-status-source.ts';
import { LOCAL_API_SOCKET, serveLocalApi } from '../postmortem/local-api.ts';
import { storeSource } from '../postmortem/root-dir.ts';

export interface AgentOptions {
  config: KubeletConfiguration;
  rootDir: string;
  nodeName: string;
  kubeconfig?: string;
  nodeIP?: string;
  hostnameOverride?: string;
  logger: Logger;
  clock?: Clock;
  /** Log retention: entries older than this / beyond this size are dropped behind a snapshot. */
  retention?: { maxAgeMs?: number; maxBytes?: number; everyMs?: number };
  /** Exit (halted resolves) after the node log could not be written this long (default 5 min). */
  maxLogWriteOutageMs?: number;
}

export interface Agent {
  engine: Engine<NodeAgentState>;
  store: LogStore;
  /** Resolves if the node log stayed unwritable for maxLogWriteOutageMs: the caller exits non-zero. */
  halted: Promise<LogWriteOutageError>;
  /** Announce a graceful node shutdown (`ledgerlet shutdown`, SIGUSR2). */
  shutdown(trigger: string): Promise<{ seq: number } | { error: string }>;
  stop(): Promise<void>;
}

const decodeBase64Map = (m: Record<string, string> | undefined) =>
  Object.fromEntries(Object.entries(m ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64').toString('utf8')]));

export async function startAgent(o: AgentOptions): Promise<Agent> {
  const clock = o.clock ?? systemClock;
  const log = o.logger;
  const cfg = o.config;
  // 0750 as upstream, tightened if it exists: pod data and plugin sockets are not for other users.
  await ensureRootDirs(o.rootDir);
  const cri = new CriClient(cfg.containerRuntimeEndpoint, { timeouts: { defaultMs: parseDurationMs(cfg.runtimeRequestTimeout) ?? 120_000 } });
  const clients: KubeClients | undefined = o.kubeconfig ? connect(o.kubeconfig) : undefined;
  const statusSource = await nodeStatusSource({ nodeName: o.nodeName, rootDir: o.rootDir, nodeIP: o.nodeIP, hostnameOverride: o.hostnameOverride, maxPods: cfg.maxPods, cri, kubeletPort: cfg.enableServer ? cfg.port : 0, registerWithTaints: cfg.registerWithTaints });
  let nodeUid: string | undefined;
  const csiRegistry = new CsiPluginRegistry();
  const volumeDeps: VolumeEffectDeps = { kube: clients, rootDir: o.rootDir, nodeName: o.nodeName, clock, csi: csiRegistry, allocatable: () => statusSource.allocatable };

  const effects: EffectHandlers = {
    ...runtimeEffects({
      cri,
      clock,
      rootDir: o.rootDir,
      mkdirp: async (dir) => void (await mkdir(dir, { recursive: true })),
      dns: async () => ({
        clusterDNS: cfg.clusterDNS,
        clusterDomain: cfg.clusterDomain,
        host: parseResolvConf(await readFile(cfg.resolvConf, 'utf8').catch(() => '')),
      }),
      lookup: clients && {
        configMap: async (ns, name) => {
          try {
            const cm = await getConfigMap(clients, ns, name);
            return { ...(cm.data ?? {}), ...decodeBase64Map(cm.binaryData) };
          } catch (e) {
            if (isNotFound(e)) return undefined;
            throw e;
          }
        },
        secret: async (ns, name) => {
          try {
            return decodeBase64Map((await getSecret(clients, ns, name)).data);
          } catch (e) {
            if (isNotFound(e)) return undefined;
            throw e;
          }
        },
        pullSecret: async (ns, name) => {
          try {
            const s = await getSecret(clients, ns, name);
            return { type: s.type, data: decodeBase64Map(s.data) };
          } catch (e) {
            if (isNotFound(e)) return undefined;
            throw e;
          }
        },
      },
    }),
    PodStatusChanged: (d) => patchStatus(clients, d),
    PodObjectDeleteRequested: (d) => deletePodObject(clients, d),
    ...volumeEffects(volumeDeps),
    NodeShutdownGroupStarted: (d, ctx) => waitShutdownGroup(clock, d, ctx.signal),
  };
  if (clients) {
    effects.MirrorPodCreateRequested = (d) => createMirror(clients, o.nodeName, d);
    effects.MirrorPodDeleteRequested = (d) => deleteMirror(clients, d);
    effects.NodeRegistrationRequested = async (d) => {
      const out = await register(clients, statusSource, d);
      const uid = (out[0]?.data as { uid?: string }).uid;
      if (uid) nodeUid = uid;
      return out;
    };
    effects.NodeStatusChanged = (d) => reportNodeStatus(clients, statusSource, d, clock.now());
  }

  const firstGuard = await guardLogDir(logDir(o.rootDir));
  const store = await openNodeLog(o.rootDir, log, () => clock.now());
  // A damaged log was moved aside and a new directory made: guard the directory now in place (0700, files 0600).
  firstGuard.close();
  const logGuard = await guardLogDir(logDir(o.rootDir));
  const engine = await Engine.start({ store, decider: nodeDecider, effects, clock, logger: log, keyOf: effectKey, isWait: (d) => d.type === 'RestartBackedOff', isDestructive, maxConcurrentEffects: 32, snapshotEvery: 10_000, maxWriteOutageMs: o.maxLogWriteOutageMs ?? DEFAULT_MAX_WRITE_OUTAGE_MS });
  const halted = firstValueFrom(engine.logStatus$.pipe(filter((st) => !st.writable && st.gaveUp), map((st) => new LogWriteOutageError(`node log not writable since ${!st.writable ? st.since.toISOString() : ''}: ${!st.writable ? st.error : ''}`))), { defaultValue: undefined })
    .then((e) => e ?? new Promise<never>(() => undefined));
  const logWritable$ = engine.logStatus$.pipe(map((st) => st.writable), distinctUntilChanged());
  // The postmortem commands read the log through this socket while the agent holds LevelDB's lock.
  const localApi = await serveLocalApi({ store, engine, socketPath: join(o.rootDir, LOCAL_API_SOCKET), logger: log, shutdown: (trigger) => announceShutdown(trigger) });
  await engine.submit({
    type: 'AgentConfigured',
    source: 'agent',
    data: {
      nodeName: o.nodeName,
      standalone: !clients,
      staticPodPath: cfg.staticPodPath,
      hostIP: statusSource.facts.nodeIP,
      podLogsDir: cfg.podLogsDir,
      maxPods: cfg.maxPods,
      // Only when set, so AgentConfigured entries of nodes without it are unchanged.
      ...(cfg.allowedUnsafeSysctls.length ? { allowedUnsafeSysctls: cfg.allowedUnsafeSysctls } : {}),
      allocatable: statusSource.allocatable,
      apiServer: clients?.server,
    },
  });

  const subs: Subscription[] = [];
  let imageFsPath: string | undefined;
  // Operator-facing log lines for decisions and notable observations; subscribed before any source.
  subs.push(engine.entries$.subscribe((e) => {
    if (e.kind !== 'observation' || ['ManifestRejected', 'PodRejected', 'ApiServerUnreachable', 'ApiServerReachable', 'RuntimeUnreachable', 'RuntimeReachable', 'NodeHeartbeatFailed', 'NodeHeartbeatRecovered', 'PlegHealthChanged', 'StaticPodPathUnreadable'].includes(e.type)) {
      const line = { seq: e.seq, kind: e.kind, type: e.type, reason: e.reason, pod: e.pod ? `${e.pod.namespace}/${e.pod.name}` : undefined, cause: e.cause };
      if (/Failed|Rejected|Unreachable/.test(e.type)) log.warn({ ...line, data: e.data }, e.type);
      else log.info(line, e.type);
    }
  }));
  // Retention runs beside the engine: it only drops entries a snapshot already covers.
  const retention = { maxAgeMs: 7 * 24 * 3_600_000, maxBytes: 1 << 30, everyMs: 3_600_000, ...o.retention };
  const retentionTimer = setInterval(() => {
    store.applyRetention({ maxAgeMs: retention.maxAgeMs, maxBytes: retention.maxBytes }, clock.now())
      .then((r) => r.removedEntries && log.info({ ...r }, 'log retention applied'))
      .catch((e: Error) => log.warn({ err: e.message }, 'log retention failed'));
  }, retention.everyMs);
  retentionTimer.unref();
  const plegStats = createPlegStats();
  subs.push(engine.attach(pleg$({ runtime: criRuntimeView(cri, { rootDir: o.rootDir }), clock, stats: plegStats }), { name: 'pleg' }));
  const health = cfg.healthzPort > 0
    ? serveHealth({ host: cfg.healthzBindAddress, port: cfg.healthzPort, pleg: plegStats, logStatus: () => engine.logStatus, onError: (e) => log.warn({ err: e.message }, 'health endpoint not served') })
    : undefined;
  const metrics = agentMetrics({ entries$: engine.entries$, state: () => engine.state(), pleg: plegStats, logStatus: () => engine.logStatus, effectsPending: () => engine.effectsPending });
  subs.push(engine.attach(prober$({ targets$: engine.entries$.pipe(startWith(null), map(() => probeTargets(engine.state().pods)), distinctTargets()), handlers: proberHandlers(cri), clock, onResult: metrics.countProbe }), { name: 'prober' }));
  subs.push(engine.attach(csiPlugins$({ dir: pluginsRegistryDir(o.rootDir), registry: csiRegistry, nodeName: o.nodeName, clock, clients, nodeUid: () => nodeUid }), { name: 'csi-plugins' }));
  subs.push(engine.attach(volumeRefresh$({ targets$: engine.entries$.pipe(startWith(null), auditTime(500), map(() => volumeRefreshTargets(engine.state().pods))), deps: volumeDeps, syncFrequencyMs: parseDurationMs(cfg.syncFrequency) ?? 60_000 }), { name: 'volume-refresh' }));
  subs.push(engine.attach(evictionSignalsFor(), { name: 'eviction' }));
  // Upstream stubs image GC out when the high threshold is 100 % and there is no maximum age.
  if (cfg.imageGCHighThresholdPercent < 100 || (parseDurationMs(cfg.imageMaximumGCAge) ?? 0) > 0) subs.push(engine.attach(imageGCFor(), { name: 'image-gc' }));
  subs.push(engine.attach(containerLogRotation$({
    cri, now: () => clock.now(), maxBytes: parseQuantity(cfg.containerLogMaxSize) ?? 10 << 20, maxFiles: cfg.containerLogMaxFiles,
    workers: cfg.containerLogMaxWorkers, intervalMs: parseDurationMs(cfg.containerLogMonitorInterval) ?? 10_000,
  }), { name: 'container-logs' }));
  if (cfg.staticPodPath) {
    subs.push(engine.attach(staticPods$({ dir: cfg.staticPodPath, nodeName: o.nodeName, clock, resyncMs: parseDurationMs(cfg.fileCheckFrequency) }).pipe(withholdHeaders()), { name: 'static-pods' }));
  }
  if (clients) {
    subs.push(engine.attach(apiPods$({ clients, nodeName: o.nodeName, clock }).pipe(withholdHeaders()), { name: 'apiserver' }));
    subs.push(engine.attach(apiServices$({ watch: () => serviceListWatch(clients), clock }), { name: 'services' }));
    subs.push(engine.attach(heartbeat$({
      clients, nodeName: o.nodeName, clock,
      leaseDurationSeconds: cfg.nodeLeaseDurationSeconds,
      // Conditions that change are patched at once (NodeStatusChanged); otherwise re-posted this often, as upstream.
      reportEveryMs: parseDurationMs(cfg.nodeStatusReportFrequency) ?? 300_000,
      nodeUid: () => nodeUid,
      // The node log's write health is posted outside the log (it cannot be recorded while blocked).
      reportNow$: logWritable$,
      reportStatus: async () => {
        const s = engine.state().node;
        if (s.registered && s.conditions.length) await patchNodeConditions(clients, statusSource, withLogCondition(s.conditions, engine.logStatus), clock.now());
      },
    }), { name: 'heartbeat', whileLogBlocked: 'run' }));
    subs.push(recordEvents(engine.entries$, clients, o.nodeName, cfg.eventRecordQPS, cfg.eventBurst, (e) => log.debug({ err: e.message }, 'event not recorded')));
  }
  // Last: awaiting it earlier would let the first entries pass before the log lines above subscribe.
  const kubeletApi = cfg.enableServer && cfg.port > 0 ? await startKubeletApi() : undefined;
  log.info({ nodeName: o.nodeName, rootDir: o.rootDir, standalone: !clients, runtime: cfg.containerRuntimeEndpoint, staticPodPath: cfg.staticPodPath || undefined }, 'ledgerlet started');

  /** The eviction manager's signals against evictionHard (every 10 s, as upstream's housekeeping). */
  function evictionSignalsFor() {
    const { thresholds, errors } = parseThresholds(cfg.evictionHard);
    for (const err of errors) log.warn({ err }, 'eviction threshold ignored');
    return evictionSignals$({
      thresholds,
      transitionMs: parseDurationMs(cfg.evictionPressureTransitionPeriod) ?? 300_000,
      clock,
      pressureInForce: () => (engine.state().node.pressure ?? []).length > 0,
      readSignals,
      podUsage: async () => {
        const usage: PodUsage = {};
        for (const c of await cri.listContainerStats()) {
          const uid = c.labels['io.kubernetes.pod.uid'];
          if (!uid) continue;
          const u = (usage[uid] ??= { memoryBytes: 0, diskBytes: 0 });
          u.memoryBytes += c.memory?.workingSetBytes ?? 0;
          u.diskBytes += c.writableLayer?.usedBytes ?? 0;
        }
        return usage;
      },
    });
  }

  /** Upstream's shutdown manager is off with a zero grace period; otherwise the announcement goes in the log. */
  async function announceShutdown(trigger: string): Promise<{ seq: number } | { error: string }> {
    const groups = shutdownGroups(cfg);
    if (groups.length === 0) return { error: 'graceful node shutdown is off: shutdownGracePeriod is 0 and shutdownGracePeriodByPodPriority is empty' };
    if (engine.state().pods.shutdown) return { error: `a node shutdown is already in progress since ${engine.state().pods.shutdown?.at}` };
    const e = await engine.submit({ type: 'NodeShutdownRequested', source: NODE_SHUTDOWN_SOURCE, data: { trigger, groups } });
    log.warn({ trigger, groups }, 'node shutdown announced: pods are being stopped');
    return { seq: e.seq };
  }

  /** The node's signals as the eviction manager reads them; image GC takes imagefs from here too. */
  async function readSignals() {
    imageFsPath ??= (await cri.imageFsInfo().catch(() => undefined))?.imageFilesystems[0]?.mountpoint || undefined;
    return readNodeSignals({ rootDir: o.rootDir, imageFsPath });
  }

  /** Image garbage collection every 5 min (upstream's ImageGCPeriod). */
  function imageGCFor() {
    return imageGC$({
      clock,
      policy: {
        highThresholdPercent: cfg.imageGCHighThresholdPercent,
        lowThresholdPercent: cfg.imageGCLowThresholdPercent,
        minimumAgeMs: parseDurationMs(cfg.imageMinimumGCAge) ?? 120_000,
        maximumAgeMs: parseDurationMs(cfg.imageMaximumGCAge) ?? 0,
      },
      listImages: async () => (await cri.listImages()).map((i) => ({ id: i.id, repoTags: i.repoTags, size: Number(i.size ?? 0), pinned: i.pinned })),
      imagesInUse: async () => (await cri.listContainers()).map((c) => c.imageId || c.imageRef).filter(Boolean),
      sandboxImage: () => sandboxImageId(cri).catch(() => undefined),
      imageFs: async () => {
        const fs = (await readSignals())['imagefs.available'];
        return fs && { availableBytes: fs.available, capacityBytes: fs.capacity };
      },
    });
  }

  /** The kubelet API on address:port (and readOnlyPort when set); if it cannot be served the agent runs on without it. */
  async function startKubeletApi() {
    try {
      const tls = await servingTls({
        tlsCertFile: cfg.tlsCertFile, tlsPrivateKeyFile: cfg.tlsPrivateKeyFile, clientCAFile: cfg.authentication.x509.clientCAFile,
        rootDir: o.rootDir, nodeName: o.nodeName, nodeIP: statusSource.facts.nodeIP, now: clock.now(),
        tlsMinVersion: cfg.tlsMinVersion, tlsCipherSuites: cfg.tlsCipherSuites,
      });
      for (const cipher of insecureCipherSuites(cfg.tlsCipherSuites)) log.warn({ cipher }, 'use of insecure cipher detected');
      const auth = new KubeletAuth({ authentication: cfg.authentication, authorization: cfg.authorization, clients, nodeName: o.nodeName, now: () => clock.now().getTime() });
      const api: KubeletServerOptions = {
        host: cfg.address, port: cfg.port, tls, auth, state: () => engine.state(), now: () => clock.now().getTime(),
        containerLogPath: async (id) => (await cri.containerStatus(id)).logPath,
        streaming: cri,
        // Stats are reads for operators: the engine never sees them.
        stats: new StatsProvider({ cri, nodeName: o.nodeName, rootDir: o.rootDir, podLogsDir: cfg.podLogsDir, pods: () => engine.state().pods, now: () => clock.now().getTime() }),
        containerIds: () => runningContainers(engine.state().pods),
        metrics,
        onStatsError: (e) => log.debug({ err: e.message }, 'stats not read'),
        ledger: storeSource(store, 'agent', false),
        streamIdleTimeoutMs: parseDurationMs(cfg.streamingConnectionIdleTimeout) ?? 4 * 3_600_000,
        onListening: (address) => log.info({ address, certificate: tls.source, authorizationMode: cfg.authorization.mode, tlsMinVersion: tls.minVersion }, 'kubelet API serving'),
        onError: (e) => log.error({ err: e.message, address: `${cfg.address}:${cfg.port}` }, 'kubelet API not served (kubectl logs will not work)'),
      };
      const servers = [serveKubeletApi(api)];
      if (cfg.readOnlyPort > 0) {
        servers.push(serveReadOnlyKubeletApi({
          host: cfg.address, port: cfg.readOnlyPort, api,
          onListening: (address) => log.warn({ address }, 'kubelet read-only port serving without authentication (readOnlyPort)'),
          onError: (e) => log.error({ err: e.message, address: `${cfg.address}:${cfg.readOnlyPort}` }, 'kubelet read-only port not served'),
        }));
      }
      return { close: async () => void (await Promise.all(servers.map((s) => s.close()))) };
    } catch (e) {
      log.error({ err: (e as Error).message }, 'kubelet API not served (kubectl logs will not work)');
      return undefined;
    }
  }

  return {
    engine,
    store,
    halted,
    shutdown: announceShutdown,
    async stop() {
      clearInterval(retentionTimer);
      await health?.close();
      await kubeletApi?.close();
      metrics.close();
      for (const s of subs) s.unsubscribe();
      await engine.stop({ timeoutMs: 5000 });
      await localApi.close();
      await store.close();
      await tightenLogFiles(logDir(o.rootDir)); // files written while closing
      logGuard.close();
      cri.close();
      csiRegistry.closeAll();
      log.info({}, 'ledgerlet stopped; pods keep running');
    },
  };
}
