// The shipped example configs stay valid: every examples/*.yaml parses against its command's schema.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parse } from 'yaml';
import type { z } from 'zod';
import { parseJudgeRunConfig } from '../data/judge-run-config.ts';
import { dpoConfigSchema, parseRunConfig, pgConfigSchema, rewardConfigSchema, sftConfigSchema } from './train-configs.ts';

const directory = new URL('../../examples/', import.meta.url);
const TRAIN_SCHEMAS = { pg: pgConfigSchema, grpo: pgConfigSchema, ppo: pgConfigSchema, sft: sftConfigSchema, reward: rewardConfigSchema, dpo: dpoConfigSchema } as const;

test('every example config parses against its schema', () => {
  const files = readdirSync(directory).filter((f) => f.endsWith('.yaml'));
  assert.ok(files.length >= 4, `examples found: ${files.join(', ')}`);
  for (const file of files) {
    const text = readFileSync(new URL(file, directory), 'utf8');
    if (file.startsWith('judge-')) {
      assert.doesNotThrow(() => parseJudgeRunConfig(parse(text), file), file);
    } else {
      const kind = file.split('-')[1] as keyof typeof TRAIN_SCHEMAS;
      assert.ok(kind in TRAIN_SCHEMAS, `${file}: name it train-<pg|grpo|ppo|sft|reward|dpo>-….yaml`);
      const schema: z.ZodType<unknown> = TRAIN_SCHEMAS[kind];
      assert.doesNotThrow(() => parseRunConfig(schema, text, file, '/base'), file);
    }
  }
});

test('relative paths in a train config resolve against the config file', () => {
  const config = parseRunConfig(pgConfigSchema, 'steps: 2\nrunDir: ../runs/x\n', 'x.yaml', '/work/examples');
  assert.equal(config.runDir, '/work/runs/x');
});
