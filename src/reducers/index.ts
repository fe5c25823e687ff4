// The node agent's one Decider: every concern's reducers combined. `ledgerlet verify` and the
// running agent both use exactly this.
import { combineDeciders } from './combine.ts';
import { nodeDecider as nodeConcern } from './node/index.ts';
import { podDecider } from './pods/index.ts';
import { imagesDecider } from './images/index.ts';

export const nodeDecider = combineDeciders({ node: nodeConcern, pods: podDecider, images: imagesDecider });
export type NodeAgentState = ReturnType<typeof nodeDecider.initialState>;
