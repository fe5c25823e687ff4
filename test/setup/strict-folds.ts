// Every test process folds strictly: reducers run with the clock, randomness and timers throwing,
// and the state and entries they are handed are deep-frozen (src/runtime/determinism.ts).
import { foldChecks } from '../../src/runtime/determinism.ts';

foldChecks.strict = true;
