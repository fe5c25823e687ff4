// Finishes a container's environment: configMap/secret values looked up now (they never enter the
// log), then $(VAR) references expanded as upstream (expansion.go): $$ escapes, unknown stays as is.
import type { ContainerPlan } from '../../reducers/pods/plans.ts';
import { replace } from '../../runtime/secret-values.ts';
import type { RuntimeEffectDeps } from './deps.ts';

export class ContainerConfigError extends Error {}

export function expand(text: string, vars: Map<string, string>): string {
  return text.replace(/\$\$|\$\(([^)]*)\)/g, (m, name: string | undefined) => {
    if (m === '$$') return '$';
    return name !== undefined && vars.has(name) ? vars.get(name)! : m;
  });
}

/**
 * `secretOwner`: the owner (src/runtime/secret-values.ts) under which values read from Secrets are
 * registered, so that an error echoing the expanded command cannot carry them into the log.
 */
export async function finishEnv(plan: ContainerPlan, namespace: string, deps: RuntimeEffectDeps, secretOwner?: string): Promise<Map<string, string>> {
  const vars = new Map<string, string>();
  // Service links can be referenced as $(VAR) but are overridden by env and envFrom (upstream
  // MappingFuncFor(tmpEnv, serviceEnv)); they are added after those.
  const serviceVars = new Map((plan.serviceEnv ?? []).map((v) => [v.name, v.value]));
  const secretValues: string[] = [];
  const source = async (kind: 'configMap' | 'secret', name: string) => {
    if (!deps.lookup) throw new ContainerConfigError(`${kind} "${name}" cannot be read: the agent runs without an API server`);
    return kind === 'configMap' ? deps.lookup.configMap(namespace, name) : deps.lookup.secret(namespace, name);
  };
  for (const from of plan.envFrom) {
    const kind = from.configMap ? 'configMap' : 'secret';
    const name = from.configMap ?? from.secret ?? '';
    const data = await source(kind, name);
    if (!data) {
      if (from.optional) continue;
      throw new ContainerConfigError(`${kind} "${name}" not found`);
    }
    if (kind === 'secret') secretValues.push(...Object.values(data));
    for (const [k, v] of Object.entries(data)) vars.set(`${from.prefix ?? ''}${k}`, v);
  }
  for (const e of plan.env) {
    if (e.error) throw new ContainerConfigError(`env ${e.name}: ${e.error}`);
    if (e.ref) {
      const data = await source(e.ref.kind, e.ref.name);
      const v = data?.[e.ref.key];
      if (v === undefined) {
        if (e.ref.optional) continue;
        throw new ContainerConfigError(data ? `couldn't find key ${e.ref.key} in ${e.ref.kind} ${namespace}/${e.ref.name}` : `${e.ref.kind} "${e.ref.name}" not found`);
      }
      if (e.ref.kind === 'secret') secretValues.push(v);
      vars.set(e.name, v);
    } else {
      vars.set(e.name, expand(e.value ?? '', new Map([...serviceVars, ...vars])));
    }
  }
  for (const [k, v] of serviceVars) if (!vars.has(k)) vars.set(k, v);
  // registered before the container is created: the runtime's errors echo the expanded command
  if (secretOwner) replace(secretOwner, secretValues);
  return vars;
}
