// `rlaif train pg --config x.yaml`: policy-gradient training from a YAML config validated by a strict zod schema
// (defaults and descriptions in the schema, unknown keys rejected by path), progress bar, run folder with the frozen
// config, metrics.jsonl and a checkpoint. Leaves out (not yet): sft, reward and dpo subcommands; policies other than the built-in digit task.
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { parse } from 'yaml';
import { z } from 'zod';
import { PolicyGradientTrainer } from '../algorithms/policy-gradient-trainer.ts';
import { frozenCopy } from '../algorithms/reference-model.ts';
import { programmaticReward } from '../algorithms/reward-sources.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../algorithms/testing/digit-task.ts';
import { checkMonitors, RunFolder } from '../algorithms/training-run.ts';

export const pgConfigSchema = z.strictObject({
  runDir: z.string().default('runs/pg').describe('run folder: config.json, metrics.jsonl, checkpoint/'),
  steps: z.number().int().min(1).default(40).describe('RL steps'),
  algorithm: z.enum(['reinforce', 'rloo', 'grpo', 'ppo']).default('grpo').describe('policy-gradient algorithm'),
  promptsPerStep: z.number().int().min(1).default(4).describe('distinct prompts per step'),
  groupSize: z.number().int().min(2).default(8).describe('completions sampled per prompt (G)'),
  learningRate: z.number().positive().default(5e-3).describe('AdamW learning rate'),
  klCoef: z.number().min(0).default(0.05).describe('β of the KL penalty (reward shaping) or KL loss (grpo)'),
  klTarget: z.number().positive().nullable().default(null).describe('adaptive β toward this KL per sequence; null = fixed'),
  maxKl: z.number().positive().default(25).describe('stop the run when KL to the reference exceeds this'),
  epochs: z.number().int().min(1).default(2).describe('passes over each rollout (ppo/grpo)'),
  minibatches: z.number().int().min(1).default(2).describe('optimizer steps per epoch'),
  checkpointEvery: z.number().int().min(1).default(10).describe('steps between checkpoints'),
  pretrainSteps: z.number().int().min(1).default(80).describe('SFT steps of the built-in digit-task policy'),
  seed: z.number().int().default(7).describe('seed of sampling and shuffling'),
});
export type PgRunConfig = z.infer<typeof pgConfigSchema>;

/** Parses YAML text into a frozen config; unknown or invalid keys are errors naming the key path. */
export function parsePgConfig(text: string): Readonly<PgRunConfig> {
  const result = pgConfigSchema.safeParse(parse(text) ?? {});
  if (!result.success) {
    throw new Error(result.error.issues.map((i) => {
      const keys = 'keys' in i && Array.isArray(i.keys) ? i.keys.map((k) => [...i.path, k].join('.')).join(', ') : i.path.join('.');
      return `config: ${keys || '(root)'}: ${i.message}`;
    }).join('\n'));
  }
  return Object.freeze(result.data);
}

async function trainPg(configPath: string): Promise<void> {
  const config = parsePgConfig(readFileSync(configPath, 'utf8'));
  const run = new RunFolder(config.runDir);
  run.writeConfig(config);
  const base = pretrainDigitPolicy(config.pretrainSteps, config.seed);
  const policy = frozenCopy(base);
  for (const t of policy.parameters().values()) t.requiresGrad = true;
  const trainer = new PolicyGradientTrainer({
    config: { ...config, maxNewTokens: RESPONSE_DIGITS + 1, temperature: 1, stopToken: EOS, maxGradNorm: 1, clipLow: 0.2,
      clipHigh: 0.2, aggregation: null, klHorizon: 1000, entropyCoef: 0, valueCoef: 0.5, valueClip: 0.5, gamma: 1, lambda: 0.95 },
    policy, reference: frozenCopy(base), prompts: [{ text: '', tokens: Int32Array.of(BOS) }], decode: decodeDigits,
    reward: programmaticReward('sorted-digits', sortedReward),
  });
  if (run.hasCheckpoint()) trainer.load(run.checkpointDir);
  const bar = new SingleBar({ format: 'pg {bar} {value}/{total} reward {reward} kl {kl}' }, Presets.shades_classic);
  bar.start(config.steps, trainer.step, { reward: '-', kl: '-' });
  let lastCheckpoint: string | null = run.hasCheckpoint() ? run.checkpointDir : null;
  try {
    while (trainer.step < config.steps) {
      const record = await trainer.trainStep();
      checkMonitors(record.step, record.metrics, { maxKl: config.maxKl }, lastCheckpoint);
      run.appendMetrics(record);
      if (record.step % config.checkpointEvery === 0 || record.step === config.steps) {
        trainer.save(run.checkpointDir);
        lastCheckpoint = run.checkpointDir;
      }
      bar.update(record.step, { reward: record.metrics.rewardMean.toFixed(3), kl: record.metrics.kl.toFixed(2) });
    }
  } finally {
    bar.stop();
  }
  console.log(`metrics: ${join(config.runDir, 'metrics.jsonl')}`);
}

export function registerTrainCommand(program: Command): void {
  const train = program.command('train').description('train a policy or reward model');
  train.command('pg').description('policy-gradient RL (REINFORCE, RLOO, GRPO, PPO) on the built-in digit task')
    .requiredOption('--config <file>', 'YAML config').action(async (options: { config: string }) => trainPg(options.config));
}
