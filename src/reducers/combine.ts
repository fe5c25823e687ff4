// Composes reducer modules (pods, node, probes, ...) into the one Decider the engine runs. The
// combined state is { key: moduleState }; evolve applies every module, decide concatenates their
// decisions in the key order of the object passed in (so the order is stable and reviewable).
import type { DecisionDraft, Entry } from '../model/entry.ts';
import type { Decider } from './decider.ts';

type StateOf<D> = D extends Decider<infer S> ? S : never;
export type CombinedState<M extends Record<string, Decider<any>>> = { [K in keyof M]: StateOf<M[K]> };

export function combineDeciders<M extends Record<string, Decider<any>>>(modules: M): Decider<CombinedState<M>> {
  const keys = Object.keys(modules) as Array<keyof M & string>;
  return {
    initialState: () => {
      const s = {} as CombinedState<M>;
      for (const k of keys) s[k] = modules[k].initialState();
      return s;
    },
    evolve: (state: CombinedState<M>, entry: Entry) => {
      let next: CombinedState<M> | undefined;
      for (const k of keys) {
        const before = state[k];
        const after = modules[k].evolve(before, entry);
        // Keep the same object when nothing changed: cheap folds and cheap equality checks.
        if (after !== before) (next ??= { ...state })[k] = after;
      }
      return next ?? state;
    },
    decide: (state: CombinedState<M>, entry: Entry) => {
      const out: DecisionDraft[] = [];
      for (const k of keys) {
        const ds = modules[k].decide(state[k], entry);
        for (const d of ds) out.push(d);
      }
      return out;
    },
  };
}
