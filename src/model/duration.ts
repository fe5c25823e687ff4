// Go-style durations as they appear in KubeletConfiguration ("1m30s", "100ms", "4h").
const UNIT_MS: Record<string, number> = { ns: 1e-6, us: 1e-3, 'µs': 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

export function parseDurationMs(text: string): number | undefined {
  if (text === '0') return 0;
  const re = /(\d+(?:\.\d+)?)(ns|us|µs|ms|s|m|h)/gy;
  let total = 0;
  let matched = 0;
  for (let m = re.exec(text); m; m = re.exec(text)) {
    total += parseFloat(m[1]) * UNIT_MS[m[2]];
    matched = re.lastIndex;
  }
  return matched === text.length && matched > 0 ? total : undefined;
}
