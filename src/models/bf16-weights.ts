// bf16 weights for generation: which of a model's parameters are held in bfloat16 (every matrix but GPT-2's position
// table), and the conversion of a float32 model or of one checkpoint tensor into them ((out, in) layout, GPT-2's
// Conv1D weights transposed once at load). Halves the bytes a decode step streams; training stays float32.
// Leaves out: mixed-precision training, bf16 norms/biases (small, read once per token anyway).
import { type Bf16Matrix, f32ToBf16 } from '../engine/index.ts';
import type { TransformerConfig } from './config.ts';
import { expectedParameters } from './parameters.ts';
import { isConv1dWeight, Transformer } from './transformer.ts';

/** Names of the parameters a bf16 model holds in bf16: every 2-D weight except the learned position table. */
export function bf16WeightNames(config: TransformerConfig): Set<string> {
  const names = new Set<string>();
  for (const [name, shape] of expectedParameters(config)) {
    if (shape.length === 2 && name !== 'wpe.weight') names.add(name);
  }
  return names;
}

/**
 * One stored tensor (shape as in the checkpoint) as a bf16 (out, in) matrix: bits are used as they are for
 * (out, in) tensors (no copy), transposed into a new bf16 buffer for GPT-2's Conv1D (in, out) ones. Float32 input
 * is rounded to nearest even.
 */
export function toBf16Matrix(config: TransformerConfig, name: string, data: Float32Array | Uint16Array,
  shape: readonly number[]): Bf16Matrix {
  const bits = data instanceof Uint16Array ? data : f32ToBf16(data);
  const [r, c] = shape;
  if (!isConv1dWeight(config, name)) return { bits, rows: r, cols: c };
  const out = new Uint16Array(r * c);                                      // (out = c, in = r)
  for (let i = 0; i < r; i++) for (let j = 0; j < c; j++) out[j * r + i] = bits[i * c + j];
  return { bits: out, rows: c, cols: r };
}

/** A generation-only copy of `model` with its matrices in bf16 (norms, biases and positions stay float32). */
export function toBf16Weights(model: Transformer): Transformer {
  const names = bf16WeightNames(model.config);
  const params = new Map(), bf16 = new Map<string, Bf16Matrix>(model.bf16Weights());
  for (const [name, tensor] of model.parameters()) {
    if (names.has(name)) bf16.set(name, toBf16Matrix(model.config, name, tensor.data, tensor.shape));
    else params.set(name, tensor);
  }
  const copy = new Transformer(model.config, params, bf16);
  copy.adapter = model.adapter;
  return copy;
}
