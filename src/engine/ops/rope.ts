// Rotary position embedding (RoFormer, Su et al., arXiv 2104.09864) in Hugging Face's rotate_half convention:
// out = x · cos + rotate_half(x) · sin, rotate_half(x) = [−x₂, x₁] over the two halves of the head.
// Leaves out: the interleaved (GPT-J) pairing; computing the tables (ropeTables does that once per model).
import { EngineError } from '../backend.ts';
import { allocOutput, makeOutput, shapeString, type Tensor } from '../tensor.ts';

/** cos and sin tables (positions, D/2) for inverse frequencies invFreq (D/2), computed in float64. */
export function ropeTables(positions: number, invFreq: ArrayLike<number>): { cos: Float32Array; sin: Float32Array } {
  const half = invFreq.length;
  const cos = new Float32Array(positions * half), sin = new Float32Array(positions * half);   // (P, D/2)
  for (let p = 0; p < positions; p++) for (let i = 0; i < half; i++) {
    const angle = Math.fround(p * Math.fround(invFreq[i]));   // float32 product, as Hugging Face computes it
    cos[p * half + i] = Math.cos(angle);
    sin[p * half + i] = Math.sin(angle);
  }
  return { cos, sin };
}

/**
 * Rotates x (B, H, T, D) by the angles of positions (B·T), using tables cos, sin (P, D/2) from ropeTables.
 * The backward is the inverse rotation of the gradient.
 */
export function rope(x: Tensor, positions: Int32Array, cos: Float32Array, sin: Float32Array): Tensor {
  if (x.rank !== 4) throw new EngineError('rope', `input must be (B, H, T, D), got ${shapeString(x.shape)}`);
  const [B, H, T, D] = x.shape;
  const half = D / 2;
  if (D % 2 !== 0) throw new EngineError('rope', `head size ${D} must be even`);
  if (positions.length !== B * T) throw new EngineError('rope', `${positions.length} positions for (B, T) = (${B}, ${T})`);
  const P = cos.length / Math.max(half, 1);
  for (let i = 0; i < positions.length; i++) {
    if (positions[i] < 0 || positions[i] >= P) throw new EngineError('rope', `position ${positions[i]} at index ${i} outside the table [0, ${P})`);
  }
  const X = x.data, out = allocOutput(x.size);                         // (B, H, T, D)
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
    const o = ((b * H + h) * T + t) * D, c = positions[b * T + t] * half;
    for (let i = 0; i < half; i++) {
      const x1 = X[o + i], x2 = X[o + half + i], cv = cos[c + i], sv = sin[c + i];
      out[o + i] = x1 * cv - x2 * sv;
      out[o + half + i] = x2 * cv + x1 * sv;
    }
  }
  return makeOutput('rope', out, x.shape, [x], (res) => {
    const g = res.grad!, gx = x.gradBuffer();
    for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) for (let t = 0; t < T; t++) {
      const o = ((b * H + h) * T + t) * D, c = positions[b * T + t] * half;
      for (let i = 0; i < half; i++) {
        const g1 = g[o + i], g2 = g[o + half + i], cv = cos[c + i], sv = sin[c + i];
        gx[o + i] += g1 * cv + g2 * sv;
        gx[o + half + i] += g2 * cv - g1 * sv;
      }
    }
  });
}
