// The shipped example configs stay valid: every examples/*.yaml parses against its command's schema (testbed-*: the
// testbed build's), and the fully in-process pairwise example, run with the embedded tiny GPT in place of the demo's
// checkpoint, gives no blanket ties.
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';
import type { z } from 'zod';
import { parseJudgeRunConfig } from '../pipeline/judge-run-config.ts';
import { readPairs, runJudgeJob } from '../pipeline/judge-run.ts';
import { parseAblationConfig } from '../pipeline/ablation.ts';
import { parseRunConfig as parseLoopConfig } from '../pipeline/run-config.ts';
import { testbedConfigSchema } from '../testbed/testbed-config.ts';
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
    } else if (file.startsWith('run-')) {
      assert.doesNotThrow(() => parseLoopConfig(text, { source: file }), file);
    } else if (file.startsWith('testbed-')) {
      const parsed = testbedConfigSchema.safeParse(parse(text));
      assert.ok(parsed.success, `${file}: ${parsed.error?.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`);
    } else if (file.startsWith('ablation-')) {
      assert.ok(parseAblationConfig(text, file).length >= 2, file);
    } else {
      const kind = file.split('-')[1] as keyof typeof TRAIN_SCHEMAS;
      assert.ok(kind in TRAIN_SCHEMAS, `${file}: name it train-<pg|grpo|ppo|sft|reward|dpo>-….yaml`);
      const schema: z.ZodType<unknown> = TRAIN_SCHEMAS[kind];
      assert.doesNotThrow(() => parseRunConfig(schema, text, file, '/base'), file);
    }
  }
});

test('judge-hh-rlhf.yaml points at data/ of the checkout, says where the data comes from, and a missing file says so', async () => {
  const text = readFileSync(new URL('judge-hh-rlhf.yaml', directory), 'utf8');
  const config = parseJudgeRunConfig(parse(text), 'judge-hh-rlhf.yaml');
  assert.equal(new URL(config.input!.path, directory).pathname, fileURLToPath(new URL('../../data/hh-rlhf-harmless-base-test.jsonl.gz', import.meta.url)));
  assert.match(text, /https:\/\/github\.com\/anthropics\/hh-rlhf, file harmless-base\/test\.jsonl\.gz/);
  const missing = join(tmpdir(), 'rlaif-no-such-dir', 'hh-rlhf-harmless-base-test.jsonl.gz');
  await assert.rejects(readPairs(missing, 'hh-rlhf'), /hh-rlhf-harmless-base-test\.jsonl\.gz: no such file\. HH-RLHF is not shipped with rlaif: download .*github\.com\/anthropics\/hh-rlhf/);
});

test('relative paths in a train config resolve against the config file', () => {
  const config = parseRunConfig(pgConfigSchema, 'steps: 2\nrunDir: ../runs/x\n', 'x.yaml', '/work/examples');
  assert.equal(config.runDir, '/work/runs/x');
});

test('judge-embedded.yaml: its tiny-context template shows the 64-character labeler each order differently, so pairs are not all ties', async () => {
  const runs = mkdtempSync(join(tmpdir(), 'rlaif-examples-'));
  try {
    // The embedded tiny GPT has the demo checkpoint's 64-character context and character tokenizer; nothing is trained.
    const run = async (name: string, withOverride: boolean) => {
      const raw = parse(readFileSync(new URL('judge-embedded.yaml', directory), 'utf8'));
      raw.sample.policy = { kind: 'embedded', seed: 1 };
      raw.provider.model = { kind: 'embedded', seed: 1 };
      raw.output.runDirectory = join(runs, name);
      if (!withOverride) delete raw.judge.templatesDirectory;
      const summary = await runJudgeJob(parseJudgeRunConfig(raw, 'judge-embedded.yaml'), fileURLToPath(directory));
      assert.deepEqual([summary.pairs, summary.judged], [8, 8], '4 prompts x 4 samples = 8 pairs, all judged');
      return readFileSync(join(runs, name, 'preferences.jsonl'), 'utf8').trim().split('\n').map((line) => JSON.parse(line).judgment);
    };
    const shipped = await run('shipped-template', false);
    assert.ok(shipped.every((judgment) => judgment.result.preferred === 'tie'), 'the shipped template ends with its question: both orders read the same text');
    const judgments = await run('tiny-context-template', true);
    assert.ok(judgments.every((judgment) => judgment.provenance.templateVersion === 'pairwise-direct-tiny-context-v1'), 'the example loads the tiny-context template');
    for (const { result } of judgments) {
      const { forward, reversed } = result.positions[0];
      assert.notEqual(forward.probabilityFirst, reversed.probabilityFirst, 'each order reads its own text');
    }
    assert.ok(judgments.some((judgment) => judgment.result.preferred !== 'tie'), 'not every pair a tie');
  } finally {
    rmSync(runs, { recursive: true, force: true });
  }
});
