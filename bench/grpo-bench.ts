// One GRPO step on the reference tiny GPT (vocab 96, d_model 128, 4 layers, 4 heads): 8 prompts × 8 samples × 64 new
// tokens, rollout through the KV cache, timed per stage. 64 new tokens after a 4-token prompt need 68 positions, more
// than the preset's 64-token context, so the bench builds it with maxPositions 128 (n_positions = 128).
import { frozenCopy } from '../src/algorithms/reference-model.ts';
import { policyGradientConfig, PolicyGradientTrainer } from '../src/algorithms/policy-gradient-trainer.ts';
import { programmaticReward } from '../src/algorithms/reward-sources.ts';
import { initParameters } from '../src/models/parameters.ts';
import { tinyGptConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';

export async function runGrpoBench(): Promise<void> {
  const config = tinyGptConfig({ contextLength: 128 });
  const policy = new Transformer(config, initParameters(config, 1));
  const prompts = Array.from({ length: 8 }, (_, i) => ({ text: `p${i}`, tokens: Int32Array.from([1, 2 + i, 3 + i, 4 + i]) }));
  const trainer = new PolicyGradientTrainer({
    config: policyGradientConfig({ algorithm: 'grpo', promptsPerStep: 8, groupSize: 8, maxNewTokens: 64, learningRate: 1e-5,
      epochs: 1, minibatches: 1, klCoef: 0.04, klHorizon: 10000, seed: 1 }),
    policy, reference: frozenCopy(policy), prompts, decode: (ids) => Array.from(ids).join(' '),
    reward: programmaticReward('even-tokens', (_p, response) => response.split(' ').filter((t) => Number(t) % 2 === 0).length / 64),
  });
  await trainer.trainStep(); // warm-up (pools, JIT)
  const runs = 3, totals: Record<string, number> = {};
  let stepMs = 0;
  for (let r = 0; r < runs; r++) {
    const start = performance.now();
    const record = await trainer.trainStep();
    stepMs += performance.now() - start;
    for (const [stage, timing] of Object.entries(record.stages)) totals[stage] = (totals[stage] ?? 0) + timing.ms;
  }
  console.log(`RESULT grpo_step_ms ${(stepMs / runs).toFixed(1)}`);
  for (const [stage, ms] of Object.entries(totals)) console.log(`RESULT grpo_stage_${stage}_ms ${(ms / runs).toFixed(1)}`);
}

if (import.meta.url === `file://${process.argv[1]}`) await runGrpoBench();
