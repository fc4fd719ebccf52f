#!/usr/bin/env node
// Entry point of the `rlaif` command. In the installed package it runs the compiled JavaScript in dist/ (no TypeScript
// loader). In a git checkout (src/ present) it runs the TypeScript sources through tsx, so edits apply without a build.
import { existsSync } from 'node:fs';

const source = new URL('../src/cli/index.ts', import.meta.url);
if (existsSync(source) && process.env.RLAIF_USE_DIST !== '1') {
  const { register } = await import('tsx/esm/api');
  register();
  await import(source.href);
} else {
  await import('../dist/cli/index.js');
}
