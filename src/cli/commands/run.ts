// `ledgerlet run`: the node agent, with the upstream kubelet's flags and --config file.
import { readFile } from 'node:fs/promises';
import { hostname } from 'node:os';
import type { Command } from 'commander';
import { isLeft } from 'fp-ts/lib/Either.js';
import { startAgent } from '../../agent/agent.ts';
import { agentLogger, isLogFormat, LOG_FORMATS } from '../../agent/logger.ts';
import { parseDurationMs } from '../../model/duration.ts';
import { settingsWithoutEffect, type ConfigWarning } from '../../model/kubelet-config-ignored.ts';
import { kubeletConfigDefaults, parseKubeletConfig, parseTaintsFlag, type KubeletConfiguration } from '../../model/kubelet-config.ts';

interface RunFlags {
  config?: string;
  kubeconfig?: string;
  hostnameOverride?: string;
  nodeIp?: string;
  containerRuntimeEndpoint?: string;
  rootDir: string;
  podManifestPath?: string;
  logLevel: string;
  logFormat: string;
  logRetention: string;
  logRetentionBytes: string;
  logWriteTimeout: string;
  address?: string;
  port?: string;
  healthzPort?: string;
  registerWithTaints?: string;
  tlsCertFile?: string;
  tlsPrivateKeyFile?: string;
  clientCaFile?: string;
  anonymousAuth?: string;
  authorizationMode?: string;
}

type ConfigFlags = Pick<RunFlags, 'config' | 'containerRuntimeEndpoint' | 'podManifestPath' | 'address' | 'port' | 'healthzPort' | 'registerWithTaints' | 'tlsCertFile' | 'tlsPrivateKeyFile' | 'clientCaFile' | 'anonymousAuth' | 'authorizationMode'>;

/** The effective configuration; `warn` hears of each setting the file sets that has no effect. */
export async function loadConfig(flags: ConfigFlags, warn: (w: ConfigWarning) => void = () => undefined): Promise<KubeletConfiguration> {
  let cfg = kubeletConfigDefaults;
  if (flags.config) {
    const text = await readFile(flags.config, 'utf8').catch((e: Error) => {
      throw new Error(`--config ${flags.config}: ${e.message}`);
    });
    const parsed = parseKubeletConfig(text);
    if (isLeft(parsed)) throw new Error(`--config ${flags.config}: ${parsed.left.join('; ')}`);
    cfg = parsed.right;
    settingsWithoutEffect(text).forEach(warn);
  }
  // Flags override the file, as upstream.
  const port = flags.port === undefined ? undefined : Number(flags.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port < 65536)) throw new Error(`--port ${flags.port}: not a port number`);
  const taints = flags.registerWithTaints === undefined ? undefined : parseTaintsFlag(flags.registerWithTaints);
  if (taints && isLeft(taints)) throw new Error(`--register-with-taints: ${taints.left}`);
  const healthzPort = flags.healthzPort === undefined ? undefined : Number(flags.healthzPort);
  if (healthzPort !== undefined && !(Number.isInteger(healthzPort) && healthzPort >= 0 && healthzPort < 65536)) throw new Error(`--healthz-port ${flags.healthzPort}: not a port number`);
  if (flags.anonymousAuth !== undefined && !['true', 'false'].includes(flags.anonymousAuth)) throw new Error(`--anonymous-auth ${flags.anonymousAuth}: expected true or false`);
  if (flags.authorizationMode !== undefined && !['AlwaysAllow', 'Webhook'].includes(flags.authorizationMode)) throw new Error(`--authorization-mode ${flags.authorizationMode}: expected AlwaysAllow or Webhook`);
  return {
    ...cfg,
    ...(flags.containerRuntimeEndpoint ? { containerRuntimeEndpoint: flags.containerRuntimeEndpoint } : {}),
    ...(flags.podManifestPath ? { staticPodPath: flags.podManifestPath } : {}),
    ...(flags.address ? { address: flags.address } : {}),
    ...(port !== undefined ? { port } : {}),
    ...(healthzPort !== undefined ? { healthzPort } : {}),
    ...(taints ? { registerWithTaints: taints.right } : {}),
    ...(flags.tlsCertFile ? { tlsCertFile: flags.tlsCertFile } : {}),
    ...(flags.tlsPrivateKeyFile ? { tlsPrivateKeyFile: flags.tlsPrivateKeyFile } : {}),
    authentication: {
      ...cfg.authentication,
      x509: flags.clientCaFile ? { clientCAFile: flags.clientCaFile } : cfg.authentication.x509,
      anonymous: flags.anonymousAuth !== undefined ? { enabled: flags.anonymousAuth === 'true' } : cfg.authentication.anonymous,
    },
    authorization: { ...cfg.authorization, ...(flags.authorizationMode ? { mode: flags.authorizationMode as 'AlwaysAllow' | 'Webhook' } : {}) },
  };
}

export function register(program: Command): void {
  program
    .command('run')
    .description('run the node agent: register the node, run its pods through CRI, log everything')
    .option('--config <file>', 'KubeletConfiguration file (kubelet.config.k8s.io/v1beta1)')
    .option('--kubeconfig <file>', 'API server credentials; without it the agent runs standalone (static pods only)')
    .option('--hostname-override <name>', 'node name to use instead of the hostname')
    .option('--node-ip <ip>', 'IP address the node reports')
    .option('--container-runtime-endpoint <endpoint>', 'CRI endpoint (overrides containerRuntimeEndpoint)')
    .option('--root-dir <dir>', 'agent state directory (the node log lives in <dir>/log)', '/var/lib/kubelet')
    .option('--pod-manifest-path <path>', 'static pod manifests (overrides staticPodPath)')
    .option('--address <ip>', 'address the kubelet API listens on (overrides address)')
    .option('--port <port>', 'kubelet API port, 0 to disable (overrides port)')
    .option('--healthz-port <port>', 'local /healthz and /metrics port, 0 to disable (overrides healthzPort)')
    .option('--register-with-taints <taints>', 'taints the node registers with, key=value:Effect,... (overrides registerWithTaints)')
    .option('--tls-cert-file <file>', 'kubelet API serving certificate (default: self-signed in <root-dir>/pki)')
    .option('--tls-private-key-file <file>', 'key of --tls-cert-file')
    .option('--client-ca-file <file>', 'CA bundle that authenticates client certificates (authentication.x509.clientCAFile)')
    .option('--anonymous-auth <bool>', 'allow anonymous requests to the kubelet API (authentication.anonymous.enabled)')
    .option('--authorization-mode <mode>', 'AlwaysAllow or Webhook (authorization.mode)')
    .option('--log-level <level>', 'trace|debug|info|warn|error', 'info')
    .option('--log-format <format>', `the agent's own log on stdout: ${LOG_FORMATS.join('|')} (text: one line per record, for journald)`, 'json')
    .option('--log-retention <duration>', 'drop node-log entries older than this (behind a snapshot)', '168h')
    .option('--log-retention-bytes <bytes>', 'keep the node log under this size', String(1 << 30))
    .option('--log-write-timeout <duration>', 'exit non-zero when the node log cannot be written for this long (the supervisor restarts it)', '5m')
    .action(async (flags: RunFlags) => {
      if (!isLogFormat(flags.logFormat)) {
        process.stderr.write(`--log-format ${flags.logFormat}: expected ${LOG_FORMATS.join(' or ')}\n`);
        process.exitCode = 2;
        return;
      }
      const logger = agentLogger({ level: flags.logLevel, format: flags.logFormat });
      let config: KubeletConfiguration;
      try {
        config = await loadConfig(flags, ({ setting, why }) => logger.warn({ setting, why, config: flags.config }, `KubeletConfiguration setting ${setting} has no effect in ledgerlet`));
      } catch (e) {
        logger.error({ err: (e as Error).message }, 'invalid configuration');
        process.exitCode = 2;
        return;
      }
      const nodeName = (flags.hostnameOverride ?? hostname()).toLowerCase();
      const maxAgeMs = parseDurationMs(flags.logRetention);
      const maxBytes = Number(flags.logRetentionBytes);
      const maxLogWriteOutageMs = parseDurationMs(flags.logWriteTimeout);
      if (maxAgeMs === undefined || !Number.isFinite(maxBytes) || maxBytes <= 0 || maxLogWriteOutageMs === undefined || maxLogWriteOutageMs <= 0) {
        logger.error({ logRetention: flags.logRetention, logRetentionBytes: flags.logRetentionBytes, logWriteTimeout: flags.logWriteTimeout }, 'invalid --log-retention, --log-retention-bytes or --log-write-timeout');
        process.exitCode = 2;
        return;
      }
      let agent: Awaited<ReturnType<typeof startAgent>>;
      try {
        agent = await startAgent({ config, rootDir: flags.rootDir, nodeName, kubeconfig: flags.kubeconfig, nodeIP: flags.nodeIp, hostnameOverride: flags.hostnameOverride, logger, retention: { maxAgeMs, maxBytes }, maxLogWriteOutageMs });
      } catch (e) {
        logger.error({ err: (e as Error).message }, 'ledgerlet could not start');
        process.exitCode = 1;
        return;
      }
      await new Promise<void>((resolve) => {
        const stop = (signal: string) => {
          logger.info({ signal }, 'stopping');
          agent.stop().then(resolve, (e: Error) => {
            logger.error({ err: e.message }, 'stop failed');
            resolve();
          });
        };
        process.once('SIGTERM', () => stop('SIGTERM'));
        process.once('SIGINT', () => stop('SIGINT'));
        // Where no systemd-logind announces the shutdown: SIGUSR2 (or `ledgerlet shutdown`) does.
        process.on('SIGUSR2', () => void agent.shutdown('signal').then((r) => ('error' in r ? logger.warn({ err: r.error }, 'node shutdown not started') : undefined)));
        // A log that stays unwritable: exit non-zero so the supervisor restarts the agent (pods keep running).
        void agent.halted.then((err) => {
          logger.fatal({ err: err.message }, 'node log not writable for too long; exiting so the supervisor restarts ledgerlet');
          process.exitCode = 1;
          agent.stop().then(resolve, () => resolve());
        });
      });
    });
}
