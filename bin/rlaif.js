#!/usr/bin/env node
// Entry point of the `rlaif` command: runs the TypeScript CLI through tsx (Node 20 has no type stripping).
import { register } from 'tsx/esm/api';
register();
await import('../src/cli/index.ts');
