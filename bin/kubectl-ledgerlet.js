#!/usr/bin/env node
// kubectl runs `kubectl-ledgerlet` from the PATH for `kubectl ledgerlet ...`. As bin/ledgerlet.js:
// the TypeScript sources through tsx in a checkout, dist/ in the release package.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/kubectl-plugin-main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/kubectl-plugin-main.js');
}
