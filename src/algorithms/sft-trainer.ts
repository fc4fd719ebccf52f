// Supervised fine-tuning on (prompt, response) token pairs with the loss on response tokens only (prompt tokens are
// context, not targets), right-padded batches. Also the supervised stage of Constitutional AI (arXiv 2212.08073):
// fine-tune on critique–revision outputs. Leaves out: packing, chat templates (the tokenizer applies those first).
import { AdamW, backward, crossEntropy, scope, type Tensor } from '../engine/index.ts';
import type { Transformer } from '../models/transformer.ts';

export interface SftExample {
  prompt: Int32Array;    // (P,) context tokens (no loss)
  response: Int32Array;  // (R,) target tokens (loss), stop token included when the model should learn to stop
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
    for (let r = 0; r < R; r++) targets[b * T + P - 1 + r] = e.response[r];
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
