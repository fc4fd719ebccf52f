// Ops on bf16 weights, for generation only: y = x Wᵀ + bias with W (out, in) in bfloat16 (the backend's gemmBf16:
// x rounded to bf16, products summed in float32), and an embedding lookup from a bf16 table. No gradients: the
// weights are frozen, and an input that needs a gradient is an error rather than a silent stop of the graph.
// Leaves out: mixed-precision training (fp32 master weights: precision.ts and matmul.ts), bf16 activations between ops.
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import type { Bf16Matrix } from '../bf16.ts';
import { allocOutput, isGradEnabled, makeOutput, shapeString, type Tensor } from '../tensor.ts';

function checkMatrix(op: string, w: Bf16Matrix): void {
  if (!(w.bits instanceof Uint16Array) || w.bits.length !== w.rows * w.cols) {
    throw new EngineError(op, `bf16 weight holds ${w.bits?.length} values, (rows, cols) = (${w.rows}, ${w.cols}) needs ${w.rows * w.cols}`);
  }
}

/** y (..., out) = x (..., in) Wᵀ + bias (out); W (out, in) in bf16. Generation only (no gradient). */
export function linearBf16(x: Tensor, weight: Bf16Matrix, bias?: Tensor | null): Tensor {
  checkMatrix('linearBf16', weight);
  const { rows: N, cols: K } = weight;
  if (x.rank < 1 || x.shape[x.rank - 1] !== K) {
    throw new EngineError('linearBf16', `input ${shapeString(x.shape)} does not end in ${K} (bf16 weight (${N}, ${K}))`);
  }
  if (bias && (bias.rank !== 1 || bias.size !== N)) {
    throw new EngineError('linearBf16', `bias ${shapeString(bias.shape)} does not match ${N} outputs`);
  }
  if (isGradEnabled() && (x.requiresGrad || bias?.requiresGrad)) {
    throw new EngineError('linearBf16', 'bf16 weights are for generation and pass no gradient: run under noGrad()');
  }
  const backend = getBackend();
  const M = x.size / Math.max(K, 1);
  const out = allocOutput(M * N);                                            // (M, N)
  backend.gemmBf16(x.data, weight.bits, out, M, N, K);
  if (bias) backend.biasAdd(out, bias.data, M, N);
  return makeOutput('linearBf16', out, [...x.shape.slice(0, -1), N], []);
}

/** Rows of a bf16 table (V, D) for ids → (...idsShape, D) float32. */
export function embeddingBf16(table: Bf16Matrix, ids: Int32Array, idsShape: readonly number[] = [ids.length]): Tensor {
  checkMatrix('embeddingBf16', table);
  const { rows: V, cols: D } = table;
  const n = ids.length;
  if (idsShape.reduce((p, d) => p * d, 1) !== n) throw new EngineError('embeddingBf16', `ids shape ${shapeString(idsShape)} does not hold ${n} ids`);
  const out = allocOutput(n * D);                                            // (n, D)
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < n; i++) {
    const id = ids[i];
    if (!(id >= 0 && id < V)) throw new EngineError('embeddingBf16', `id ${id} at index ${i} is outside [0, ${V})`);
    for (let j = 0; j < D; j++) outBits[i * D + j] = table.bits[id * D + j] << 16;
  }
  return makeOutput('embeddingBf16', out, [...idsShape, D], []);
}
