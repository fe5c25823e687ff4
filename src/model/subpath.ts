// subPath and subPathExpr of a volume mount, checked and expanded as upstream's makeMounts does
// (pkg/kubelet/kubelet_pods.go) before anything touches the disk. Pure: the start effect calls it
// with the container's finished environment and resolves the result inside the volume.

/** `shown` is what messages may say about the path: the expression itself when a secret fed it. */
export type SubPathResult = { ok: true; subPath: string; shown: string } | { ok: false; message: string };

/**
 * subPathExpr expanded from the container's environment with upstream's $(VAR) syntax (`$$`
 * escapes, an unclosed `$(` stays as is). As upstream's ExpandContainerVolumeMounts, a variable
 * that is unset or empty is an error: `missing value for A, B` (sorted).
 */
export function expandSubPathExpr(expr: string, vars: ReadonlyMap<string, string>): { ok: true; value: string; names: string[] } | { ok: false; message: string } {
  const missing = new Set<string>();
  const names: string[] = [];
  let out = '';
  for (let i = 0; i < expr.length; i++) {
    if (expr[i] !== '$' || i + 1 >= expr.length) {
      out += expr[i];
      continue;
    }
    const next = expr[i + 1];
    if (next === '$') {
      out += '$';
      i += 1;
    } else if (next === '(') {
      const close = expr.indexOf(')', i + 2);
      if (close < 0) {
        out += '$(';
        i += 1;
        continue;
      }
      const name = expr.slice(i + 2, close);
      const value = vars.get(name);
      if (!value) missing.add(name);
      names.push(name);
      out += value ?? '';
      i = close;
    } else {
      out += '$' + next;
      i += 1;
    }
  }
  if (missing.size) return { ok: false, message: `missing value for ${[...missing].sort().join(', ')}` };
  return { ok: true, value: out, names };
}

/** Upstream's two checks, with its wording: no absolute path, no `..` component. */
export function checkSubPath(subPath: string): string | undefined {
  if (subPath.startsWith('/')) return `error SubPath \`${subPath}\` must not be an absolute path`;
  if (subPath.split('/').includes('..')) return `unable to provision SubPath \`${subPath}\`: must not contain '..'`;
  return undefined;
}

/** The path's components as filepath.Join would clean them: empty and `.` components dropped. */
export function subPathComponents(subPath: string): string[] {
  return subPath.split('/').filter((c) => c !== '' && c !== '.');
}

/**
 * The sub-path a mount asks for, checked: subPathExpr (expanded) when set, else subPath.
 * `sensitive(name)` says a variable may carry a secret's value: the message then shows the
 * expression as written, not what it expanded to (secret values never reach error texts).
 */
export function effectiveSubPath(m: { subPath?: string; subPathExpr?: string }, vars: ReadonlyMap<string, string>, sensitive: (name: string) => boolean = () => false): SubPathResult {
  let subPath = m.subPath ?? '';
  let shown = subPath;
  if (m.subPathExpr) {
    const x = expandSubPathExpr(m.subPathExpr, vars);
    if (!x.ok) return x;
    subPath = x.value;
    shown = x.names.some(sensitive) ? m.subPathExpr : x.value;
  }
  if (subPath === '') return { ok: true, subPath, shown };
  const problem = checkSubPath(subPath);
  if (problem) return { ok: false, message: shown === subPath ? problem : problem.replace(`\`${subPath}\``, `\`${shown}\``) };
  return { ok: true, subPath, shown };
}

/**
 * Names a container's environment may have taken from a secret: secretKeyRef values, every name an
 * envFrom secret could have set (not known before the lookup: any name not set literally), and
 * literal values that reference one of those.
 */
export function secretDerivedNames(env: { name: string; value?: string; ref?: { kind: string } }[], envFrom: { secret?: string }[]): (name: string) => boolean {
  const fromSecretSource = envFrom.some((f) => f.secret !== undefined);
  const literal = new Set<string>();
  const secret = new Set<string>();
  for (const e of env) {
    const refs = [...(e.value ?? '').matchAll(/\$\(([^)]*)\)/g)].map((r) => r[1]);
    const tainted = e.ref?.kind === 'secret' || refs.some((r) => secret.has(r) || (fromSecretSource && !literal.has(r)));
    if (tainted) {
      secret.add(e.name);
      literal.delete(e.name);
    } else {
      secret.delete(e.name);
      literal.add(e.name);
    }
  }
  return (name) => secret.has(name) || (fromSecretSource && !literal.has(name));
}

/** A name used as one directory of the subpath bind target (volume, container): a single safe component. */
export function isSafePathComponent(name: string): boolean {
  return name !== '' && name !== '.' && name !== '..' && !name.includes('/') && !name.includes('\0') && name.length <= 253;
}
