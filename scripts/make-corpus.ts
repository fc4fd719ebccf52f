// Writes the shipped pretraining corpus data/tiny-world.txt from the tiny world (seeded, reproducible).
// Run: npx tsx scripts/make-corpus.ts
import { writeFileSync } from 'node:fs';
import { makeWorld, renderCorpus } from '../src/testbed/tiny-world.ts';

const text = renderCorpus(makeWorld(1), 2, 400_000);
writeFileSync(new URL('../data/tiny-world.txt', import.meta.url), text);
console.log(`wrote data/tiny-world.txt: ${text.length} characters`);
