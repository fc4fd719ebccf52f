// The precision of the affine projections' matmuls (linear, conv1d) while training: 'fp32', or 'bf16' for mixed
// precision — the forward product and both gradient products on the backend's gemmMixed (operands rounded to
// bfloat16 as they are packed, products summed in float32 into float32 outputs and gradient buffers), with fp32 master
// weights and fp32 optimizer state, as PyTorch's autocast does. Set for a synchronous block with withMatmulPrecision; a
// projection keeps the precision of its forward for its backward.
// Leaves out: bf16 activations kept between ops, bf16 attention and batched matmuls, loss scaling (bf16 keeps fp32's
// exponent range, so gradients do not underflow as in fp16). Mixed precision: Micikevicius et al., arXiv 1710.03740.

export type MatmulPrecision = 'fp32' | 'bf16';

let current: MatmulPrecision = 'fp32';

/** The precision projections use now. */
export function matmulPrecision(): MatmulPrecision {
  return current;
}

/** Runs `fn` (synchronous: forward and backward) with projections at `precision`; restores the previous one. */
export function withMatmulPrecision<T>(precision: MatmulPrecision, fn: () => T): T {
  const previous = current;
  current = precision;
  try {
    const result = fn();
    if (result instanceof Promise) throw new Error('withMatmulPrecision: fn must be synchronous (await outside it)');
    return result;
  } finally {
    current = previous;
  }
}
