// The `kubectl-ledgerlet` command's entry point (bin/kubectl-ledgerlet.js loads it).
import { main } from './kubectl-ledgerlet.ts';

process.exitCode = await main(process.argv);
