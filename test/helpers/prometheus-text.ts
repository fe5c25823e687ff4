// Parses Prometheus text with the npm package parse-prometheus-text-format (an independent parser,
// so the tests do not check our renderer with itself) and decodes its output with io-ts.
import { createRequire } from 'node:module';
import * as t from 'io-ts';
import { isLeft } from 'fp-ts/lib/Either.js';

const Parsed = t.array(t.type({
  name: t.string,
  help: t.string,
  type: t.string,
  metrics: t.array(t.intersection([t.type({ value: t.string }), t.partial({ labels: t.record(t.string, t.string), timestamp_ms: t.string })])),
}));
export type ParsedFamilies = t.TypeOf<typeof Parsed>;

const parse: unknown = createRequire(import.meta.url)('parse-prometheus-text-format');

export function parsePrometheus(text: string): ParsedFamilies {
  if (typeof parse !== 'function') throw new Error('parse-prometheus-text-format did not load');
  const r = Parsed.decode(parse(text));
  if (isLeft(r)) throw new Error('unexpected parser output');
  return r.right;
}

/** The family named `name`, or an error naming the families there are. */
export function family(fams: ParsedFamilies, name: string): ParsedFamilies[number] {
  const f = fams.find((x) => x.name === name);
  if (!f) throw new Error(`no ${name} in ${fams.map((x) => x.name).join(', ')}`);
  return f;
}
