// The node agent's one Decider: every concern's reducers combined, under this ledgerlet's rules
// version (older versions through nodeDecider.rules.forVersion). `ledgerlet verify` and the
// running agent both use exactly this.
import { combineDeciders } from './combine.ts';
import { nodeDecider as nodeConcern } from './node/index.ts';
import { podDecider } from './pods/index.ts';
import { RULES_VERSION } from './rules-version.ts';
import { versionedDecider } from './rules.ts';
import { imagesDecider } from './images/index.ts';

const combined = combineDeciders({ node: nodeConcern, pods: podDecider, images: imagesDecider });
export const nodeDecider = versionedDecider(combined, RULES_VERSION);
export type NodeAgentState = ReturnType<typeof combined.initialState>;
