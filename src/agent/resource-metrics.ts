// /metrics/resource (what metrics-server reads) and the small /metrics/cadvisor subset, rendered
// from a CPU-and-memory summary. Names, help texts, labels and sample timestamps follow upstream's
// pkg/kubelet/metrics/collectors/resource_metrics.go (swap series are not reported).
import { renderFamilies, type Family, type Sample } from './prometheus-text.ts';
import type { Summary } from './stats-summary.ts';

const ms = (iso: string) => Date.parse(iso);

/** The resource metrics; `summary` undefined means the stats could not be read (scrape_error 1). */
export function resourceMetrics(summary: Summary | undefined): string {
  const f = (name: string, type: Family['type'], help: string): Family => ({ name, type, help, samples: [] });
  const nodeCpu = f('node_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the node in core-seconds');
  const nodeMem = f('node_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the node in bytes');
  const start = f('container_start_time_seconds', 'gauge', '[STABLE] Start time of the container since unix epoch in seconds');
  const cCpu = f('container_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the container in core-seconds');
  const cMem = f('container_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the container in bytes');
  const pCpu = f('pod_cpu_usage_seconds_total', 'counter', '[STABLE] Cumulative cpu time consumed by the pod in core-seconds');
  const pMem = f('pod_memory_working_set_bytes', 'gauge', '[STABLE] Current working set of the pod in bytes');
  const scrape = f('scrape_error', 'gauge', '[ALPHA] 1 if there was an error while getting container metrics, 0 otherwise');
  const resourceScrape = f('resource_scrape_error', 'gauge', '[STABLE] 1 if there was an error while getting container metrics, 0 otherwise');
  const failed = summary === undefined;
  scrape.samples.push({ value: failed ? 1 : 0 });
  resourceScrape.samples.push({ value: failed ? 1 : 0 });
  const families = [nodeCpu, nodeMem, start, cCpu, cMem, pCpu, pMem, scrape, resourceScrape];
  if (!summary) return renderFamilies(families.filter((x) => x.samples.length));
  const n = summary.node;
  if (n.cpu?.usageCoreNanoSeconds !== undefined) nodeCpu.samples.push({ value: n.cpu.usageCoreNanoSeconds / 1e9, atMs: ms(n.cpu.time) });
  if (n.memory?.workingSetBytes !== undefined) nodeMem.samples.push({ value: n.memory.workingSetBytes, atMs: ms(n.memory.time) });
  for (const p of summary.pods) {
    const pod = { pod: p.podRef.name, namespace: p.podRef.namespace };
    for (const c of p.containers) {
      const labels = { container: c.name, ...pod };
      const started = ms(c.startTime);
      if (started > 0) start.samples.push({ labels, value: started / 1000 });
      if (c.cpu?.usageCoreNanoSeconds !== undefined) cCpu.samples.push({ labels, value: c.cpu.usageCoreNanoSeconds / 1e9, atMs: ms(c.cpu.time) });
      if (c.memory?.workingSetBytes !== undefined) cMem.samples.push({ labels, value: c.memory.workingSetBytes, atMs: ms(c.memory.time) });
    }
    if (p.cpu?.usageCoreNanoSeconds !== undefined) pCpu.samples.push({ labels: pod, value: p.cpu.usageCoreNanoSeconds / 1e9, atMs: ms(p.cpu.time) });
    if (p.memory?.workingSetBytes !== undefined) pMem.samples.push({ labels: pod, value: p.memory.workingSetBytes, atMs: ms(p.memory.time) });
  }
  return renderFamilies(families.filter((x) => x.samples.length));
}

/**
 * The part of cAdvisor's container metrics that dashboards read most: per container CPU and
 * working set with cAdvisor's labels (container, image, name = the runtime's id, namespace, pod).
 */
export function cadvisorMetrics(summary: Summary, ids: Map<string, { id: string; image: string }>): string {
  const cpu: Sample[] = [];
  const mem: Sample[] = [];
  for (const p of summary.pods) {
    for (const c of p.containers) {
      const rt = ids.get(`${p.podRef.uid}/${c.name}`);
      const labels = { container: c.name, image: rt?.image ?? '', name: rt?.id ?? '', namespace: p.podRef.namespace, pod: p.podRef.name };
      if (c.cpu?.usageCoreNanoSeconds !== undefined) cpu.push({ labels, value: c.cpu.usageCoreNanoSeconds / 1e9, atMs: ms(c.cpu.time) });
      if (c.memory?.workingSetBytes !== undefined) mem.push({ labels, value: c.memory.workingSetBytes, atMs: ms(c.memory.time) });
    }
  }
  return renderFamilies([
    { name: 'container_cpu_usage_seconds_total', type: 'counter', help: 'Cumulative cpu time consumed in seconds.', samples: cpu },
    { name: 'container_memory_working_set_bytes', type: 'gauge', help: 'Current working set in bytes.', samples: mem },
  ]);
}
