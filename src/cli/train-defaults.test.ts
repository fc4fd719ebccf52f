// Defaults live in the schemas only: `rlaif train pg` with an empty config builds a trainer whose config is exactly the
// trainer schema's defaults, and a config setting every knob to a non-default value reaches the trainer unchanged (a
// knob re-typed or overridden in train-command.ts fails one of the two). Same for online DPO's sampling knobs.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { OnlineDpoTrainer } from '../algorithms/online-dpo-trainer.ts';
import { policyGradientConfig, policyGradientShape } from '../algorithms/policy-gradient-config.ts';
import { PolicyGradientTrainer } from '../algorithms/policy-gradient-trainer.ts';
import { EOS, RESPONSE_DIGITS } from '../testbed/digit-task.ts';
import { buildTrainer } from './train-command.ts';
import { dpoConfigSchema, parseRunConfig, pgConfigSchema } from './train-configs.ts';

const RUN = 'pretrainSteps: 1\nrunDir: /tmp/rlaif-never-written\n';

async function pgTrainer(yaml: string): Promise<PolicyGradientTrainer> {
  const trainer = await buildTrainer('pg', parseRunConfig(pgConfigSchema, RUN + yaml));
  assert.ok(trainer instanceof PolicyGradientTrainer);
  return trainer;
}

/** A valid value other than the default for every knob a YAML config can set. */
const NON_DEFAULT: Record<string, unknown> = {
  algorithm: 'ppo', promptsPerStep: 3, groupSize: 5, temperature: 0.9, learningRate: 1e-3, maxGradNorm: 0.5, epochs: 3,
  minibatches: 1, clipLow: 0.1, clipHigh: 0.3, aggregation: 'seq-mean-token-sum-norm', klCoef: 0.2, klTarget: 4, klHorizon: 500,
  entropyCoef: 0.01, valueCoef: 0.25, valueClip: 0.3, gamma: 0.99, lambda: 0.9, seed: 11, precision: 'bf16', groupStdNormalization: false,
  pretrainBatchSize: 8, groupTokens: 512,
};
// Set by the model, not the YAML: the builtin digit task samples its 6 digits + EOS and stops at EOS. pretrainCoef
// (PPO-ptx) needs pretraining text, which `rlaif train pg` does not take: it is refused, naming `rlaif run`'s key.
const FROM_THE_MODEL = ['maxNewTokens', 'stopToken', 'pretrainCoef'];

test('pg: the empty config gives the trainer exactly the schema\'s defaults', async () => {
  const trainer = await pgTrainer('');
  assert.deepEqual({ ...trainer.config }, policyGradientConfig({ maxNewTokens: RESPONSE_DIGITS + 1, stopToken: EOS }));
});

test('pg: every knob set to a non-default value reaches the trainer unchanged', async () => {
  const knobs = Object.keys(policyGradientShape).filter((key) => !FROM_THE_MODEL.includes(key));
  assert.deepEqual(Object.keys(NON_DEFAULT).sort(), knobs.sort(), 'a non-default value for every knob (add one for a new knob)');
  const defaults = policyGradientConfig({}) as Record<string, unknown>;
  for (const [key, value] of Object.entries(NON_DEFAULT)) assert.notDeepEqual(value, defaults[key], `${key} differs from its default`);
  const yaml = Object.entries(NON_DEFAULT).map(([key, value]) => `${key}: ${value}`).join('\n');
  const config = await trainer(yaml);
  for (const [key, value] of Object.entries(NON_DEFAULT)) assert.deepEqual(config[key], value, key);

  async function trainer(text: string): Promise<Record<string, unknown>> {
    return { ...(await pgTrainer(text)).config };
  }
});

test('pg: pretrainCoef is refused, naming where PPO-ptx runs', async () => {
  await assert.rejects(pgTrainer('pretrainCoef: 1'), /pretrainCoef: `rlaif train pg` takes no pretraining text to replay; PPO-ptx runs in `rlaif run` \(algorithm\.pretrainCoef/);
});

test('dpo online: sampling and iteration knobs come from the schema, nothing re-typed', async () => {
  const build = async (yaml: string) => {
    const trainer = await buildTrainer('dpo', parseRunConfig(dpoConfigSchema, `${RUN}mode: online\n${yaml}`));
    assert.ok(trainer instanceof OnlineDpoTrainer);
    return trainer.config;
  };
  const online = dpoConfigSchema.parse({}).online;
  const fromEmpty = await build('');
  for (const [key, value] of Object.entries(online)) assert.deepEqual(fromEmpty[key as keyof typeof fromEmpty], value, key);
  const set = await build('online:\n  temperature: 0.7\n  samplesPerPrompt: 3\n  epochsPerIteration: 1\n  promptsPerIteration: 5\n  refreshReference: false\n');
  assert.deepEqual([set.temperature, set.samplesPerPrompt, set.epochsPerIteration, set.promptsPerIteration, set.refreshReference], [0.7, 3, 1, 5, false]);
});
