// Scalar heads on the transformer's final hidden states: a reward model reads the value at each sequence's last
// real token (as Hugging Face's *ForSequenceClassification `score` head does); a value function reads every token.
// Leaves out: multi-label heads, the losses that train them (src/algorithms).
import { EngineError, indexSelect, linear, parameter, reshape, Rng, type Tensor } from '../engine/index.ts';
import type { ForwardOptions, Transformer } from './transformer.ts';

export interface ScalarHeadOptions {
  name?: string;    // parameter prefix: 'score' (HF sequence classification, default) or e.g. 'v_head.summary' (TRL)
  bias?: boolean;   // default false, as HF's score head
  seed?: number;    // weights N(0, 1/sqrt(C)) from this seed (default 0)
}

export class ScalarHead {
  readonly weight: Tensor;        // (1, C)
  readonly bias: Tensor | null;   // (1)
  readonly name: string;

  constructor(readonly hiddenSize: number, options: ScalarHeadOptions = {}) {
    this.name = options.name ?? 'score';
    const rng = new Rng(options.seed ?? 0);
    this.weight = parameter(rng.fillNormal(new Float32Array(hiddenSize), 0, 1 / Math.sqrt(hiddenSize)), [1, hiddenSize], `${this.name}.weight`);
    this.bias = options.bias ? parameter(new Float32Array(1), [1], `${this.name}.bias`) : null;
  }

  parameters(): Map<string, Tensor> {
    const out = new Map([[`${this.name}.weight`, this.weight]]);
    if (this.bias) out.set(`${this.name}.bias`, this.bias);
    return out;
  }

  /** One scalar per position: hidden (B, T, C) → (B, T). */
  forward(hidden: Tensor): Tensor {
    if (hidden.rank !== 3 || hidden.shape[2] !== this.hiddenSize) {
      throw new EngineError('ScalarHead', `hidden must be (B, T, ${this.hiddenSize}), got [${hidden.shape.join(', ')}]`);
    }
    const [B, T] = hidden.shape;
    return reshape(linear(hidden, this.weight, this.bias), [B, T]);        // (B, T)
  }
}

/** Index of the last real token of each row of keyMask (B, T); a row with none is an error. */
export function lastTokenIndex(keyMask: Float32Array | null, B: number, T: number): Int32Array {
  const last = new Int32Array(B).fill(T - 1);                              // (B)
  if (!keyMask) return last;
  for (let b = 0; b < B; b++) {
    let at = -1;
    for (let t = 0; t < T; t++) if (keyMask[b * T + t] !== 0) at = t;
    if (at < 0) throw new EngineError('lastTokenIndex', `row ${b} of the key mask has no real token`);
    last[b] = at;
  }
  return last;
}

/** Reward model: one score per sequence, read at its last real token (left or right padding). (B) */
export function sequenceScores(model: Transformer, head: ScalarHead, ids: Int32Array, shape: [number, number],
  options: ForwardOptions = {}): Tensor {
  const [B, T] = shape;
  const values = head.forward(model.hidden(ids, shape, { ...options, lastOnly: false }));  // (B, T)
  const last = lastTokenIndex(options.keyMask ?? null, B, T);
  const flat = reshape(values, [B * T]);                                   // (B·T)
  return indexSelect(flat, 0, last.map((t, b) => b * T + t));              // (B)
}

/** Value function: one value per token. (B, T) */
export function tokenValues(model: Transformer, head: ScalarHead, ids: Int32Array, shape: [number, number],
  options: ForwardOptions = {}): Tensor {
  return head.forward(model.hidden(ids, shape, { ...options, lastOnly: false }));  // (B, T)
}
