// Resolves what an operator types for a pod (NS/NAME, NAME in default, or a uid) to the pods the
// log knows. A name can stand for several pods over time (deleted and recreated, new uid each).
import { PostmortemError, type LogSource, type PodSeen } from './source.ts';

export async function resolvePods(src: LogSource, arg: string): Promise<PodSeen[]> {
  const pods = await src.pods();
  const byUid = pods.filter((p) => p.ref.uid === arg);
  if (byUid.length) return byUid;
  const [ns, name] = arg.includes('/') ? arg.split('/', 2) : ['default', arg];
  const hits = pods.filter((p) => p.ref.namespace === ns && p.ref.name === name).sort((a, b) => a.firstSeq - b.firstSeq);
  if (!hits.length) {
    const known = [...new Set(pods.map((p) => `${p.ref.namespace}/${p.ref.name}`))].sort();
    throw new PostmortemError(`no pod ${ns}/${name} in the retained log${known.length ? ` (pods: ${known.slice(0, 20).join(', ')})` : ''}`);
  }
  return hits;
}

export const podLabel = (p: PodSeen['ref']) => `${p.namespace}/${p.name}`;
