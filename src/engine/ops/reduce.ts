// Reductions over one axis or all elements: sum, mean, max, logsumexp; float64 accumulation.
// An axis is viewed as (outer, axisLength, inner); negative axes count from the end.
// Leaves out: reductions over several axes at once (chain them).
import { EngineError } from '../backend.ts';
import { allocOutput, makeOutput, shapeString, Tensor } from '../tensor.ts';

export function normalizeAxis(op: string, axis: number, rank: number): number {
  const a = axis < 0 ? axis + rank : axis;
  if (!Number.isInteger(a) || a < 0 || a >= rank) throw new EngineError(op, `axis ${axis} out of range for rank ${rank}`);
  return a;
}

function split(shape: readonly number[], axis: number): [number, number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, shape[axis], inner];
}

function reducedShape(shape: readonly number[], axis: number, keepDim: boolean): number[] {
  return keepDim ? shape.map((d, i) => (i === axis ? 1 : d)) : shape.filter((_, i) => i !== axis);
}

/** Sum over an axis, or over everything when axis is undefined (result shape []). */
export function sum(a: Tensor, axis?: number, keepDim = false): Tensor {
  if (axis === undefined) {
    let s = 0;
    for (let i = 0; i < a.size; i++) s += a.data[i];
    const out = allocOutput(1);
    out[0] = s;
    return makeOutput('sum', out, [], [a], (o) => {
      const g = o.grad![0], ga = a.gradBuffer();
      for (let i = 0; i < a.size; i++) ga[i] += g;
    });
  }
  const ax = normalizeAxis('sum', axis, a.rank);
  const [outer, len, inner] = split(a.shape, ax);
  const out = allocOutput(outer * inner);
  const A = a.data;
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let s = 0;
    for (let k = 0; k < len; k++) s += A[(o * len + k) * inner + i];
    out[o * inner + i] = s;
  }
  return makeOutput('sum', out, reducedShape(a.shape, ax, keepDim), [a], (res) => {
    const g = res.grad!, ga = a.gradBuffer();
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      const gv = g[o * inner + i];
      for (let k = 0; k < len; k++) ga[(o * len + k) * inner + i] += gv;
    }
  });
}

/** Mean over an axis, or over everything. An empty reduction is an error, not NaN. */
export function mean(a: Tensor, axis?: number, keepDim = false): Tensor {
  const count = axis === undefined ? a.size : a.shape[normalizeAxis('mean', axis, a.rank)];
  if (count === 0) throw new EngineError('mean', `mean over an empty axis of ${shapeString(a.shape)}`);
  const s = sum(a, axis, keepDim);
  const out = allocOutput(s.size);
  for (let i = 0; i < s.size; i++) out[i] = s.data[i] / count;
  return makeOutput('mean', out, s.shape, [s], (o) => {
    const g = o.grad!, gs = s.gradBuffer();
    for (let i = 0; i < s.size; i++) gs[i] += g[i] / count;
  });
}

/** Max over an axis; the gradient goes to the first maximal element. */
export function max(a: Tensor, axis: number, keepDim = false): Tensor {
  const ax = normalizeAxis('max', axis, a.rank);
  const [outer, len, inner] = split(a.shape, ax);
  if (len === 0) throw new EngineError('max', `max over an empty axis of ${shapeString(a.shape)}`);
  const out = allocOutput(outer * inner);
  const argmax = new Int32Array(outer * inner);
  const A = a.data;
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let best = -Infinity, at = 0;
    for (let k = 0; k < len; k++) {
      const v = A[(o * len + k) * inner + i];
      if (v > best) { best = v; at = k; }
    }
    out[o * inner + i] = best;
    argmax[o * inner + i] = at;
  }
  return makeOutput('max', out, reducedShape(a.shape, ax, keepDim), [a], (res) => {
    const g = res.grad!, ga = a.gradBuffer();
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      ga[(o * len + argmax[o * inner + i]) * inner + i] += g[o * inner + i];
    }
  });
}

/** log(sum(exp(a))) over an axis, stable; gradient is softmax. */
export function logSumExp(a: Tensor, axis: number, keepDim = false): Tensor {
  const ax = normalizeAxis('logSumExp', axis, a.rank);
  const [outer, len, inner] = split(a.shape, ax);
  const out = allocOutput(outer * inner);
  const A = a.data;
  for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
    let mx = -Infinity;
    for (let k = 0; k < len; k++) mx = Math.max(mx, A[(o * len + k) * inner + i]);
    let s = 0;
    if (mx !== -Infinity) for (let k = 0; k < len; k++) s += Math.exp(A[(o * len + k) * inner + i] - mx);
    out[o * inner + i] = mx === -Infinity ? -Infinity : mx + Math.log(s);
  }
  return makeOutput('logSumExp', out, reducedShape(a.shape, ax, keepDim), [a], (res) => {
    const g = res.grad!, ga = a.gradBuffer(), O = res.data;
    for (let o = 0; o < outer; o++) for (let i = 0; i < inner; i++) {
      const l = O[o * inner + i], gv = g[o * inner + i];
      if (l === -Infinity) continue;
      for (let k = 0; k < len; k++) {
        const idx = (o * len + k) * inner + i;
        ga[idx] += gv * Math.exp(A[idx] - l);
      }
    }
  });
}
