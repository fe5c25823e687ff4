// Kubernetes resource quantities ("100m", "128Mi", "1.5", "2e3") as plain numbers.
const SUFFIX: Record<string, number> = {
  n: 1e-9, u: 1e-6, m: 1e-3, '': 1, k: 1e3, M: 1e6, G: 1e9, T: 1e12, P: 1e15, E: 1e18,
  Ki: 1024, Mi: 1024 ** 2, Gi: 1024 ** 3, Ti: 1024 ** 4, Pi: 1024 ** 5, Ei: 1024 ** 6,
};

export function parseQuantity(text: string): number | undefined {
  const m = /^([+-]?\d+(?:\.\d+)?)(?:[eE]([+-]?\d+)|(n|u|m|k|M|G|T|P|E|Ki|Mi|Gi|Ti|Pi|Ei))?$/.exec(text.trim());
  if (!m) return undefined;
  const base = parseFloat(m[1]);
  if (m[2] !== undefined) return base * 10 ** parseInt(m[2], 10);
  return base * SUFFIX[m[3] ?? ''];
}
