// Prometheus text exposition (format 0.0.4) for series that carry their own sample timestamps,
// which prom-client's registry cannot express: each family's HELP and TYPE once, then its samples.
export interface Sample {
  labels?: Record<string, string>;
  value: number;
  /** ms since the epoch; omitted when the sample has no time of its own */
  atMs?: number;
}

export interface Family {
  name: string;
  help: string;
  type: 'counter' | 'gauge';
  samples: Sample[];
}

const escapeLabel = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
const escapeHelp = (v: string) => v.replace(/\\/g, '\\\\').replace(/\n/g, '\\n');

function formatValue(v: number): string {
  if (Number.isNaN(v)) return 'NaN';
  if (v === Infinity) return '+Inf';
  if (v === -Infinity) return '-Inf';
  return String(v);
}

/** Families sorted by name (as client_golang's registry gathers them), labels sorted by name. */
export function renderFamilies(families: Family[]): string {
  let out = '';
  for (const f of [...families].sort((a, b) => a.name.localeCompare(b.name))) {
    out += `# HELP ${f.name} ${escapeHelp(f.help)}\n# TYPE ${f.name} ${f.type}\n`;
    for (const s of f.samples) {
      const labels = Object.entries(s.labels ?? {}).sort(([a], [b]) => a.localeCompare(b));
      const l = labels.length ? `{${labels.map(([k, v]) => `${k}="${escapeLabel(v)}"`).join(',')}}` : '';
      out += `${f.name}${l} ${formatValue(s.value)}${s.atMs !== undefined ? ` ${Math.round(s.atMs)}` : ''}\n`;
    }
  }
  return out;
}

export const PROMETHEUS_TEXT = 'text/plain; version=0.0.4; charset=utf-8';
