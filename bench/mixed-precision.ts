// Mixed-precision training (bf16 projections, fp32 master weights and optimizer state) against fp32 on the reference
// tiny GPT: the train step's median time, interleaved round by round with fp32 so load falls on both alike, and the
// held-out loss after 300 steps on the shipped corpus for each (evaluated in fp32), from the same seed and batches,
// beside the noise floor: fp32 again from the same initial weights perturbed by one part in 1000.
// Recipe: AdamW lr 1e-3 with 30 warmup steps and cosine decay to lr/10 at step 300. Under the constant lr used before,
// step 300 falls in the middle of the loss's sharp drop, so any perturbation moves it by several percent (fp32 from a
// 1e-3-perturbed init: -2% to +10% on seeds 0-2; BENCHMARKS.md): no yardstick for a 2% bar.
// Run: node --import tsx bench/mixed-precision.ts [rounds] [seeds, e.g. 0,1,2 | none] (rounds 0: losses only; none:
// step times only; also the engine section of npm run bench). Leaves out other sizes.
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

export interface HeldOutOptions {
  steps: number;
  precision: MatmulPrecision;
  seed?: number;              // initial weights (default 0); the batches are the same for every seed
  perturbation?: number;      // each initial weight times (1 + perturbation u), u uniform in [-1, 1) (default 0)
}

/** Held-out loss (fp32 evaluation, 8 batches of 16 × 64 past the training tokens) after `steps` at `precision`. */
export function heldOutLossAfter(options: HeldOutOptions): number {
  const text = readFileSync(new URL('../data/tiny-world.txt', import.meta.url), 'utf8');
  const tokens = Int32Array.from(new CharTokenizer().encode(text));
  const split = Math.floor(tokens.length * 0.9);
  const config = tinyGptConfig();
  const model = new Transformer(config, initParameters(config, options.seed ?? 0));
  if (options.perturbation) {
    let state = 0x9e3779b9;                                                 // xorshift32: fixed, independent of the seed
    for (const parameter of model.parameters().values()) {
      const data = parameter.data;
      for (let i = 0; i < data.length; i++) {
        state ^= state << 13; state ^= state >>> 17; state ^= state << 5;
        data[i] *= 1 + options.perturbation * ((state >>> 0) / 2 ** 31 - 1);
      }
    }
  }
  const { steps } = options;
  withMatmulPrecision(options.precision, () => pretrainLm(model, tokens.subarray(0, split),
    { steps, batchSize: 16, contextLength: config.maxPositions, lr: 1e-3, weightDecay: 0.01, warmupSteps: Math.round(steps / 10) }));
  return evaluateLm(model, tokens.subarray(split), 8, 16, config.maxPositions);
}

export function runMixedPrecisionBench(options: { rounds?: number; steps?: number; seeds?: number[] } = {}): void {
  const rounds = options.rounds ?? 5;
  if (rounds > 0) {
    const times = stepTimes(rounds);
    console.log(`RESULT train_step_ms_native_bf16 ${times.bf16.toFixed(2)}`);
    console.log(`RESULT train_step_ms_native_fp32_interleaved ${times.fp32.toFixed(2)}`);
    console.log(`RESULT ratio_train_step_native_bf16_over_fp32 ${times.ratio.toFixed(3)}`);
  }
  const steps = options.steps ?? 300;
  for (const seed of options.seeds ?? [0]) {
    const suffix = seed === 0 ? '' : `_seed${seed}`;
    const fp32 = heldOutLossAfter({ steps, precision: 'fp32', seed });
    const bf16 = heldOutLossAfter({ steps, precision: 'bf16', seed });
    const perturbed = heldOutLossAfter({ steps, precision: 'fp32', seed, perturbation: 1e-3 });
    console.log(`RESULT heldout_loss_${steps}_fp32${suffix} ${fp32.toFixed(4)}`);
    console.log(`RESULT heldout_loss_${steps}_bf16${suffix} ${bf16.toFixed(4)}`);
    console.log(`RESULT heldout_loss_${steps}_fp32_perturbed${suffix} ${perturbed.toFixed(4)}`);
    console.log(`RESULT ratio_heldout_loss_bf16_over_fp32${suffix} ${(bf16 / fp32).toFixed(4)}`);
    console.log(`RESULT ratio_heldout_loss_fp32_perturbed_over_fp32${suffix} ${(perturbed / fp32).toFixed(4)}`);
  }
}

if (process.argv[1] && new URL(import.meta.url).pathname === process.argv[1]) {
  const seeds = process.argv[3] === 'none' ? [] : process.argv[3] ? process.argv[3].split(',').map(Number) : undefined;
  if (seeds?.some((seed) => !Number.isInteger(seed) || seed < 0)) throw new Error(`mixed-precision bench: seeds must be integers >= 0, got ${process.argv[3]}`);
  runMixedPrecisionBench({ rounds: Number(process.argv[2] ?? 5), seeds });
}
