#!/usr/bin/env node
// A checkout runs the TypeScript sources through tsx (no build step); the release package has no
// src/ and runs the JavaScript that `npm run build` put in dist/.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/main.ts', import.meta.url);
if (existsSync(source)) {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/main.js');
}
