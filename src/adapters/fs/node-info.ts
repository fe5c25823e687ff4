// Machine facts the Node object reports: read from /proc, /etc, statfs and the OS, each parsed
// and validated by a pure function so the parsers are testable on sample text.
import { readFile, statfs } from 'node:fs/promises';
import * as os from 'node:os';

export interface NodeFacts {
  hostname: string;
  /** Lower-cased, as the kubelet reports kubernetes.io/hostname. */
  nodeIP: string | undefined;
  cpuCount: number;
  memoryBytes: number;
  ephemeralStorageBytes: number;
  kernelVersion: string;
  osImage: string;
  /** Go's GOOS value. */
  operatingSystem: 'linux';
  /** Go's GOARCH value (amd64, arm64...). */
  architecture: string;
  bootID: string;
  machineID: string | undefined;
  systemUUID: string | undefined;
}

export interface NodeInfoOptions {
  /** Directory whose filesystem is the node's ephemeral storage (the agent's root dir). */
  storageDir: string;
  nodeIPOverride?: string;
  hostnameOverride?: string;
  /** Roots for tests / containers; default /proc, /etc, /sys. */
  procRoot?: string;
  etcRoot?: string;
  sysRoot?: string;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; problem: string };
const ok = <T>(value: T): Parsed<T> => ({ ok: true, value });
const bad = <T>(problem: string): Parsed<T> => ({ ok: false, problem });

/** MemTotal from /proc/meminfo, in bytes. */
export function parseMeminfo(text: string): Parsed<{ memTotalBytes: number }> {
  const m = /^MemTotal:\s+(\d+)\s*(kB)?\s*$/m.exec(text);
  if (!m) return bad('/proc/meminfo has no "MemTotal: <n> kB" line');
  const kb = Number(m[1]);
  if (!Number.isSafeInteger(kb) || kb <= 0) return bad(`/proc/meminfo MemTotal is not a positive number: ${m[1]}`);
  return ok({ memTotalBytes: m[2] ? kb * 1024 : kb });
}

/** Key/value pairs of an os-release file (shell-quoted values). */
export function parseOsRelease(text: string): Parsed<{ prettyName: string; id?: string; versionId?: string }> {
  const vars: Record<string, string> = {};
  for (const raw of text.split('\n')) {
    const line = raw.trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^([A-Z0-9_]+)=(.*)$/.exec(line);
    if (!m) continue;
    let v = m[2]!.trim();
    if ((v.startsWith('"') && v.endsWith('"') && v.length >= 2) || (v.startsWith("'") && v.endsWith("'") && v.length >= 2)) {
      v = v.slice(1, -1).replace(/\\(["'`$\\])/g, '$1');
    }
    vars[m[1]!] = v;
  }
  const prettyName = vars['PRETTY_NAME'] ?? (vars['NAME'] ? `${vars['NAME']}${vars['VERSION'] ? ' ' + vars['VERSION'] : ''}` : undefined);
  if (!prettyName) return bad('os-release has neither PRETTY_NAME nor NAME');
  return ok({ prettyName, ...(vars['ID'] ? { id: vars['ID'] } : {}), ...(vars['VERSION_ID'] ? { versionId: vars['VERSION_ID'] } : {}) });
}

const UUID_RE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** /proc/sys/kernel/random/boot_id: a UUID. */
export function parseBootId(text: string): Parsed<string> {
  const v = text.trim();
  return UUID_RE.test(v) ? ok(v.toLowerCase()) : bad(`boot_id is not a UUID: ${JSON.stringify(v.slice(0, 64))}`);
}

/** /etc/machine-id: 32 lower-case hex characters. */
export function parseMachineId(text: string): Parsed<string> {
  const v = text.trim();
  return /^[0-9a-f]{32}$/i.test(v) ? ok(v.toLowerCase()) : bad(`machine-id is not 32 hex digits: ${JSON.stringify(v.slice(0, 64))}`);
}

/** /sys/class/dmi/id/product_uuid (root-only on most machines). */
export function parseSystemUUID(text: string): Parsed<string> {
  const v = text.trim();
  return UUID_RE.test(v) ? ok(v) : bad(`product_uuid is not a UUID: ${JSON.stringify(v.slice(0, 64))}`);
}

/** Node's process.arch → Go's GOARCH, which is what kubernetes.io/arch carries. */
export function goArch(nodeArch: string): string {
  const map: Record<string, string> = {
    x64: 'amd64',
    arm64: 'arm64',
    arm: 'arm',
    ia32: '386',
    ppc64: 'ppc64le',
    s390x: 's390x',
    riscv64: 'riscv64',
    loong64: 'loong64',
    mips: 'mips',
    mipsel: 'mipsle',
  };
  return map[nodeArch] ?? nodeArch;
}

const IPV4_RE = /^(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)(\.(25[0-5]|2[0-4]\d|1\d\d|[1-9]?\d)){3}$/;

export function isIPv4(s: string): boolean {
  return IPV4_RE.test(s);
}

/**
 * The node's IP: the override if given (validated), else the first non-internal IPv4 address
 * in interface order (skipping container bridges' usual names last).
 */
export function pickNodeIP(
  interfaces: NodeJS.Dict<os.NetworkInterfaceInfo[]>,
  override?: string,
): Parsed<string | undefined> {
  if (override !== undefined && override !== '') {
    if (isIPv4(override) || /^[0-9a-f:]+$/i.test(override)) return ok(override);
    return bad(`--node-ip is not an IP address: ${override}`);
  }
  const candidates: { name: string; address: string }[] = [];
  for (const [name, addrs] of Object.entries(interfaces)) {
    for (const a of addrs ?? []) {
      if (a.family === 'IPv4' && !a.internal && !a.address.startsWith('169.254.')) candidates.push({ name, address: a.address });
    }
  }
  const virtual = /^(cni|cbr|docker|veth|flannel|cali|virbr|br-)/;
  const preferred = candidates.find((c) => !virtual.test(c.name)) ?? candidates[0];
  return ok(preferred?.address);
}

/**
 * A byte count in the canonical BinarySI form the API server would print for it
 * (resource.NewQuantity(n, BinarySI)): the largest power-of-1024 suffix that divides it exactly.
 */
export function formatBinaryQuantity(bytes: number | bigint): string {
  let n = BigInt(bytes);
  if (n < 0n) throw new RangeError('negative quantity');
  if (n === 0n) return '0';
  const suffixes = ['', 'Ki', 'Mi', 'Gi', 'Ti', 'Pi', 'Ei'];
  let i = 0;
  while (i < suffixes.length - 1 && n % 1024n === 0n) {
    n /= 1024n;
    i++;
  }
  return `${n}${suffixes[i]}`;
}

async function readText(path: string): Promise<Parsed<string>> {
  try {
    return ok(await readFile(path, 'utf8'));
  } catch (err) {
    return bad(`cannot read ${path}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

function need<T>(p: Parsed<T>, problems: string[]): T | undefined {
  if (p.ok) return p.value;
  problems.push(p.problem);
  return undefined;
}

export class NodeInfoError extends Error {
  override readonly name = 'NodeInfoError';
  constructor(readonly problems: string[]) {
    super(`cannot read node facts: ${problems.join('; ')}`);
  }
}

/**
 * Read every fact; required ones missing → NodeInfoError listing all problems. Optional ones
 * (machine id, system uuid) missing → undefined plus an entry in `warnings`.
 */
export async function readNodeFacts(opts: NodeInfoOptions): Promise<{ facts: NodeFacts; warnings: string[] }> {
  const proc = opts.procRoot ?? '/proc';
  const etc = opts.etcRoot ?? '/etc';
  const sys = opts.sysRoot ?? '/sys';
  const problems: string[] = [];
  const warnings: string[] = [];

  const meminfoText = need(await readText(`${proc}/meminfo`), problems);
  const mem = meminfoText !== undefined ? need(parseMeminfo(meminfoText), problems) : undefined;

  const bootText = need(await readText(`${proc}/sys/kernel/random/boot_id`), problems);
  const bootID = bootText !== undefined ? need(parseBootId(bootText), problems) : undefined;

  let osRelease = await readText(`${etc}/os-release`);
  if (!osRelease.ok) osRelease = await readText('/usr/lib/os-release');
  const osText = need(osRelease, problems);
  const osImage = osText !== undefined ? need(parseOsRelease(osText), problems)?.prettyName : undefined;

  const optional = async (path: string, parse: (text: string) => Parsed<string>): Promise<string | undefined> => {
    const text = await readText(path);
    if (!text.ok) {
      warnings.push(text.problem);
      return undefined;
    }
    return need(parse(text.value), warnings);
  };
  const machineID = await optional(`${etc}/machine-id`, parseMachineId);
  const systemUUID = await optional(`${sys}/class/dmi/id/product_uuid`, parseSystemUUID);

  let storageBytes: number | undefined;
  try {
    const st = await statfs(opts.storageDir);
    storageBytes = st.blocks * st.bsize;
    if (!Number.isSafeInteger(storageBytes) || storageBytes <= 0) {
      problems.push(`statfs ${opts.storageDir} gave an unusable size ${storageBytes}`);
      storageBytes = undefined;
    }
  } catch (err) {
    problems.push(`statfs ${opts.storageDir}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }

  const nodeIP = need(pickNodeIP(os.networkInterfaces(), opts.nodeIPOverride), problems);
  const cpuCount = typeof os.availableParallelism === 'function' ? os.availableParallelism() : os.cpus().length;
  const hostname = (opts.hostnameOverride && opts.hostnameOverride.trim() !== '' ? opts.hostnameOverride : os.hostname()).trim().toLowerCase();
  if (hostname === '') problems.push('hostname is empty');

  if (problems.length > 0 || mem === undefined || bootID === undefined || osImage === undefined || storageBytes === undefined) {
    throw new NodeInfoError(problems.length > 0 ? problems : ['incomplete node facts']);
  }
  return {
    facts: {
      hostname,
      nodeIP,
      cpuCount,
      memoryBytes: mem.memTotalBytes,
      ephemeralStorageBytes: storageBytes,
      kernelVersion: os.release(),
      osImage,
      operatingSystem: 'linux',
      architecture: goArch(process.arch),
      bootID,
      machineID,
      systemUUID,
    },
    warnings,
  };
}
