// The matmul-precision knob every trainer's config shares: one schema field (default and description) for the
// policy-gradient schema, `rlaif train`'s schemas and `rlaif run`'s config, and the step wrapper the trainers use.
// Leaves out the arithmetic (engine/precision.ts and the projections in engine/ops/matmul.ts).
import { z } from 'zod';
import { withMatmulPrecision, type MatmulPrecision } from '../engine/index.ts';

export const precisionSchema = z.enum(['fp32', 'bf16']).default('fp32').describe(
  "matmul precision while training: fp32, or bf16 = mixed precision (projections' forward and input-gradient products " +
  'in bfloat16 with float32 sums: vdpbf16ps where the CPU has AVX512_BF16, a plain path elsewhere; master weights, ' +
  'weight gradients and optimizer state stay float32)');

/** Runs one synchronous forward + backward (+ optimizer step) at the config's precision; absent means fp32. */
export function atPrecision<T>(precision: MatmulPrecision | undefined, fn: () => T): T {
  return withMatmulPrecision(precision ?? 'fp32', fn);
}
