// `kubectl ledgerlet`: the postmortem commands from anywhere kubectl works. It finds the pod's node
// (from the pod, or from the pod's last events once it is gone, or --node), asks that node's
// kubelet API through the API server (nodes/NODE/proxy/ledger/..., kubelet-ledger.ts) and prints
// the answer, which the node renders with the same code as the local `ledgerlet` commands.
import { Command } from 'commander';
import { KubeConfig } from '@kubernetes/client-node';
import * as http from 'node:http';
import * as https from 'node:https';
import { writeFile } from 'node:fs/promises';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';

interface GlobalFlags {
  kubeconfig?: string;
  context?: string;
  namespace?: string;
  node?: string;
}

class PluginError extends Error {}

function kubeConfig(g: GlobalFlags): KubeConfig {
  const kc = new KubeConfig();
  try {
    if (g.kubeconfig) kc.loadFromFile(g.kubeconfig);
    else kc.loadFromDefault();
  } catch (e) {
    throw new PluginError(`cannot load the kubeconfig${g.kubeconfig ? ` ${g.kubeconfig}` : ''}: ${(e as Error).message}`);
  }
  if (g.context) {
    if (!kc.getContextObject(g.context)) throw new PluginError(`no context ${g.context} in the kubeconfig`);
    kc.setCurrentContext(g.context);
  }
  if (!kc.getCurrentCluster()) throw new PluginError('no cluster in the kubeconfig (use --kubeconfig or --context)');
  return kc;
}

function namespaceOf(kc: KubeConfig, g: GlobalFlags): string {
  return g.namespace ?? kc.getContextObject(kc.getCurrentContext())?.namespace ?? 'default';
}

/** GET through the API server; streams a 200 body to `sink`, any other status becomes a PluginError with the server's text. */
async function get(kc: KubeConfig, path: string, sink?: (chunk: Buffer) => void): Promise<{ status: number; body: string }> {
  const url = new URL(kc.getCurrentCluster()!.server.replace(/\/$/, '') + path);
  const opts: https.RequestOptions = { method: 'GET' };
  await kc.applyToHTTPSOptions(opts);
  const mod = url.protocol === 'http:' ? http : https;
  return new Promise((resolve, reject) => {
    const req = mod.request(url, opts, (res) => {
      const status = res.statusCode ?? 0;
      const chunks: Buffer[] = [];
      res.on('data', (c: Buffer) => (status === 200 && sink ? sink(c) : chunks.push(c)));
      res.on('error', reject);
      res.on('end', () => resolve({ status, body: Buffer.concat(chunks).toString('utf8') }));
    });
    req.on('error', (e) => reject(new PluginError(`cannot reach the API server ${url.origin}: ${e.message}`)));
    req.end();
  });
}

/** The API server's Status message, or the body as it came (a kubelet answer is plain text). */
function message(body: string): string {
  const Status = t.type({ message: t.string });
  try {
    const s = Status.decode(JSON.parse(body));
    if (!isLeft(s)) return s.right.message;
  } catch {
    // not JSON: the node's own text
  }
  return body.trim();
}

const PodNode = t.type({ spec: t.partial({ nodeName: t.string }) });
const EventList = t.type({
  items: t.array(t.partial({ lastTimestamp: t.union([t.string, t.null]), eventTime: t.union([t.string, t.null]), source: t.partial({ host: t.string }), reportingInstance: t.string })),
});

/** NAME or pod/NAME. */
function podName(arg: string): string {
  const m = /^(?:pods?\/)?([^/]+)$/.exec(arg);
  if (!m) throw new PluginError(`cannot read ${JSON.stringify(arg)} as a pod: use NAME or pod/NAME (and -n NAMESPACE)`);
  return m[1];
}

/** The node a pod runs (or last ran) on. */
async function nodeOf(kc: KubeConfig, ns: string, name: string, g: GlobalFlags): Promise<string> {
  if (g.node) return g.node;
  const pod = await get(kc, `/api/v1/namespaces/${encodeURIComponent(ns)}/pods/${encodeURIComponent(name)}`);
  if (pod.status === 200) {
    const p = PodNode.decode(JSON.parse(pod.body));
    if (!isLeft(p) && p.right.spec.nodeName) return p.right.spec.nodeName;
    throw new PluginError(`pod ${ns}/${name} is not bound to a node`);
  }
  if (pod.status !== 404) throw new PluginError(`reading pod ${ns}/${name}: ${message(pod.body)}`);
  // Gone: the kubelet's events about it name the node (source.host), newest last.
  const sel = encodeURIComponent(`involvedObject.kind=Pod,involvedObject.name=${name}`);
  const ev = await get(kc, `/api/v1/namespaces/${encodeURIComponent(ns)}/events?fieldSelector=${sel}`);
  if (ev.status !== 200) throw new PluginError(`pod ${ns}/${name} is gone and its events cannot be read: ${message(ev.body)}`);
  const list = EventList.decode(JSON.parse(ev.body));
  const hosts = isLeft(list)
    ? []
    : list.right.items
        .map((e) => ({ at: e.lastTimestamp ?? e.eventTime ?? '', host: e.source?.host ?? e.reportingInstance }))
        .filter((e): e is { at: string; host: string } => !!e.host)
        .sort((a, b) => a.at.localeCompare(b.at));
  const last = hosts.at(-1);
  if (!last) throw new PluginError(`pod ${ns}/${name} is gone and no event names its node: give --node NODE`);
  return last.host;
}

/** Asks the node and writes its answer to stdout (or returns it). */
async function ask(kc: KubeConfig, node: string, ledgerPath: string, query: Record<string, string | boolean | undefined>, toStdout = true): Promise<string> {
  const q = new URLSearchParams();
  for (const [k, v] of Object.entries(query)) if (v !== undefined && v !== false) q.set(k, String(v));
  const qs = q.toString();
  const path = `/api/v1/nodes/${encodeURIComponent(node)}/proxy/ledger/${ledgerPath}${qs ? `?${qs}` : ''}`;
  const chunks: Buffer[] = [];
  const r = await get(kc, path, (c) => (toStdout ? process.stdout.write(c) : chunks.push(c)));
  if (r.status !== 200) throw new PluginError(`node ${node} (${r.status}): ${message(r.body)}`);
  return Buffer.concat(chunks).toString('utf8');
}

export function buildPlugin(): Command {
  const program = new Command('kubectl-ledgerlet')
    .description("ask a ledgerlet node's log through the API server: why, history, replay, diff, export")
    .option('--kubeconfig <file>', 'kubeconfig file (default: $KUBECONFIG or ~/.kube/config)')
    .option('--context <name>', 'kubeconfig context')
    .option('-n, --namespace <ns>', "the pod's namespace (default: the context's, else default)")
    .option('--node <name>', 'the node to ask (default: the pod\'s node, or the one its last events name)')
    .showHelpAfterError();
  const g = () => program.opts<GlobalFlags>();
  const nodeFlag = () => {
    if (!g().node) throw new PluginError('give --node NODE (no pod names the node for this command)');
    return g().node!;
  };
  program
    .command('why')
    .argument('<pod>', 'NAME or pod/NAME')
    .option('--container <name>', 'only decisions about this container')
    .option('--all', 'every decision, pod status reports included')
    .option('--json', 'explanations as JSON lines')
    .action(async (arg: string, f: { container?: string; all?: boolean; json?: boolean }) => {
      const kc = kubeConfig(g());
      const ns = namespaceOf(kc, g());
      const name = podName(arg);
      const node = await nodeOf(kc, ns, name, g());
      await ask(kc, node, `why/${encodeURIComponent(ns)}/${encodeURIComponent(name)}`, { container: f.container, all: f.all, json: f.json });
    });
  program
    .command('history')
    .argument('[pod]', 'NAME or pod/NAME (default: the whole node, with --node)')
    .option('--container <name>').option('--since <moment>').option('--until <moment>').option('--type <types>', 'entry types, comma-separated').option('--json')
    .action(async (arg: string | undefined, f: { container?: string; since?: string; until?: string; type?: string; json?: boolean }) => {
      const kc = kubeConfig(g());
      const ns = namespaceOf(kc, g());
      const name = arg ? podName(arg) : undefined;
      const node = name ? await nodeOf(kc, ns, name, g()) : nodeFlag();
      await ask(kc, node, name ? `history/${encodeURIComponent(ns)}/${encodeURIComponent(name)}` : 'history', { container: f.container, since: f.since, until: f.until, type: f.type, json: f.json });
    });
  program
    .command('replay')
    .requiredOption('--at <moment>', '#SEQ, an RFC 3339 time or a relative time (-10m)')
    .option('--pod <pod>', 'NAME or pod/NAME: only this pod (and its node)')
    .option('--json')
    .action(async (f: { at: string; pod?: string; json?: boolean }) => {
      const kc = kubeConfig(g());
      const ns = namespaceOf(kc, g());
      const name = f.pod ? podName(f.pod) : undefined;
      const node = name ? await nodeOf(kc, ns, name, g()) : nodeFlag();
      await ask(kc, node, 'replay', { at: f.at, pod: name ? `${ns}/${name}` : undefined, json: f.json });
    });
  program
    .command('diff')
    .argument('<from>').argument('<to>')
    .option('--pod <pod>').option('--json')
    .action(async (from: string, to: string, f: { pod?: string; json?: boolean }) => {
      const kc = kubeConfig(g());
      const ns = namespaceOf(kc, g());
      const name = f.pod ? podName(f.pod) : undefined;
      const node = name ? await nodeOf(kc, ns, name, g()) : nodeFlag();
      await ask(kc, node, 'diff', { from, to, pod: name ? `${ns}/${name}` : undefined, json: f.json });
    });
  program
    .command('export')
    .option('--html <file>', 'write the timeline page here')
    .option('--jsonl', 'the entries as JSON lines on stdout (one page; see docs/postmortem.md)')
    .option('--pod <pod>').option('--since <time>').option('--until <time>')
    .action(async (f: { html?: string; jsonl?: boolean; pod?: string; since?: string; until?: string }) => {
      if (!f.html === !f.jsonl) throw new PluginError('give one of --html FILE or --jsonl');
      const kc = kubeConfig(g());
      const ns = namespaceOf(kc, g());
      const name = f.pod ? podName(f.pod) : undefined;
      const node = name ? await nodeOf(kc, ns, name, g()) : nodeFlag();
      const query = { format: f.html ? 'html' : 'jsonl', pod: name ? `${ns}/${name}` : undefined, since: f.since, until: f.until };
      if (f.jsonl) return void (await ask(kc, node, 'export', query));
      const html = await ask(kc, node, 'export', query, false);
      await writeFile(f.html!, html);
      console.log(`wrote ${f.html} (${Buffer.byteLength(html)} bytes, from node ${node})`);
    });
  return program;
}

export async function main(argv: string[]): Promise<number> {
  try {
    await buildPlugin().parseAsync(argv);
    return 0;
  } catch (e) {
    if (e instanceof PluginError) {
      console.error(`kubectl ledgerlet: ${e.message}`);
      return 1;
    }
    throw e;
  }
}
