// Hugging Face's Conv1D (GPT-2's projections): y = x W + b with W stored (in, out), the transpose of nn.Linear.
// One GEMM with the bias added in place; gradients are GEMMs and a column sum. Leaves out: real convolutions.
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import { allocOutput, makeOutput, shapeString, type Tensor } from '../tensor.ts';

function gemm(a: Float32Array, b: Float32Array, c: Float32Array, M: number, N: number, K: number, transA: boolean,
  transB: boolean, beta: number): void {
  getBackend().gemm({ a, b, c, M, N, K, transA, transB, alpha: 1, beta, batch: 1, strideA: 0, strideB: 0, strideC: 0 });
}

/** y (..., out) = x (..., in) @ weight (in, out) + bias (out). */
export function conv1d(x: Tensor, weight: Tensor, bias?: Tensor | null): Tensor {
  if (weight.rank !== 2) throw new EngineError('conv1d', `weight must be (in, out), got ${shapeString(weight.shape)}`);
  const [inFeatures, outFeatures] = weight.shape;
  if (x.rank < 1 || x.shape[x.rank - 1] !== inFeatures) {
    throw new EngineError('conv1d', `input ${shapeString(x.shape)} does not end in ${inFeatures} (weight ${shapeString(weight.shape)})`);
  }
  if (bias && bias.size !== outFeatures) throw new EngineError('conv1d', `bias ${shapeString(bias.shape)} does not match ${outFeatures} outputs`);
  const backend = getBackend();
  const rows = x.size / Math.max(inFeatures, 1);
  const out = allocOutput(rows * outFeatures);                            // (rows, out)
  gemm(x.data, weight.data, out, rows, outFeatures, inFeatures, false, false, 0);
  if (bias) backend.biasAdd(out, bias.data, rows, outFeatures);
  const parents = bias ? [x, weight, bias] : [x, weight];
  return makeOutput('conv1d', out, [...x.shape.slice(0, -1), outFeatures], parents, (o) => {
    const dY = o.grad!;                                                   // (rows, out)
    if (x.requiresGrad) {
      const { grad, beta } = x.gradForOverwrite();
      gemm(dY, weight.data, grad, rows, inFeatures, outFeatures, false, true, beta);
    }
    if (weight.requiresGrad) gemm(x.data, dY, weight.gradBuffer(), inFeatures, outFeatures, rows, true, false, 1);
    if (bias?.requiresGrad) backend.sumRowsInto(dY, bias.gradBuffer(), rows, outFeatures);
  });
}
