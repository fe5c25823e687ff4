// The self-contained HTML timeline: inline CSS, SVG and a few lines of script, no external URL,
// so the page opens anywhere (an incident ticket, an air-gapped laptop). Containers are lanes,
// their states coloured segments; decisions and probe results are markers whose click (or hover)
// shows the recorded cause chain.
import type { Timeline } from './timeline.ts';

const LABEL_W = 260;
const CHART_W = 1000;
const LANE_H = 26;
const GAP = 8;
const TOP = 30;

const esc = (s: string) => s.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);

const COLORS: Record<string, string> = {
  starting: '#f5d76e', running: '#4caf50', exited: '#9e9e9e', failed: '#e53935', backoff: '#ff9800', stopping: '#7e57c2', gone: '#eeeeee',
};

export interface PageInput {
  title: string;
  subtitle: string;
  timeline: Timeline;
}

export function renderPage(p: PageInput): string {
  const t = p.timeline;
  const t0 = Date.parse(t.from);
  const span = Math.max(1, Date.parse(t.to) - t0);
  const x = (iso: string) => LABEL_W + ((Date.parse(iso) - t0) / span) * CHART_W;
  const height = TOP + t.lanes.length * (LANE_H + GAP) + 10;
  const details: Record<string, string[]> = {};
  const rows: Array<[number, string]> = [];
  const svg: string[] = [];
  // Time axis: six ticks.
  for (let i = 0; i <= 5; i++) {
    const iso = new Date(t0 + (span * i) / 5).toISOString();
    const xi = LABEL_W + (CHART_W * i) / 5;
    svg.push(`<line x1="${xi}" y1="${TOP - 6}" x2="${xi}" y2="${height}" class="tick"/><text x="${xi}" y="${TOP - 10}" class="axis">${iso.slice(11, 19)}</text>`);
  }
  t.lanes.forEach((l, i) => {
    const y = TOP + i * (LANE_H + GAP);
    const name = l.container ? `${l.pod} · ${l.container}` : `${l.pod} (pod)`;
    svg.push(`<g class="lane" data-lane="${esc(name)}"><text x="6" y="${y + LANE_H / 2 + 4}" class="lane-label">${esc(name)}</text>`);
    svg.push(`<rect x="${LABEL_W}" y="${y}" width="${CHART_W}" height="${LANE_H}" class="lane-bg"/>`);
    for (const s of l.segments) {
      const x1 = x(s.from);
      const w = Math.max(1.5, x(s.to) - x1);
      svg.push(`<rect x="${x1.toFixed(1)}" y="${y + 4}" width="${w.toFixed(1)}" height="${LANE_H - 8}" fill="${COLORS[s.state]}" class="seg seg-${s.state}" data-state="${s.state}"><title>${esc(`${s.label}: ${s.from.slice(11, 23)} – ${s.to.slice(11, 23)}`)}</title></rect>`);
    }
    for (const m of l.markers) {
      const mx = x(m.at).toFixed(1);
      details[String(m.seq)] = m.detail;
      const shape = m.kind === 'decision'
        ? `<path d="M${mx},${y} l6,${LANE_H / 2} l-6,${LANE_H / 2} l-6,-${LANE_H / 2} z" class="marker decision"/>`
        : `<circle cx="${mx}" cy="${y + LANE_H / 2}" r="4" class="marker probe"/>`;
      svg.push(`<g class="mark mark-${m.kind}" data-seq="${m.seq}" tabindex="0">${shape}<title>${esc(m.title)}</title></g>`);
      if (m.kind === 'decision') rows.push([m.seq, `<tr data-seq="${m.seq}"><td>${esc(m.at.slice(11, 23))}</td><td>#${m.seq}</td><td>${esc(name)}</td><td>${esc(m.title.replace(/^#\d+ /, ''))}</td></tr>`]);
    }
    svg.push('</g>');
  });
  const legend = Object.entries(COLORS).map(([k, c]) => `<span class="key"><i style="background:${c}"></i>${k}</span>`).join('');
  // JSON inside <script>: "<" escaped so no string can close the element.
  const data = JSON.stringify(details).replace(/</g, '\\u003c');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; script-src 'unsafe-inline'; img-src data:">
<title>${esc(p.title)}</title>
<style>
body{font:13px/1.4 system-ui,sans-serif;margin:16px;color:#222}
h1{font-size:18px;margin:0 0 4px} .sub{color:#555;margin-bottom:8px}
.key{margin-right:12px}.key i{display:inline-block;width:12px;height:12px;margin-right:4px;vertical-align:-2px;border:1px solid #0002}
svg{border:1px solid #ddd;background:#fff}
.lane-bg{fill:#fafafa}.tick{stroke:#eee}.axis{font-size:11px;fill:#777;text-anchor:middle}.lane-label{font-size:12px;fill:#222}
.decision{fill:#c62828;stroke:#fff;stroke-width:1}.probe{fill:#1565c0;stroke:#fff}
.mark{cursor:pointer}.mark:hover .marker,.mark.selected .marker{stroke:#000;stroke-width:2}
#cause{white-space:pre-wrap;font:12px/1.45 ui-monospace,monospace;background:#f6f6f6;border:1px solid #ddd;padding:8px;min-height:3em}
table{border-collapse:collapse;margin-top:12px}td{padding:2px 8px;border-bottom:1px solid #eee;vertical-align:top}tr{cursor:pointer}tr:hover{background:#f0f4ff}
</style></head>
<body>
<h1>${esc(p.title)}</h1>
<div class="sub">${esc(p.subtitle)}</div>
<div class="legend">${legend}<span class="key"><i style="background:#c62828"></i>decision</span><span class="key"><i style="background:#1565c0;border-radius:6px"></i>probe result</span></div>
<svg width="${LABEL_W + CHART_W + 10}" height="${height}" role="img" aria-label="timeline">${svg.join('')}</svg>
<h2 style="font-size:14px">Cause chain <span style="font-weight:normal;color:#777">(click a marker or a row)</span></h2>
<div id="cause">Click a decision marker to see why it was taken.</div>
<table id="decisions"><tbody>${rows.sort((a, b) => a[0] - b[0]).map((r) => r[1]).join('')}</tbody></table>
<script type="application/json" id="details">${data}</script>
<script>
(function(){
  var details = JSON.parse(document.getElementById('details').textContent);
  var panel = document.getElementById('cause');
  function show(seq){
    var lines = details[seq]; if(!lines) return;
    panel.textContent = lines.join('\\n');
    document.querySelectorAll('.mark.selected').forEach(function(m){m.classList.remove('selected');});
    var m = document.querySelector('.mark[data-seq="'+seq+'"]'); if(m) m.classList.add('selected');
  }
  document.querySelectorAll('.mark').forEach(function(m){
    m.addEventListener('click', function(){ show(m.getAttribute('data-seq')); });
    m.addEventListener('mouseenter', function(){ show(m.getAttribute('data-seq')); });
    m.addEventListener('keydown', function(e){ if(e.key==='Enter') show(m.getAttribute('data-seq')); });
  });
  document.querySelectorAll('#decisions tr').forEach(function(r){ r.addEventListener('click', function(){ show(r.getAttribute('data-seq')); }); });
})();
</script>
</body></html>
`;
}
