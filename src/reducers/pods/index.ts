// The pods concern as a Decider: pod sources + PLEG + outcomes in, lifecycle decisions out.
import type { Decider } from '../decider.ts';
import { decidePods } from './decide.ts';
import { evolvePods } from './evolve.ts';
import { initialPodsState, type PodsState } from './state.ts';

export const podDecider: Decider<PodsState> = {
  initialState: initialPodsState,
  evolve: evolvePods,
  decide: decidePods,
};

export type { PodsState } from './state.ts';
