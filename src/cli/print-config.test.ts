// `--print-config` of `rlaif judge` and `rlaif train <kind>` (rlaif run's is in pipeline/run-config.test.ts): the
// parsed config, every default filled in and each key under its description, reads back to the same config; the
// judge's prints the labeler's base URL without its credentials, as its run folder's config.json has it.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { dirname } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import { loadJudgeRunConfig, parseJudgeRunConfig } from '../pipeline/judge-run-config.ts';
import { printJudgeConfig } from './judge-command.ts';
import { printTrainConfig } from './train-command.ts';
import { parseRunConfig, pgConfigSchema } from './train-configs.ts';
import { scratchFolder } from './testing/scratch-folder.ts';

const scratch = scratchFolder('rlaif-print-config-');
const example = (name: string) => fileURLToPath(new URL(`../../examples/${name}`, import.meta.url));

test('rlaif judge --print-config: the example config with every default and description; reads back; no credentials', () => {
  const path = example('judge-hh-rlhf.yaml');
  const printed = printJudgeConfig(path);
  assert.deepEqual(parseJudgeRunConfig(parse(printed), 'printed'), loadJudgeRunConfig(path));
  assert.match(printed, /# how the dataset is stored\n\s+format: hh-rlhf/);
  const secret = scratch.write('secret.yaml', "input: {path: p.jsonl, format: trl}\nprovider: {kind: openai-compatible, baseURL: 'https://carol:topsecretpw@judge.example/v1', model: m}\n");
  const redacted = printJudgeConfig(secret);
  assert.ok(!redacted.includes('topsecretpw') && !redacted.includes('carol'), redacted);
});

test('rlaif train pg --print-config: paths resolved, every default with its description; reads back to the same config', () => {
  const path = example('train-grpo-digits.yaml');
  const printed = printTrainConfig('pg', path);
  assert.deepEqual(parseRunConfig(pgConfigSchema, printed, 'printed', '/elsewhere'), parseRunConfig(pgConfigSchema, readFileSync(path, 'utf8'), path, dirname(path)));
  assert.match(printed, /# optimizer steps \(pg, online dpo: iterations\)\nsteps: \d+/);
  assert.match(printed, /\nrunDir: \/.*\/runs\/grpo-digits\n/, 'relative paths resolved against the config file');
});
