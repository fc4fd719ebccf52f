// Matrix products on the backend GEMM: matmul (both transposes, batched, 2-D right operand broadcast), and the affine
// projections linear (weight (out, in)) and conv1d (weight (in, out), Hugging Face's Conv1D) sharing one body.
// Gradients are GEMMs too, accumulated straight into the gradient buffers (beta = 1). Under bf16 matmul precision
// (precision.ts) the projections' three products (forward, input and weight gradients) run on gemmMixed: operands
// rounded to bf16, float32 sums into float32 outputs and gradient buffers. At either precision, Conv1D's bias gradient
// (dY's column sums, float32, unrounded) is summed by the weight-gradient product while it packs dY, and every bias is
// added by the forward product as it stores its tiles, instead of in passes of their own.
// Leaves out: broadcasting of batch dimensions other than "one side is 2-D".
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import { matmulPrecision } from '../precision.ts';
import { allocOutput, makeOutput, shapeString, sizeOf, Tensor } from '../tensor.ts';

export interface MatmulOptions {
  transA?: boolean; // use a's last two axes transposed
  transB?: boolean; // use b's last two axes transposed
}

interface Operand { batch: number; rows: number; cols: number; stride: number }

function operand(t: Tensor): Operand {
  if (t.rank < 2) throw new EngineError('matmul', `operand of shape ${shapeString(t.shape)} needs at least 2 axes`);
  const rows = t.shape[t.rank - 2], cols = t.shape[t.rank - 1];
  return { batch: sizeOf(t.shape.slice(0, -2)), rows, cols, stride: rows * cols };
}

/** One GEMM call: c = op(a) op(b) + beta c, repeated over batch with the given strides. */
function gemm(a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number, transA: boolean,
  transB: boolean, beta: number, batch: number, strideA: number, strideB: number, strideC: number): void {
  getBackend().gemm({ a, b, c, M, N, K, transA, transB, alpha: 1, beta, batch, strideA, strideB, strideC });
}

/**
 * op(a) @ op(b). a: (..., M, K) (or (..., K, M) with transA), b: (..., K, N) (or (..., N, K) with transB).
 * Batch axes must match, or either side may be 2-D and is then shared by every batch.
 */
export function matmul(a: Tensor, b: Tensor, options: MatmulOptions = {}): Tensor {
  const transA = options.transA ?? false, transB = options.transB ?? false;
  const A = operand(a), B = operand(b);
  const M = transA ? A.cols : A.rows, K = transA ? A.rows : A.cols;
  const Kb = transB ? B.cols : B.rows, N = transB ? B.rows : B.cols;
  const describe = () => `${shapeString(a.shape)}${transA ? 'ᵀ' : ''} @ ${shapeString(b.shape)}${transB ? 'ᵀ' : ''}`;
  if (K !== Kb) throw new EngineError('matmul', `inner dimensions differ: ${describe()} (${K} vs ${Kb})`);
  const batchShape = a.rank >= b.rank ? a.shape.slice(0, -2) : b.shape.slice(0, -2);
  if (a.rank > 2 && b.rank > 2 && (a.rank !== b.rank || a.shape.slice(0, -2).some((d, i) => d !== b.shape[i]))) {
    throw new EngineError('matmul', `batch axes differ: ${describe()}`);
  }
  const batch = sizeOf(batchShape);
  const sA = a.rank > 2 ? A.stride : 0, sB = b.rank > 2 ? B.stride : 0, sC = M * N;
  const out = allocOutput(batch * M * N);
  // A batched left operand with a shared right one and no transA is one tall GEMM.
  const flat = sB === 0 && sA !== 0 && !transA;
  if (flat) gemm(a.data, b.data, out, batch * M, N, K, false, transB, 0, 1, 0, 0, 0);
  else gemm(a.data, b.data, out, M, N, K, transA, transB, 0, batch, sA, sB, sC);

  return makeOutput('matmul', out, [...batchShape, M, N], [a, b], (o) => {
    const dC = o.grad!;
    if (a.requiresGrad) {
      const dA = a.gradBuffer();
      if (flat) gemm(dC, b.data, dA, batch * M, K, N, false, !transB, 1, 1, 0, 0, 0);
      else if (!transA) gemmAccumulate(dC, b.data, dA, M, K, N, false, !transB, batch, sC, sB, sA);
      else gemmAccumulate(b.data, dC, dA, K, M, N, transB, true, batch, sB, sC, sA);
    }
    if (b.requiresGrad) {
      const dB = b.gradBuffer();
      if (flat && !transB) gemm(a.data, dC, dB, K, N, batch * M, true, false, 1, 1, 0, 0, 0);
      else if (flat) gemm(dC, a.data, dB, N, K, batch * M, true, false, 1, 1, 0, 0, 0);
      else if (!transB) gemmAccumulate(a.data, dC, dB, K, N, M, !transA, false, batch, sA, sC, sB);
      else gemmAccumulate(dC, a.data, dB, N, K, M, true, transA, batch, sC, sA, sB);
    }
  });
}

/** c += op(a) op(b) per batch; when c is shared (stride 0) the batches are summed one after another. */
function gemmAccumulate(a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number,
  transA: boolean, transB: boolean, batch: number, strideA: number, strideB: number, strideC: number): void {
  if (strideC !== 0 || batch <= 1) {
    gemm(a, b, c, M, N, K, transA, transB, 1, batch, strideA, strideB, strideC);
    return;
  }
  for (let i = 0; i < batch; i++) {
    gemm(a.subarray(i * strideA), b.subarray(i * strideB), c, M, N, K, transA, transB, 1, 1, 0, 0, 0);
  }
}

/**
 * y = x Wᵀ + bias. x: (..., in), weight: (out, in) as in torch.nn.Linear / Hugging Face, bias: (out).
 * The bias is added in place after the GEMM; its gradient is a column sum.
 */
export function linear(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return projection('linear', x, weight, bias ?? null, true);
}

/** y = x W + bias with W stored (in, out): Hugging Face's Conv1D, which GPT-2's projections use. */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  return projection('conv1d', x, weight, bias ?? null, false);
}

/** One affine map for both weight layouts: outIn = true for (out, in) weights, false for (in, out). */
function projection(op: string, x: Tensor, weight: Tensor, bias: Tensor | null, outIn: boolean): Tensor {
  const layout = outIn ? '(out, in)' : '(in, out)';
  if (weight.rank !== 2) throw new EngineError(op, `weight must be ${layout}, got ${shapeString(weight.shape)}`);
  const [outFeatures, inFeatures] = outIn ? weight.shape : [weight.shape[1], weight.shape[0]];
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    throw new EngineError(op, `input ${shapeString(x.shape)} does not end in ${inFeatures} (weight ${shapeString(weight.shape)})`);
  }
  if (bias && (bias.rank !== 1 || bias.size !== outFeatures)) {
    throw new EngineError(op, `bias ${shapeString(bias.shape)} does not match ${outFeatures} outputs`);
  }
  const backend = getBackend();
  const rows = x.size / Math.max(inFeatures, 1);
  const out = allocOutput(rows * outFeatures);                             // (rows, out)
  // fp32 (the level's GEMM), or mixed precision: the same three products on gemmMixed (bf16 operands, float32 sums)
  const product = matmulPrecision() === 'bf16' ? gemmMixed : gemm2d;
  // the bias added as the forward's tiles are stored
  product(x.data, weight.data, out, rows, outFeatures, inFeatures, false, outIn, 0, { biasC: bias?.data });
  const parents = bias ? [x, weight, bias] : [x, weight];
  return makeOutput(op, out, [...x.shape.slice(0, -1), outFeatures], parents, (o) => {
    const dY = o.grad!;                                                      // (rows, out)
    if (x.requiresGrad) {                                                    // dX = dY W (out, in) or dY Wᵀ (in, out)
      const { grad, beta } = x.gradForOverwrite();
      product(dY, weight.data, grad, rows, inFeatures, outFeatures, false, !outIn, beta);
    }
    // (in, out): dY is op(B) of the weight gradient, whose packing sums its columns into the bias gradient
    const fusedBias = !outIn && weight.requiresGrad && bias?.requiresGrad ? bias.gradBuffer() : undefined;
    if (weight.requiresGrad) {                                               // dW = dYᵀ x (out, in) or xᵀ dY (in, out)
      if (outIn) product(dY, x.data, weight.gradBuffer(), outFeatures, inFeatures, rows, true, false, 1);
      else product(x.data, dY, weight.gradBuffer(), inFeatures, outFeatures, rows, true, false, 1, { sumsB: fusedBias });
    }
    if (bias?.requiresGrad && !fusedBias) backend.sumRowsInto(dY, bias.gradBuffer(), rows, outFeatures);
  });
}

type Product = (a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number, transA: boolean,
  transB: boolean, beta: number, fused?: { sumsB?: Float32Array; biasC?: Float32Array }) => void;

/** One unbatched product c = op(a) op(b) + beta c, fp32 (the level's GEMM) or mixed (bf16 operands, float32 sums), with
 * optionally a bias added to C's rows and op(b)'s column sums added into sumsB (GemmParams). */
const gemm2d: Product = (a, b, c, M, N, K, transA, transB, beta, fused) => getBackend().gemm({ a, b, c, M, N, K, transA,
  transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0, sumsB: fused?.sumsB, biasC: fused?.biasC });
const gemmMixed: Product = (a, b, c, M, N, K, transA, transB, beta, fused) => getBackend().gemmMixed({ a, b, c, M, N, K,
  transA, transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0, sumsB: fused?.sumsB, biasC: fused?.biasC });
