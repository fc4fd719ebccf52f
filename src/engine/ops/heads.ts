// Attention head layout without intermediate copies: splitHeads picks a column block of (B, T, W) straight into
// (B, H, T, D); mergeHeads goes back to (B, T, H·D). Each is one copy forward and one scatter-add backward.
// Leaves out: strided views (the engine has none); the attention itself (nn.ts).
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import { allocOutput, makeOutput, shapeString, type Tensor } from '../tensor.ts';

/**
 * Columns [offset, offset + H·D) of x (B, T, W) as heads: out[b, h, t, d] = x[b, t, offset + h·D + d].
 * Splits a fused qkv projection (offset 0, C, 2C) or a plain projection (offset 0).
 */
export function splitHeads(x: Tensor, offset: number, H: number, D: number): Tensor {
  if (x.rank !== 3) throw new EngineError('splitHeads', `input must be (B, T, W), got ${shapeString(x.shape)}`);
  const [B, T, W] = x.shape;
  if (!(Number.isInteger(offset) && offset >= 0 && offset + H * D <= W)) {
    throw new EngineError('splitHeads', `columns [${offset}, ${offset + H * D}) out of range for ${shapeString(x.shape)}`);
  }
  const backend = getBackend();
  const out = allocOutput(B * H * T * D);                               // (B, H, T, D)
  backend.headsLayout(x.data, out, B, T, H, D, W, offset, true, false);
  return makeOutput('splitHeads', out, [B, H, T, D], [x], (o) => {
    backend.headsLayout(o.grad!, x.gradBuffer(), B, T, H, D, W, offset, false, true);
  });
}

/** (B, H, T, D) → (B, T, H·D): out[b, t, h·D + d] = x[b, h, t, d]. */
export function mergeHeads(x: Tensor): Tensor {
  if (x.rank !== 4) throw new EngineError('mergeHeads', `input must be (B, H, T, D), got ${shapeString(x.shape)}`);
  const [B, H, T, D] = x.shape;
  const backend = getBackend();
  const out = allocOutput(B * T * H * D);                               // (B, T, H·D)
  backend.headsLayout(x.data, out, B, T, H, D, H * D, 0, false, false);
  return makeOutput('mergeHeads', out, [B, T, H * D], [x], (o) => {
    const { grad, beta } = x.gradForOverwrite(); // the copy covers every element: no zero-fill needed first
    backend.headsLayout(o.grad!, grad, B, T, H, D, H * D, 0, true, beta === 1);
  });
}
