// The cache key of a testbed build: seed, labeler set-up, config, and a hash of the code that makes the models (the
// world, prompts, language, answers, corpus, demonstrations, judging examples, labeler prompts, model recipe,
// constitution, templates; gold and the sampler too, since the on-policy judging examples are the policy's own answers
// labeled by gold). Files that only read the models (audit, judge, self-supervised signals) are left out, so fixing
// them does not retrain. So is the config schema (testbed-config.ts): the parsed config, every default filled in, is
// in the key itself, so a changed default retrains while a reworded description does not (it retrained all three
// times a description changed on 2026-12-04). The build orchestration (build.ts) is
// covered by BUILD_FORMAT: bump it when build.ts changes what goes into the models.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import type { TestbedConfig } from './testbed-config.ts';

export const BUILD_FORMAT = 2;
export const MODEL_CODE_FILES = ['world.ts', 'prompts.ts', 'language.ts', 'answers.ts', 'corpus.ts', 'demonstrations.ts', 'judging-examples.ts',
  'labeler-format.ts', 'notes.ts', 'on-policy-judging.ts', 'policy-sampler.ts', 'gold.ts', 'embedded-model.ts', 'constitution.ts', 'templates/pairwise.yaml', 'templates/pointwise.yaml',
  'templates/critique-revision.yaml'];
const codeDirectory = fileURLToPath(new URL('.', import.meta.url));

/** sha256 over the model-making code (MODEL_CODE_FILES, in order, each with its name). */
export function testbedCodeHash(): string {
  const hash = createHash('sha256').update(`format ${BUILD_FORMAT}\0`);
  for (const file of MODEL_CODE_FILES) {
    // The installed package holds the compiled .js beside the templates, not the .ts sources (scripts/build-dist.mjs).
    const path = existsSync(join(codeDirectory, file)) ? join(codeDirectory, file) : join(codeDirectory, file.replace(/\.ts$/, '.js'));
    hash.update(`${file}\0${readFileSync(path)}\0`);
  }
  return hash.digest('hex');
}

/** The cache key of a build: seed, labeler set-up, config and code (16 hex digits). */
export function buildKey(seed: number, labeler: 'self' | 'separate', config: TestbedConfig): string {
  const relevant = { seed, labeler, config: labeler === 'self' ? { ...config, labeler: null } : config, code: testbedCodeHash() };
  return createHash('sha256').update(JSON.stringify(relevant)).digest('hex').slice(0, 16);
}
