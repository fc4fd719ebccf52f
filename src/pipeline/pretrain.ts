// Language-model pretraining on a token stream: next-token cross-entropy on fixed-length windows, AdamW.
// Windows are picked by an integer hash of (step, row) so the PyTorch comparison script sees the same batches.
// Leaves out: packing documents, schedules beyond constant/warmup-cosine (see engine/optim.ts), evaluation suites.
import { AdamW, backward, crossEntropy, noGrad, scope, warmupCosine } from '../engine/index.ts';
import type { Transformer } from '../models/transformer.ts';

/** 32-bit integer hash (murmur3 finalizer over (i + 1) · golden ratio); identical in scripts/torch-train-compare.py. */
export function mix32(i: number): number {
  let x = Math.imul(i + 1, 0x9e3779b1) >>> 0;
  x ^= x >>> 16;
  x = Math.imul(x, 0x85ebca6b) >>> 0;
  x ^= x >>> 13;
  x = Math.imul(x, 0xc2b2ae35) >>> 0;
  x ^= x >>> 16;
  return x >>> 0;
}

export interface LmBatch {
  inputs: Int32Array;   // (B, T) token ids
  targets: Int32Array;  // (B, T) the next token at each position
}

/** The batch for a step: B windows of T + 1 tokens starting at hashed offsets (salt separates train/held-out). */
export function lmBatch(tokens: Int32Array, step: number, B: number, T: number, salt = 0): LmBatch {
  if (tokens.length < T + 2) throw new Error(`lmBatch: ${tokens.length} tokens cannot fill a window of ${T + 1}`);
  const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
  for (let b = 0; b < B; b++) {
    const start = mix32(salt * 1_000_003 + step * B + b) % (tokens.length - T - 1);
    inputs.set(tokens.subarray(start, start + T), b * T);
    targets.set(tokens.subarray(start + 1, start + T + 1), b * T);
  }
  return { inputs, targets };
}

export interface PretrainOptions {
  steps: number;
  batchSize: number;          // B
  contextLength: number;      // T
  lr: number;
  weightDecay: number;
  warmupSteps?: number;       // when set, warmup + cosine to lr/10 over `steps`; otherwise constant lr
  maxGradNorm?: number;
  startStep?: number;         // resume: the step to continue from (batches depend on the step number)
  optimizer?: AdamW;          // resume: an optimizer whose state was restored
  onStep?: (step: number, loss: number, milliseconds: number) => void;
}

export interface PretrainResult {
  losses: number[];           // training loss per step
  stepMilliseconds: number[]; // wall time per step (forward + backward + optimizer)
  optimizer: AdamW;
}

/** Trains every parameter of the model on next-token prediction. */
export function pretrainLm(model: Transformer, tokens: Int32Array, options: PretrainOptions): PretrainResult {
  const params = [...model.parameters().values()];
  const optimizer = options.optimizer ?? new AdamW(params, { lr: options.lr, weightDecay: options.weightDecay });
  const { batchSize: B, contextLength: T } = options;
  const losses: number[] = [], stepMilliseconds: number[] = [];
  for (let step = options.startStep ?? 0; step < options.steps; step++) {
    const t0 = performance.now();
    const { inputs, targets } = lmBatch(tokens, step, B, T);
    if (options.warmupSteps !== undefined) {
      optimizer.lr = warmupCosine({ maxLr: options.lr, warmupSteps: options.warmupSteps, totalSteps: options.steps }, step);
    }
    const loss = scope(() => {
      optimizer.zeroGrad();
      const l = crossEntropy(model.forward(inputs, [B, T]), targets);
      backward(l);
      return l.item();
    });
    optimizer.step({ maxGradNorm: options.maxGradNorm });
    const ms = performance.now() - t0;
    losses.push(loss);
    stepMilliseconds.push(ms);
    options.onStep?.(step, loss, ms);
  }
  return { losses, stepMilliseconds, optimizer };
}

/** Mean next-token loss over `batches` held-out batches (salt 1), without gradients. */
export function evaluateLm(model: Transformer, tokens: Int32Array, batches: number, B: number, T: number): number {
  let total = 0;
  for (let k = 0; k < batches; k++) {
    const { inputs, targets } = lmBatch(tokens, k, B, T, 1);
    total += noGrad(() => scope(() => crossEntropy(model.forward(inputs, [B, T]), targets).item()));
  }
  return total / batches;
}
