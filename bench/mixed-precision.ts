// Mixed-precision training (bf16 projections, fp32 master weights and optimizer state) against fp32 on the reference
// tiny GPT: the train step's median time, interleaved round by round with fp32 so load falls on both alike, and the
// held-out loss after 300 steps on the shipped corpus for each (evaluated in fp32), from the same seed and batches.
// Run: node --import tsx bench/mixed-precision.ts [rounds] (also the engine section of npm run bench). Leaves out other sizes.
import { readFileSync } from 'node:fs';
import { withMatmulPrecision, type MatmulPrecision } from '../src/engine/index.ts';
import { initParameters } from '../src/models/parameters.ts';
import { tinyGptConfig } from '../src/models/presets.ts';
import { CharTokenizer } from '../src/models/tokenizer.ts';
import { Transformer } from '../src/models/transformer.ts';
import { evaluateLm, pretrainLm } from '../src/pipeline/pretrain.ts';
import { trainStepMs } from './train-step.ts';

const median = (values: number[]): number => [...values].sort((a, b) => a - b)[Math.floor(values.length / 2)];

/** Median step ms of fp32 and bf16 over `rounds` interleaved rounds of 10 timed steps each, and the median ratio. */
export function stepTimes(rounds: number): { fp32: number; bf16: number; ratio: number } {
  const fp32: number[] = [], bf16: number[] = [], ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const a = trainStepMs(10), b = trainStepMs(10, { precision: 'bf16' });
    fp32.push(a); bf16.push(b); ratios.push(b / a);
  }
  return { fp32: median(fp32), bf16: median(bf16), ratio: median(ratios) };
}

/** Held-out loss (fp32 evaluation, 8 batches of 16 × 64 past the training tokens) after `steps` at `precision`. */
export function heldOutLossAfter(steps: number, precision: MatmulPrecision): number {
  const text = readFileSync(new URL('../data/tiny-world.txt', import.meta.url), 'utf8');
  const tokens = Int32Array.from(new CharTokenizer().encode(text));
  const split = Math.floor(tokens.length * 0.9);
  const config = tinyGptConfig();
  const model = new Transformer(config, initParameters(config, 0));
  withMatmulPrecision(precision, () => pretrainLm(model, tokens.subarray(0, split), { steps, batchSize: 16, contextLength: config.maxPositions, lr: 1e-3, weightDecay: 0.01 }));
  return evaluateLm(model, tokens.subarray(split), 8, 16, config.maxPositions);
}

export function runMixedPrecisionBench(options: { rounds?: number; steps?: number } = {}): void {
  const times = stepTimes(options.rounds ?? 5);
  console.log(`RESULT train_step_ms_native_bf16 ${times.bf16.toFixed(2)}`);
  console.log(`RESULT train_step_ms_native_fp32_interleaved ${times.fp32.toFixed(2)}`);
  console.log(`RESULT ratio_train_step_native_bf16_over_fp32 ${times.ratio.toFixed(3)}`);
  const steps = options.steps ?? 300;
  const fp32 = heldOutLossAfter(steps, 'fp32'), bf16 = heldOutLossAfter(steps, 'bf16');
  console.log(`RESULT heldout_loss_${steps}_fp32 ${fp32.toFixed(4)}`);
  console.log(`RESULT heldout_loss_${steps}_bf16 ${bf16.toFixed(4)}`);
  console.log(`RESULT ratio_heldout_loss_bf16_over_fp32 ${(bf16 / fp32).toFixed(4)}`);
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) runMixedPrecisionBench({ rounds: Number(process.argv[2] ?? 5) });
