// Shape ops: reshape (a view, no copy), permute/transpose, slice, concat, indexSelect.
// Every copying op has a backward that scatters the gradient back to where each element came from.
// Leaves out: strided views (permute and slice copy), advanced indexing beyond one axis.
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import { allocOutput, makeOutput, type Shape, shapeString, sizeOf, Tensor } from '../tensor.ts';
import { stridedOffsets } from './indexing.ts';
import { normalizeAxis } from './reduce.ts';

/** Same data, new shape; one dimension may be -1. The result shares the buffer (no copy). */
export function reshape(a: Tensor, shape: Shape): Tensor {
  const inferred = [...shape];
  const unknown = inferred.indexOf(-1);
  if (unknown >= 0) {
    const known = inferred.reduce((p, d, i) => (i === unknown ? p : p * d), 1);
    inferred[unknown] = known === 0 ? 0 : a.size / known;
  }
  if (sizeOf(inferred) !== a.size || inferred.some((d) => !Number.isInteger(d) || d < 0)) {
    throw new EngineError('reshape', `cannot reshape ${shapeString(a.shape)} (${a.size} elements) to ${shapeString(shape)}`);
  }
  const out = makeOutput('reshape', a.data, inferred, [a], (o) => {
    getBackend().axpy(1, o.grad!, a.gradBuffer(), a.size);
  });
  out.base = a.base ?? a;
  return out;
}

/** Reorders axes: out.shape[i] = a.shape[order[i]]; copies. */
export function permute(a: Tensor, order: readonly number[]): Tensor {
  const rank = a.rank;
  if (order.length !== rank || new Set(order).size !== rank || order.some((o) => o < 0 || o >= rank)) {
    throw new EngineError('permute', `order [${order.join(', ')}] is not a permutation of the axes of ${shapeString(a.shape)}`);
  }
  const shape = order.map((o) => a.shape[o]);
  const inStrides = stridesOf(a.shape);
  const strides = order.map((o) => inStrides[o]);  // input stride for each output axis
  const n = a.size;
  const map = stridedOffsets(shape, strides);      // output flat index -> input flat index
  const out = allocOutput(n), A = a.data;
  for (let i = 0; i < n; i++) out[i] = A[map[i]];
  return makeOutput('permute', out, shape, [a], (o) => {
    const g = o.grad!, ga = a.gradBuffer();
    for (let i = 0; i < n; i++) ga[map[i]] += g[i];
  });
}

/** Swaps two axes (copies). */
export function transpose(a: Tensor, axis0: number, axis1: number): Tensor {
  const order = a.shape.map((_, i) => i);
  const x = normalizeAxis('transpose', axis0, a.rank), y = normalizeAxis('transpose', axis1, a.rank);
  [order[x], order[y]] = [order[y], order[x]];
  return permute(a, order);
}

/** Elements [start, end) along an axis (copies). */
export function slice(a: Tensor, axis: number, start: number, end: number): Tensor {
  const ax = normalizeAxis('slice', axis, a.rank);
  const len = a.shape[ax];
  if (!(Number.isInteger(start) && Number.isInteger(end) && start >= 0 && start <= end && end <= len)) {
    throw new EngineError('slice', `range [${start}, ${end}) out of bounds for axis ${ax} of ${shapeString(a.shape)}`);
  }
  const [outer, inner] = outerInner(a.shape, ax);
  const width = end - start;
  const shape = a.shape.map((d, i) => (i === ax ? width : d));
  const out = allocOutput(outer * width * inner);
  for (let o = 0; o < outer; o++) {
    out.set(a.data.subarray((o * len + start) * inner, (o * len + end) * inner), o * width * inner);
  }
  return makeOutput('slice', out, shape, [a], (res) => {
    const g = res.grad!, ga = a.gradBuffer();
    for (let o = 0; o < outer; o++) {
      const src = o * width * inner, dst = (o * len + start) * inner;
      for (let i = 0; i < width * inner; i++) ga[dst + i] += g[src + i];
    }
  });
}

/** Joins tensors along an axis; all other dimensions must agree. */
export function concat(parts: readonly Tensor[], axis: number): Tensor {
  if (parts.length === 0) throw new EngineError('concat', 'no tensors to join');
  const first = parts[0];
  const ax = normalizeAxis('concat', axis, first.rank);
  for (const p of parts) {
    if (p.rank !== first.rank || p.shape.some((d, i) => i !== ax && d !== first.shape[i])) {
      throw new EngineError('concat', `shapes ${parts.map((q) => shapeString(q.shape)).join(', ')} differ outside axis ${ax}`);
    }
  }
  const [outer, inner] = outerInner(first.shape, ax);
  const total = parts.reduce((s, p) => s + p.shape[ax], 0);
  const shape = first.shape.map((d, i) => (i === ax ? total : d));
  const out = allocOutput(outer * total * inner);
  let at = 0;
  const starts: number[] = [];
  for (const p of parts) {
    starts.push(at);
    const w = p.shape[ax] * inner;
    for (let o = 0; o < outer; o++) out.set(p.data.subarray(o * w, (o + 1) * w), (o * total + at) * inner);
    at += p.shape[ax];
  }
  return makeOutput('concat', out, shape, parts, (res) => {
    const g = res.grad!;
    parts.forEach((p, k) => {
      if (!p.requiresGrad) return;
      const gp = p.gradBuffer(), w = p.shape[ax] * inner;
      for (let o = 0; o < outer; o++) {
        const src = (o * total + starts[k]) * inner;
        for (let i = 0; i < w; i++) gp[o * w + i] += g[src + i];
      }
    });
  });
}

/** Picks entries along an axis by index (repeats allowed); the backward scatter-adds. */
export function indexSelect(a: Tensor, axis: number, indices: Int32Array | readonly number[]): Tensor {
  const ax = normalizeAxis('indexSelect', axis, a.rank);
  const len = a.shape[ax];
  const idx = Int32Array.from(indices);
  idx.forEach((v, i) => {
    if (v < 0 || v >= len) throw new EngineError('indexSelect', `index ${v} at position ${i} out of range [0, ${len}) for axis ${ax} of ${shapeString(a.shape)}`);
  });
  const [outer, inner] = outerInner(a.shape, ax);
  const m = idx.length;
  const shape = a.shape.map((d, i) => (i === ax ? m : d));
  const out = allocOutput(outer * m * inner);
  for (let o = 0; o < outer; o++) for (let k = 0; k < m; k++) {
    const src = (o * len + idx[k]) * inner;
    out.set(a.data.subarray(src, src + inner), (o * m + k) * inner);
  }
  return makeOutput('indexSelect', out, shape, [a], (res) => {
    const g = res.grad!, ga = a.gradBuffer();
    for (let o = 0; o < outer; o++) for (let k = 0; k < m; k++) {
      const dst = (o * len + idx[k]) * inner, src = (o * m + k) * inner;
      for (let i = 0; i < inner; i++) ga[dst + i] += g[src + i];
    }
  });
}

export function stridesOf(shape: Shape): number[] {
  const strides = new Array<number>(shape.length);
  let s = 1;
  for (let i = shape.length - 1; i >= 0; i--) { strides[i] = s; s *= shape[i]; }
  return strides;
}

function outerInner(shape: Shape, axis: number): [number, number] {
  let outer = 1, inner = 1;
  for (let i = 0; i < axis; i++) outer *= shape[i];
  for (let i = axis + 1; i < shape.length; i++) inner *= shape[i];
  return [outer, inner];
}
