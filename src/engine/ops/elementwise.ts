// Elementwise ops with NumPy broadcasting, forward and backward side by side.
// Binary ops reduce their gradient back to each input's shape (sum over broadcast axes).
// Leaves out: in-place variants (the tape needs inputs intact), integer dtypes.
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import { allocOutput, makeOutput, type Shape, shapeString, sizeOf, Tensor } from '../tensor.ts';
import { stridedOffsets } from './indexing.ts';

/** Output shape of broadcasting a with b, or an error naming the op and both shapes. */
export function broadcastShapes(op: string, a: Shape, b: Shape): number[] {
  const rank = Math.max(a.length, b.length);
  const out: number[] = [];
  for (let i = 0; i < rank; i++) {
    const da = a[a.length - rank + i] ?? 1, db = b[b.length - rank + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) {
      throw new EngineError(op, `shapes ${shapeString(a)} and ${shapeString(b)} do not broadcast (axis ${i}: ${da} vs ${db})`);
    }
    out.push(da === 1 ? db : da);
  }
  return out;
}

const indexMaps = new Map<string, Int32Array>();

/** For each flat index of outShape, the flat index of the broadcast input (cached per shape pair). */
export function broadcastIndex(outShape: Shape, inShape: Shape): Int32Array {
  const key = `${outShape.join(',')}|${inShape.join(',')}`;
  let map = indexMaps.get(key);
  if (map) return map;
  const rank = outShape.length;
  const strides = new Array<number>(rank).fill(0);
  let s = 1;
  for (let i = inShape.length - 1; i >= 0; i--) {
    const axis = rank - inShape.length + i;
    strides[axis] = inShape[i] === 1 ? 0 : s;
    s *= inShape[i];
  }
  map = stridedOffsets(outShape, strides);
  if (indexMaps.size > 512) indexMaps.clear();
  indexMaps.set(key, map);
  return map;
}

function sameShape(a: Shape, b: Shape): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

type BinaryForward = (x: number, y: number) => number;
/** Partial derivatives at (x, y, out): [d out/d x, d out/d y]. */
type BinaryGrad = (x: number, y: number, out: number) => [number, number];

function binary(op: string, a: Tensor, b: Tensor, f: BinaryForward, df: BinaryGrad): Tensor {
  const shape = broadcastShapes(op, a.shape, b.shape);
  const n = sizeOf(shape);
  const out = allocOutput(n);
  const A = a.data, B = b.data;
  if (sameShape(a.shape, b.shape)) {
    for (let i = 0; i < n; i++) out[i] = f(A[i], B[i]);
    return makeOutput(op, out, shape, [a, b], (o) => {
      const g = o.grad!, O = o.data;
      const ga = a.requiresGrad ? a.gradBuffer() : null, gb = b.requiresGrad ? b.gradBuffer() : null;
      for (let i = 0; i < n; i++) {
        const [dx, dy] = df(A[i], B[i], O[i]);
        if (ga) ga[i] += g[i] * dx;
        if (gb) gb[i] += g[i] * dy;
      }
    });
  }
  const ia = broadcastIndex(shape, a.shape), ib = broadcastIndex(shape, b.shape);
  for (let i = 0; i < n; i++) out[i] = f(A[ia[i]], B[ib[i]]);
  return makeOutput(op, out, shape, [a, b], (o) => {
    const g = o.grad!, O = o.data;
    const ga = a.requiresGrad ? a.gradBuffer() : null, gb = b.requiresGrad ? b.gradBuffer() : null;
    for (let i = 0; i < n; i++) {
      const [dx, dy] = df(A[ia[i]], B[ib[i]], O[i]);
      if (ga) ga[ia[i]] += g[i] * dx;
      if (gb) gb[ib[i]] += g[i] * dy;
    }
  });
}

/** a + b (broadcasting); same-shape and trailing-bias cases run on the backend's fused kernels. */
export function add(a: Tensor, b: Tensor): Tensor {
  const backend = getBackend();
  if (sameShape(a.shape, b.shape)) {
    const out = allocOutput(a.size);
    backend.add(a.data, b.data, out, a.size);
    return makeOutput('add', out, a.shape, [a, b], (o) => {
      // A gradient this op is first to write is copied, not accumulated into a zero-filled buffer (residual streams:
      // 1 M floats of zero-filling per tiny-GPT step saved).
      for (const t of a === b ? [a] : [a, b]) {
        if (!t.requiresGrad) continue;
        const { grad, beta } = t.gradForOverwrite();
        if (beta === 0) grad.set(o.grad!);
        else backend.axpy(1, o.grad!, grad, t.size);
        if (a === b) backend.axpy(1, o.grad!, grad, t.size); // x + x: the second operand's share
      }
    });
  }
  if (b.rank === 1 && a.rank >= 1 && a.shape[a.rank - 1] === b.size) {
    const cols = b.size, rows = a.size / Math.max(cols, 1);
    const out = allocOutput(a.size);
    out.set(a.data);
    backend.biasAdd(out, b.data, rows, cols);
    return makeOutput('add', out, a.shape, [a, b], (o) => {
      if (a.requiresGrad) backend.axpy(1, o.grad!, a.gradBuffer(), a.size);
      if (b.requiresGrad) backend.sumRowsInto(o.grad!, b.gradBuffer(), rows, cols);
    });
  }
  return binary('add', a, b, (x, y) => x + y, () => [1, 1]);
}

export function sub(a: Tensor, b: Tensor): Tensor {
  return binary('sub', a, b, (x, y) => x - y, () => [1, -1]);
}

export function mul(a: Tensor, b: Tensor): Tensor {
  return binary('mul', a, b, (x, y) => x * y, (x, y) => [y, x]);
}

export function div(a: Tensor, b: Tensor): Tensor {
  return binary('div', a, b, (x, y) => x / y, (x, y) => [1 / y, -x / (y * y)]);
}

export function minimum(a: Tensor, b: Tensor): Tensor {
  return binary('minimum', a, b, Math.min, (x, y) => (x <= y ? [1, 0] : [0, 1]));
}

export function maximum(a: Tensor, b: Tensor): Tensor {
  return binary('maximum', a, b, Math.max, (x, y) => (x >= y ? [1, 0] : [0, 1]));
}

type UnaryForward = (x: number) => number;
/** Derivative at (x, out). */
type UnaryGrad = (x: number, out: number) => number;

function unary(op: string, a: Tensor, f: UnaryForward, df: UnaryGrad): Tensor {
  const n = a.size, A = a.data;
  const out = allocOutput(n);
  for (let i = 0; i < n; i++) out[i] = f(A[i]);
  return makeOutput(op, out, a.shape, [a], (o) => {
    const g = o.grad!, ga = a.gradBuffer(), O = o.data;
    for (let i = 0; i < n; i++) ga[i] += g[i] * df(A[i], O[i]);
  });
}

export function neg(a: Tensor): Tensor { return unary('neg', a, (x) => -x, () => -1); }
export function mulScalar(a: Tensor, s: number): Tensor { return unary('mulScalar', a, (x) => x * s, () => s); }
export function addScalar(a: Tensor, s: number): Tensor { return unary('addScalar', a, (x) => x + s, () => 1); }
export function exp(a: Tensor): Tensor { return unary('exp', a, Math.exp, (_x, o) => o); }
export function log(a: Tensor): Tensor { return unary('log', a, Math.log, (x) => 1 / x); }
export function sqrt(a: Tensor): Tensor { return unary('sqrt', a, Math.sqrt, (_x, o) => 0.5 / o); }
export function square(a: Tensor): Tensor { return unary('square', a, (x) => x * x, (x) => 2 * x); }
export function tanh(a: Tensor): Tensor { return unary('tanh', a, Math.tanh, (_x, o) => 1 - o * o); }
export function relu(a: Tensor): Tensor { return unary('relu', a, (x) => (x > 0 ? x : 0), (x) => (x > 0 ? 1 : 0)); }
export function abs(a: Tensor): Tensor { return unary('abs', a, Math.abs, (x) => Math.sign(x)); }

export function sigmoid(a: Tensor): Tensor {
  return unary('sigmoid', a, (x) => (x >= 0 ? 1 / (1 + Math.exp(-x)) : Math.exp(x) / (1 + Math.exp(x))), (_x, o) => o * (1 - o));
}

/** log(sigmoid(x)), stable for large |x| (DPO and Bradley–Terry losses). */
export function logSigmoid(a: Tensor): Tensor {
  return unary('logSigmoid', a,
    (x) => (x >= 0 ? -Math.log1p(Math.exp(-x)) : x - Math.log1p(Math.exp(x))),
    (x) => (x >= 0 ? Math.exp(-x) / (1 + Math.exp(-x)) : 1 / (1 + Math.exp(x))));
}

/** Clamp to [low, high]; the gradient is 1 inside and 0 where clamped (PPO's ratio clipping). */
export function clamp(a: Tensor, low: number, high: number): Tensor {
  if (low > high) throw new EngineError('clamp', `low ${low} > high ${high}`);
  return unary('clamp', a, (x) => (x < low ? low : x > high ? high : x), (x) => (x < low || x > high ? 0 : 1));
}

/** where(mask, a, b): a where mask is non-zero, else b; mask broadcasts like a and b and gets no gradient. */
export function where(mask: Tensor, a: Tensor, b: Tensor): Tensor {
  const shape = broadcastShapes('where', broadcastShapes('where', mask.shape, a.shape), b.shape);
  const n = sizeOf(shape);
  const im = broadcastIndex(shape, mask.shape), ia = broadcastIndex(shape, a.shape), ib = broadcastIndex(shape, b.shape);
  const M = mask.data, A = a.data, B = b.data;
  const out = allocOutput(n);
  for (let i = 0; i < n; i++) out[i] = M[im[i]] !== 0 ? A[ia[i]] : B[ib[i]];
  return makeOutput('where', out, shape, [a, b], (o) => {
    const g = o.grad!;
    const ga = a.requiresGrad ? a.gradBuffer() : null, gb = b.requiresGrad ? b.gradBuffer() : null;
    for (let i = 0; i < n; i++) {
      if (M[im[i]] !== 0) { if (ga) ga[ia[i]] += g[i]; } else if (gb) gb[ib[i]] += g[i];
    }
  });
}

/** Stops the gradient: same values, no graph (advantages, targets, reference log-probs). */
export function detach(a: Tensor): Tensor {
  const out = allocOutput(a.size);
  out.set(a.data);
  return new Tensor(out, a.shape);
}
