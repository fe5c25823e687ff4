// Pass/fail per group from a ginkgo JSON report (scripts/conformance): one line per top-level
// container ("[sig-node] Downward API"), the total, then each failed spec with the first line
// of its failure. Specs the focus/skip left out are not counted.
//   node --import tsx scripts/conformance-summary.ts test-artifacts/conformance/report.json
import { readFileSync } from 'node:fs';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';
import { decodeWith } from '../src/model/decode.ts';

const SpecReport = t.intersection([
  t.type({ LeafNodeType: t.string, LeafNodeText: t.string, State: t.string }),
  t.partial({
    ContainerHierarchyTexts: t.union([t.array(t.string), t.null]),
    Failure: t.partial({ Message: t.string }),
  }),
]);
const Report = t.array(t.partial({ SpecReports: t.union([t.array(SpecReport), t.null]) }));

const file = process.argv[2];
if (!file) {
  console.error('usage: conformance-summary.ts REPORT.json');
  process.exit(2);
}
const decoded = decodeWith(Report, JSON.parse(readFileSync(file, 'utf8')));
if (isLeft(decoded)) {
  console.error(`${file} is not a ginkgo JSON report: ${decoded.left.slice(0, 5).join('; ')}`);
  process.exit(2);
}
const reports = decoded.right;
const specs = reports.flatMap((r) => r.SpecReports ?? []).filter((s) => s.LeafNodeType === 'It' && s.State !== 'skipped' && s.State !== 'pending');

const groups = new Map<string, { passed: number; failed: number }>();
const failures: string[] = [];
for (const s of specs) {
  const hierarchy = s.ContainerHierarchyTexts ?? [];
  const group = hierarchy[0] ?? '(top level)';
  const g = groups.get(group) ?? { passed: 0, failed: 0 };
  if (s.State === 'passed') g.passed++;
  else {
    g.failed++;
    const first = (s.Failure?.Message ?? '').split('\n').find((l) => l.trim() !== '') ?? '';
    failures.push(`  ${s.State.toUpperCase()} ${[...hierarchy, s.LeafNodeText].join(' ')}\n      ${first.slice(0, 300)}`);
  }
  groups.set(group, g);
}

const passed = specs.filter((s) => s.State === 'passed').length;
for (const [group, g] of [...groups.entries()].sort((a, b) => a[0].localeCompare(b[0]))) {
  console.log(`${String(g.passed).padStart(4)} passed ${String(g.failed).padStart(4)} failed  ${group}`);
}
console.log(`\nconformance: ${passed} of ${specs.length} specs passed (${specs.length ? Math.round((100 * passed) / specs.length) : 0} %)`);
if (failures.length) console.log(`\nfailed:\n${failures.join('\n')}`);
