// The policy-gradient config schema: optimizer steps per rollout are what the config says for each algorithm
// (epochs × minibatches for the ratio-clipped ppo/grpo, one pass for the ratio-free reinforce/rloo), epochs > 1 for a
// ratio-free loss is an error naming the key, and every knob carries a description.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { aggregationOf, POLICY_GRADIENT_ALGORITHMS, policyGradientConfig, policyGradientShape, RATIO_FREE } from './policy-gradient-config.ts';
import { PolicyGradientTrainer, type PolicyGradientConfig } from './policy-gradient-trainer.ts';
import { frozenCopy, trainableCopy } from './reference-model.ts';
import { programmaticReward } from './reward-sources.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';

const base = pretrainDigitPolicy(0, 1); // untrained: the step count does not depend on what the model knows

/** Runs one trainStep and counts the optimizer steps it took. */
async function optimizerStepsPerRollout(config: PolicyGradientConfig): Promise<number> {
  const trainer = new PolicyGradientTrainer({ config, policy: trainableCopy(base), reference: frozenCopy(base),
    prompts: [{ text: '', tokens: Int32Array.of(BOS) }], decode: decodeDigits, reward: programmaticReward('sorted', sortedReward) });
  let steps = 0;
  const step = trainer.optimizer.step.bind(trainer.optimizer);
  trainer.optimizer.step = (options) => { steps++; return step(options); };
  await trainer.trainStep();
  return steps;
}

describe('policy-gradient config', () => {
  for (const algorithm of POLICY_GRADIENT_ALGORITHMS) {
    test(`${algorithm}: optimizer steps per rollout follow the config (default epochs, 3 minibatches)`, async () => {
      const config = policyGradientConfig({ algorithm, promptsPerStep: 2, groupSize: 3, minibatches: 3,
        maxNewTokens: RESPONSE_DIGITS + 1, stopToken: EOS });
      const passes = RATIO_FREE.has(algorithm) ? 1 : 2;
      assert.equal(config.epochs, passes, 'epochs: null resolves to the algorithm\'s own passes');
      assert.equal(await optimizerStepsPerRollout(config), passes * 3);
    });
  }

  test('ppo and grpo take the configured epochs', async () => {
    for (const algorithm of ['ppo', 'grpo'] as const) {
      const config = policyGradientConfig({ algorithm, promptsPerStep: 1, groupSize: 2, epochs: 3, minibatches: 2, maxNewTokens: 3 });
      assert.equal(await optimizerStepsPerRollout(config), 6, algorithm);
    }
  });

  test('reinforce and rloo reject epochs > 1, from the schema and from a hand-built config', () => {
    for (const algorithm of ['reinforce', 'rloo'] as const) {
      assert.throws(() => policyGradientConfig({ algorithm, epochs: 2 }), new RegExp(`epochs: ${algorithm} has no importance ratio`));
      const handBuilt = { ...policyGradientConfig({ algorithm }), epochs: 2 };
      assert.throws(() => new PolicyGradientTrainer({ config: handBuilt, policy: trainableCopy(base), reference: frozenCopy(base),
        prompts: [], decode: decodeDigits, reward: programmaticReward('sorted', sortedReward) }), /epochs: .*no importance ratio/);
    }
    assert.equal(policyGradientConfig({ algorithm: 'rloo', epochs: 1 }).epochs, 1);
  });

  test('rloo and grpo need a group; unknown keys are errors', () => {
    assert.throws(() => policyGradientConfig({ algorithm: 'grpo', groupSize: 1 }), /groupSize: grpo needs groupSize ≥ 2/);
    assert.throws(() => policyGradientConfig({ epoch: 2 } as never), /Unrecognized key/);
  });

  test('aggregation null follows the algorithm, also in a config spread into another algorithm', () => {
    assert.equal(aggregationOf(policyGradientConfig({ algorithm: 'ppo' })), 'token-mean');
    assert.equal(aggregationOf({ ...policyGradientConfig({ algorithm: 'rloo' }), algorithm: 'grpo' }), 'seq-mean-token-mean');
    assert.equal(aggregationOf(policyGradientConfig({ algorithm: 'grpo', aggregation: 'token-mean' })), 'token-mean');
  });

  test('every knob has a description', () => {
    for (const [key, schema] of Object.entries(policyGradientShape)) assert.ok(schema.description && schema.description.length > 10, key);
  });
});
