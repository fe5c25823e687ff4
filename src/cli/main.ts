// The `ledgerlet` command's entry point (bin/ledgerlet.js loads it).
import { buildProgram } from './program.ts';

const program = await buildProgram();
await program.parseAsync(process.argv);
