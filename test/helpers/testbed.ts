// The testbed's coordinates for tests: the TESTBED_* variables of `scripts/testbed env`, taken
// from the environment when present (scripts/test evals them), otherwise by running
// `scripts/testbed env` and parsing its export lines. Plus small helpers to talk TLS to the
// testbed's kube-apiserver with the credentials of a kubeconfig.
import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { request } from 'node:https';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parse as parseYaml } from 'yaml';

export const repoRoot = join(dirname(fileURLToPath(import.meta.url)), '..', '..');

export interface Testbed {
  dir: string;
  adminKubeconfig: string;
  nodeKubeconfig: string;
  nodeName: string;
  nodeServingCert: string;
  nodeServingKey: string;
  caCert: string;
  apiserver: string;
  k8sVersion: string;
  criEndpoint: string;
  cniSubnet: string;
  registry: string;
  bin: string;
  images: { busybox: string; pause: string; agnhost: string };
}

/** Parses `export NAME='value'` lines as printed by `scripts/testbed env`. */
export function parseEnvExports(text: string): Record<string, string> {
  const out: Record<string, string> = {};
  for (const line of text.split('\n')) {
    const m = /^export ([A-Z_][A-Z0-9_]*)='([^']*)'$/.exec(line.trim());
    if (m && m[1] !== undefined && m[2] !== undefined) out[m[1]] = m[2];
  }
  return out;
}

let cached: Testbed | undefined;

export function testbed(): Testbed {
  if (cached) return cached;
  let vars: Record<string, string | undefined> = process.env;
  if (!process.env['TESTBED_ADMIN_KUBECONFIG']) {
    const text = execFileSync('bash', [join(repoRoot, 'scripts', 'testbed'), 'env'], { encoding: 'utf8' });
    vars = { ...parseEnvExports(text), ...process.env };
  }
  const need = (k: string): string => {
    const v = vars[k];
    if (!v) throw new Error(`${k} is not set: run scripts/testbed up, then eval "$(scripts/testbed env)"`);
    return v;
  };
  cached = {
    dir: need('TESTBED_DIR'),
    adminKubeconfig: need('TESTBED_ADMIN_KUBECONFIG'),
    nodeKubeconfig: need('TESTBED_NODE_KUBECONFIG'),
    nodeName: need('TESTBED_NODE_NAME'),
    nodeServingCert: need('TESTBED_NODE_SERVING_CERT'),
    nodeServingKey: need('TESTBED_NODE_SERVING_KEY'),
    caCert: need('TESTBED_CA_CERT'),
    apiserver: need('TESTBED_APISERVER'),
    k8sVersion: need('TESTBED_K8S_VERSION'),
    criEndpoint: need('TESTBED_CRI_ENDPOINT'),
    cniSubnet: need('TESTBED_CNI_SUBNET'),
    registry: need('TESTBED_REGISTRY'),
    bin: need('TESTBED_BIN'),
    images: {
      busybox: need('TESTBED_IMAGE_BUSYBOX'),
      pause: need('TESTBED_IMAGE_PAUSE'),
      agnhost: need('TESTBED_IMAGE_AGNHOST'),
    },
  };
  return cached;
}

/** The Kubernetes version pinned in testbed/k8s/go.mod. */
export function pinnedK8sVersion(): string {
  const gomod = readFileSync(join(repoRoot, 'testbed', 'k8s', 'go.mod'), 'utf8');
  const m = /^\s*k8s\.io\/kubernetes (v\d+\.\d+\.\d+)/m.exec(gomod);
  if (!m?.[1]) throw new Error('no k8s.io/kubernetes requirement in testbed/k8s/go.mod');
  return m[1];
}

export interface KubeTls {
  server: string;
  ca: Buffer;
  cert?: Buffer;
  key?: Buffer;
  user: string;
}

/** Server, CA and client certificate of a kubeconfig's current context (embedded data only). */
export function kubeconfigTls(path: string): KubeTls {
  const kc = parseYaml(readFileSync(path, 'utf8')) as {
    'current-context': string;
    contexts: { name: string; context: { cluster: string; user: string } }[];
    clusters: { name: string; cluster: { server: string; 'certificate-authority-data': string } }[];
    users: { name: string; user: { 'client-certificate-data'?: string; 'client-key-data'?: string } }[];
  };
  const ctx = kc.contexts.find((c) => c.name === kc['current-context'])?.context;
  if (!ctx) throw new Error(`${path}: no current context`);
  const cluster = kc.clusters.find((c) => c.name === ctx.cluster)?.cluster;
  const user = kc.users.find((u) => u.name === ctx.user)?.user;
  if (!cluster || !user) throw new Error(`${path}: context names a missing cluster or user`);
  const b = (s: string | undefined) => (s === undefined ? undefined : Buffer.from(s, 'base64'));
  const out: KubeTls = { server: cluster.server, ca: Buffer.from(cluster['certificate-authority-data'], 'base64'), user: ctx.user };
  const cert = b(user['client-certificate-data']);
  const key = b(user['client-key-data']);
  if (cert) out.cert = cert;
  if (key) out.key = key;
  return out;
}

export interface HttpResult {
  status: number;
  text: string;
  json<T = unknown>(): T;
}

/** One HTTPS request to the apiserver, verifying its certificate against `tls.ca`. */
export function apiRequest(
  tls: { server: string; ca?: Buffer; cert?: Buffer; key?: Buffer },
  method: string,
  path: string,
  body?: unknown,
  contentType = 'application/json',
): Promise<HttpResult> {
  const url = new URL(path, tls.server);
  const payload = body === undefined ? undefined : typeof body === 'string' ? body : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = request(
      url,
      {
        method,
        ...(tls.ca ? { ca: tls.ca } : {}),
        ...(tls.cert ? { cert: tls.cert } : {}),
        ...(tls.key ? { key: tls.key } : {}),
        rejectUnauthorized: true,
        headers: {
          accept: 'application/json',
          ...(payload !== undefined ? { 'content-type': contentType, 'content-length': Buffer.byteLength(payload) } : {}),
        },
      },
      (res) => {
        const chunks: Buffer[] = [];
        res.on('data', (c: Buffer) => chunks.push(c));
        res.on('end', () => {
          const text = Buffer.concat(chunks).toString('utf8');
          resolve({ status: res.statusCode ?? 0, text, json: <T>() => JSON.parse(text) as T });
        });
        res.on('error', reject);
      },
    );
    req.on('error', reject);
    if (payload !== undefined) req.write(payload);
    req.end();
  });
}
