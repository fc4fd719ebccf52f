// The matmul-precision knob every trainer's config shares: one schema field (default and description) for the
// policy-gradient schema, `rlaif train`'s schemas and `rlaif run`'s config, and the step wrapper the trainers use.
// Leaves out the arithmetic (engine/precision.ts and the projections in engine/ops/matmul.ts).
import { z } from 'zod';
import type { Backend } from '../engine/backend.ts';
import { getBackend, withMatmulPrecision, type MatmulPrecision } from '../engine/index.ts';

export const precisionSchema = z.enum(['fp32', 'bf16']).default('fp32').describe(
  "matmul precision while training: fp32, or bf16 = mixed precision (projections' forward and input-gradient products " +
  'in bfloat16 with float32 sums: vdpbf16ps where the CPU has AVX512_BF16, a plain path elsewhere; master weights, ' +
  'weight gradients and optimizer state stay float32)');

/** Runs one synchronous forward + backward (+ optimizer step) at the config's precision; absent means fp32. */
export function atPrecision<T>(precision: MatmulPrecision | undefined, fn: () => T): T {
  return withMatmulPrecision(precision ?? 'fp32', fn);
}

/**
 * What a user asking for mixed precision should know when it will not pay here: without AVX512_BF16 (or off the native
 * backend) the bf16 products widen each weight to float32 on the fly, so a step takes longer than at fp32 (1.3x on
 * a Zen 2 with AVX2 only: BENCHMARKS.md) for the same rounding. null at fp32 or where vdpbf16ps runs.
 */
export function precisionNotice(precision: MatmulPrecision | undefined, backend: Pick<Backend, 'name'> & { bf16Kernel?: string } = getBackend()): string | null {
  if (precision !== 'bf16' || backend.bf16Kernel === 'vdpbf16ps') return null;
  const where = backend.name === 'native' ? 'this CPU has no AVX512_BF16' : `the ${backend.name} backend has no bf16 instructions`;
  return `precision bf16: ${where}, so the bf16 products widen the weights to float32 as they go: expect slower steps than at fp32 (the same bf16 rounding)`;
}
