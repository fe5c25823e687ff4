// `why`: every lifecycle decision about a pod, each with its cause chain walked back to the
// observations and said in words. Everything comes from recorded `cause` links and decision data.
import type { Entry, PodRef } from '../model/entry.ts';
import { cachedLookup, causeChain, type ChainStep } from './chain.ts';
import { containerOf, describe } from './describe.ts';
import { because } from './reasons.ts';
import type { LogBounds, LogSource, PodSeen } from './source.ts';

type D = Record<string, any>;

/** Decisions `why` explains by default (PodStatusChanged only when Ready turns False). */
export const LIFECYCLE_DECISIONS = new Set([
  'ContainerStartRequested', 'ContainerKilled', 'RestartBackedOff', 'PodSandboxRequested', 'PodSandboxKilled',
  'PodEvicted', 'PodObjectDeleteRequested', 'PodRuntimeCleanupRequested', 'OrphanPodKilled', 'PodVolumesSetUpRequested', 'PodVolumesTearDownRequested', 'MirrorPodCreateRequested', 'MirrorPodDeleteRequested',
]);

export interface Explanation {
  seq: number;
  at: string;
  pod: PodRef;
  container?: string;
  type: string;
  reason?: string;
  /** What was done: "killed container web (...)" */
  what: string;
  /** Why, in words, from the reason and the chain. */
  why: string;
  chain: ChainStep[];
  /** Entries the decision names as evidence (ProbeFailed entries of a liveness kill). */
  evidence: ChainStep[];
  /** What the effect reported back. */
  outcomes: Array<{ seq: number; at: string; text: string }>;
}

export interface WhyOptions {
  container?: string;
  /** Every decision, status reports included. */
  all?: boolean;
}

const readyOf = (e: Entry): string | undefined => ((e.data as D)?.status?.conditions as D[] | undefined)?.find((c) => c.type === 'Ready')?.status;

export async function explainPods(src: LogSource, pods: PodSeen[], opts: WhyOptions = {}): Promise<Explanation[]> {
  const bounds = await src.bounds();
  const out: Explanation[] = [];
  for (const p of pods) out.push(...(await explainPod(src, p, bounds, opts)));
  return out;
}

async function explainPod(src: LogSource, pod: PodSeen, bounds: LogBounds, opts: WhyOptions): Promise<Explanation[]> {
  const entries: Entry[] = [];
  for await (const r of src.entries({ pod: pod.ref.uid })) if (r.ok) entries.push(r.entry);
  const lookup = cachedLookup((seq) => src.entry(seq), entries);
  const outcomesOf = new Map<number, Entry[]>();
  for (const e of entries) if (e.kind === 'outcome' && e.cause !== undefined) outcomesOf.set(e.cause, [...(outcomesOf.get(e.cause) ?? []), e]);

  const out: Explanation[] = [];
  let wasReady: string | undefined;
  for (const e of entries) {
    if (e.kind !== 'decision') continue;
    let what: string | undefined;
    if (e.type === 'PodStatusChanged') {
      const ready = readyOf(e);
      const flippedUnready = wasReady === 'True' && ready === 'False';
      wasReady = ready ?? wasReady;
      if (flippedUnready) what = 'marked the pod unready';
      else if (opts.all) what = describe(e);
      else continue;
    } else if (LIFECYCLE_DECISIONS.has(e.type) || opts.all) what = describe(e);
    else continue;
    const container = containerOf(e);
    if (opts.container && container !== undefined && container !== opts.container) continue;
    if (opts.container && container === undefined && e.type !== 'PodStatusChanged' && !opts.all) continue;

    const chain = await causeChain(e, lookup, bounds);
    const evidenceSeqs = Array.isArray((e.data as D)?.failures) ? ((e.data as D).failures as number[]) : [];
    const evidence: ChainStep[] = [];
    for (const s of evidenceSeqs) {
      const r = s < bounds.firstSeq ? undefined : await lookup(s);
      evidence.push(r?.ok ? { seq: s, entry: r.entry } : { seq: s, problem: s < bounds.firstSeq ? 'before the retention horizon' : 'not readable' });
    }
    const chainEntries = chain.flatMap((s) => (s.entry ? [s.entry] : []));
    let why = because({ decision: e, chain: chainEntries, evidence: evidence.flatMap((s) => (s.entry ? [s.entry] : [])) });
    if (e.type === 'PodStatusChanged' && what === 'marked the pod unready') {
      const cond = ((e.data as D).status?.conditions as D[]).find((c) => c.type === 'Ready');
      const root = chainEntries[chainEntries.length - 1];
      why = `${cond?.reason ?? 'not ready'}${root ? ` — ${describe(root)}` : ''}`;
    }
    out.push({
      seq: e.seq,
      at: e.at,
      pod: e.pod ?? pod.ref,
      ...(container !== undefined ? { container } : {}),
      type: e.type,
      ...(e.reason !== undefined ? { reason: e.reason } : {}),
      what,
      why,
      chain,
      evidence,
      outcomes: (outcomesOf.get(e.seq) ?? []).map((o) => ({ seq: o.seq, at: o.at, text: describe(o) })),
    });
  }
  return out;
}

export const clock = (iso: string) => iso.slice(11, 23);

/** The seqs after the arrow: the cause chain, then evidence not already in it (newest first). */
export function arrowSeqs(x: Explanation): number[] {
  const chain = x.chain.map((s) => s.seq);
  const extra = x.evidence.map((s) => s.seq).sort((a, b) => b - a).filter((s) => !chain.includes(s));
  return [...chain, ...extra];
}

/** One headline plus indented chain and outcome lines, as `ledgerlet why` prints them. */
export function renderExplanation(x: Explanation): string[] {
  const arrows = arrowSeqs(x).map((s) => ` ← #${s}`).join('');
  const lines = [`${clock(x.at)} #${x.seq} ${x.what}: ${x.why}${arrows}`];
  const step = (s: ChainStep) => `    ← #${s.seq} ${s.entry ? `${clock(s.entry.at)} ${s.entry.kind} ${s.entry.type}: ${describe(s.entry)}` : s.problem}`;
  for (const s of x.chain) lines.push(step(s));
  for (const s of [...x.evidence].sort((a, b) => b.seq - a.seq)) if (!x.chain.some((c) => c.seq === s.seq)) lines.push(step(s));
  for (const o of x.outcomes) lines.push(`    → #${o.seq} ${clock(o.at)} ${o.text}`);
  return lines;
}
