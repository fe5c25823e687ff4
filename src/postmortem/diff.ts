// `diff`: what changed in the node's state between two moments, field by field, in the terms of
// the state view (so a restart reads "incident/crashy container app: restartCount 1 → 3").
import type { NodeView, PodView } from './state-view.ts';

export interface Change {
  /** Who changed: "node", "incident/crashy", "incident/crashy container app". */
  subject: string;
  field: string;
  from?: unknown;
  to?: unknown;
  /** added / removed for whole pods and containers, changed for fields. */
  change: 'added' | 'removed' | 'changed';
}

const podKey = (p: PodView) => `${p.namespace}/${p.name} (uid ${p.uid})`;

function flat(value: unknown, prefix = ''): Map<string, unknown> {
  const out = new Map<string, unknown>();
  const walk = (v: unknown, path: string) => {
    if (v !== null && typeof v === 'object' && !Array.isArray(v)) {
      for (const [k, x] of Object.entries(v)) walk(x, path ? `${path}.${k}` : k);
    } else out.set(path, Array.isArray(v) ? v.join(', ') : v);
  };
  walk(value, prefix);
  return out;
}

function fieldChanges(subject: string, a: unknown, b: unknown, out: Change[]): void {
  const fa = flat(a);
  const fb = flat(b);
  const keys = [...new Set([...fa.keys(), ...fb.keys()])];
  for (const k of keys) {
    const x = fa.get(k);
    const y = fb.get(k);
    if (JSON.stringify(x) !== JSON.stringify(y)) out.push({ subject, field: k, from: x, to: y, change: 'changed' });
  }
}

export function diffViews(a: NodeView, b: NodeView): Change[] {
  const out: Change[] = [];
  fieldChanges('node', a.node, b.node, out);
  const pa = new Map(a.pods.map((p) => [p.uid, p]));
  const pb = new Map(b.pods.map((p) => [p.uid, p]));
  for (const [uid, p] of pa) if (!pb.has(uid)) out.push({ subject: podKey(p), field: 'pod', change: 'removed', from: `${p.phase}` });
  for (const [uid, q] of pb) {
    const p = pa.get(uid);
    if (!p) {
      out.push({ subject: podKey(q), field: 'pod', change: 'added', to: `${q.phase}, containers ${q.containers.map((c) => c.name).join(', ')}` });
      continue;
    }
    const subject = `${q.namespace}/${q.name}`;
    const { containers: ca, ...restA } = p;
    const { containers: cb, ...restB } = q;
    fieldChanges(subject, restA, restB, out);
    const ma = new Map(ca.map((c) => [c.name, c]));
    const mb = new Map(cb.map((c) => [c.name, c]));
    for (const [n] of ma) if (!mb.has(n)) out.push({ subject: `${subject} container ${n}`, field: 'container', change: 'removed' });
    for (const [n, c] of mb) {
      const before = ma.get(n);
      if (!before) out.push({ subject: `${subject} container ${n}`, field: 'container', change: 'added', to: c.state });
      else fieldChanges(`${subject} container ${n}`, before, c, out);
    }
  }
  return out;
}

const show = (v: unknown) => (v === undefined ? '(none)' : typeof v === 'string' ? v : JSON.stringify(v));

export function renderChange(c: Change): string {
  if (c.change === 'added') return `+ ${c.subject}${c.to !== undefined ? `: ${show(c.to)}` : ''}`;
  if (c.change === 'removed') return `- ${c.subject}${c.from !== undefined ? ` (was ${show(c.from)})` : ''}`;
  return `~ ${c.subject}: ${c.field} ${show(c.from)} → ${show(c.to)}`;
}
