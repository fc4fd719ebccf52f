// Attention head layout without intermediate copies: splitHeads picks a column block of (B, T, W) straight into
// (B, H, T, D); mergeHeads goes back to (B, T, H·D). Each is one copy forward and one scatter-add backward.
// Leaves out: strided views (the engine has none); the attention itself (nn.ts).
import { EngineError } from '../backend.ts';
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
  const X = x.data, out = allocOutput(B * H * T * D);                  // (B, H, T, D)
  for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
    const src = (b * T + t) * W + offset;
    for (let h = 0; h < H; h++) {
      const s = src + h * D, o = ((b * H + h) * T + t) * D;
      for (let d = 0; d < D; d++) out[o + d] = X[s + d];                 // a loop: subarray() costs more for small D
    }
  }
  return makeOutput('splitHeads', out, [B, H, T, D], [x], (o) => {
    const g = o.grad!, gx = x.gradBuffer();
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) {
      const dst = (b * T + t) * W + offset;
      for (let h = 0; h < H; h++) {
        const s = ((b * H + h) * T + t) * D, d0 = dst + h * D;
        for (let d = 0; d < D; d++) gx[d0 + d] += g[s + d];
      }
    }
  });
}

/** (B, H, T, D) → (B, T, H·D): out[b, t, h·D + d] = x[b, h, t, d]. */
export function mergeHeads(x: Tensor): Tensor {
  if (x.rank !== 4) throw new EngineError('mergeHeads', `input must be (B, H, T, D), got ${shapeString(x.shape)}`);
  const [B, H, T, D] = x.shape;
  const X = x.data, out = allocOutput(B * T * H * D);                  // (B, T, H·D)
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const s = ((b * H + h) * T + t) * D, o = (b * T + t) * H * D + h * D;
    for (let d = 0; d < D; d++) out[o + d] = X[s + d];
  }
  return makeOutput('mergeHeads', out, [B, T, H * D], [x], (o) => {
    const g = o.grad!, gx = x.gradBuffer();
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
      const s = ((b * H + h) * T + t) * D, src = (b * T + t) * H * D + h * D;
      for (let d = 0; d < D; d++) gx[s + d] += g[src + d];
    }
  });
}
