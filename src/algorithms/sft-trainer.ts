// Supervised fine-tuning on (prompt, response) token pairs, loss on response tokens only, right-padded batches: one
// step (sftStep) and a resumable trainer over a dataset (SftTrainer); also Constitutional AI's supervised stage
// (arXiv 2212.08073) trains through sftStep; conversations come in through chat-sft.ts (assistant turns as lossMask).
// Leaves out: packing.
import { AdamW, backward, crossEntropy, scope, type Tensor } from '../engine/index.ts';
import type { Transformer } from '../models/transformer.ts';
import { DatasetTrainer } from './dataset-trainer.ts';
import { atPrecision } from './precision-config.ts';
import type { MatmulPrecision } from '../engine/index.ts';
import { restoreTrainer, saveTrainer, StageTimer, type StepRecord } from './training-run.ts';

export interface SftExample {
  prompt: Int32Array;    // (P,) context tokens (no loss)
  response: Int32Array;  // (R,) target tokens (loss), stop token included when the model should learn to stop
  lossMask?: Uint8Array; // (R,) 1 = response[r] is a target (default all): multi-turn chats mask the user turns
}

export interface SftBatch {
  B: number;
  T: number;
  tokens: Int32Array;    // (B, T) prompt + response, right-padded with 0
  keyMask: Float32Array; // (B, T) 1 = real token
  targets: Int32Array;   // (B, T) tokens[t+1] where that token is a response token, else -100
}

/** Lays examples out as one right-padded batch with response-only targets. */
export function sftBatch(examples: SftExample[]): SftBatch {
  const B = examples.length, T = Math.max(...examples.map((e) => e.prompt.length + e.response.length));
  const tokens = new Int32Array(B * T), keyMask = new Float32Array(B * T), targets = new Int32Array(B * T).fill(-100);
  examples.forEach((e, b) => {
    const P = e.prompt.length, R = e.response.length;
    tokens.set(e.prompt, b * T);
    tokens.set(e.response, b * T + P);
    keyMask.fill(1, b * T, b * T + P + R);
    for (let r = 0; r < R; r++) if (!e.lossMask || e.lossMask[r]) targets[b * T + P - 1 + r] = e.response[r];
  });
  return { B, T, tokens, keyMask, targets };
}

/** Mean cross-entropy over response tokens of a batch (with gradient). */
export function sftLoss(model: Transformer, batch: SftBatch): Tensor {
  const logits = model.forward(batch.tokens, [batch.B, batch.T], { keyMask: batch.keyMask }); // (B, T, V)
  return crossEntropy(logits, batch.targets);                                                // ()
}

/** One optimizer step of SFT; returns the loss and gradient norm. */
export function sftStep(model: Transformer, optimizer: AdamW, examples: SftExample[], maxGradNorm = 1): { loss: number; gradNorm: number } {
  return scope(() => {
    optimizer.zeroGrad();
    const loss = sftLoss(model, sftBatch(examples));
    backward(loss);
    const { gradNorm } = optimizer.step({ maxGradNorm });
    return { loss: loss.item(), gradNorm };
  });
}

export interface SftTrainerConfig {
  learningRate: number;
  batchSize: number;     // examples per optimizer step
  maxGradNorm: number;
  seed: number;          // epoch shuffles
  precision?: MatmulPrecision; // matmuls while training (precision-config.ts; absent: fp32)
}

/** SFT over a fixed dataset as a resumable trainer (step, data position, checkpoints) for the training loop. */
export class SftTrainer extends DatasetTrainer {
  readonly optimizer: AdamW;
  readonly trainable: Map<string, Tensor>;

  constructor(readonly model: Transformer, readonly examples: SftExample[], readonly config: SftTrainerConfig) {
    super();
    if (examples.length === 0) throw new Error('sft: no examples');
    examples.forEach((e, i) => {
      if (e.prompt.length === 0 || e.response.length === 0) throw new Error(`sft: example ${i}: field '${e.prompt.length === 0 ? 'prompt' : 'response'}' is empty`);
      if (e.lossMask && (e.lossMask.length !== e.response.length || !e.lossMask.includes(1))) throw new Error(`sft: example ${i}: lossMask must have one flag per response token and at least one 1`);
    });
    this.trainable = new Map([...model.parameters()].filter(([, t]) => t.requiresGrad));
    this.optimizer = new AdamW([...this.trainable.values()], { lr: config.learningRate, weightDecay: 0 });
  }

  async trainStep(): Promise<StepRecord> {
    const timer = new StageTimer(), c = this.config;
    const batch = this.nextBatch(this.examples, c.batchSize, c.seed);
    const tokens = batch.reduce((a, e) => a + e.prompt.length + e.response.length, 0);
    const { loss, gradNorm } = await timer.run('update', () => atPrecision(c.precision, () => sftStep(this.model, this.optimizer, batch, c.maxGradNorm)), tokens);
    this.step++;
    return { step: this.step, metrics: { loss, gradNorm }, stages: timer.stages };
  }

  save(dir: string): void {
    saveTrainer(dir, this, this.trainingState(this.config.seed));
  }

  load(dir: string): void {
    restoreTrainer(dir, this);
  }
}
