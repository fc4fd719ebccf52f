// The plain JavaScript reference backend: ground truth for the native and wasm kernels, and the last fallback.
// Written for clarity over speed; every entry point checks buffer lengths. Sums accumulate in float64.
import {
  type AttentionParams, type Backend, type GemmParams, checkLength, checkLengths, EngineError,
} from '../backend.ts';
import { bf16ToF32, f32ToBf16 } from '../bf16.ts';

const SQRT_2_OVER_PI = Math.sqrt(2 / Math.PI);

export function checkGemm(op: string, p: GemmParams): void {
  const { M, N, K, batch } = p;
  for (const [name, value] of [['M', M], ['N', N], ['K', K], ['batch', batch]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new EngineError(op, `${name} must be a non-negative integer, got ${value}`);
  }
  if (batch === 0 || M === 0 || N === 0) return;
  checkLength(op, 'A', p.a, (batch - 1) * p.strideA + M * K);
  checkLength(op, 'B', p.b, (batch - 1) * p.strideB + K * N);
  checkLength(op, 'C', p.c, (batch - 1) * p.strideC + M * N);
  if (p.sumsB) checkLength(op, 'sumsB', p.sumsB, N);   // both before anything is written
  if (p.biasC) checkLength(op, 'biasC', p.biasC, N);
}

export function checkGemmBf16(op: string, a: Float32Array, w: Uint16Array, c: Float32Array, M: number, N: number,
  K: number): void {
  for (const [name, value] of [['M', M], ['N', N], ['K', K]] as const) {
    if (!Number.isInteger(value) || value < 0) throw new EngineError(op, `${name} must be a non-negative integer, got ${value}`);
  }
  if (!(w instanceof Uint16Array)) throw new EngineError(op, 'W must be a Uint16Array of bfloat16 bits');
  checkLength(op, 'A', a, M * K);
  checkLength(op, 'W', w, N * K);
  checkLength(op, 'C', c, M * N);
}

/** gemm's sumsB, when given: op(B)'s column sums over every batch item added in (float64 sums; p checked). */
export function addColumnSums(p: GemmParams): void {
  const sums = p.sumsB;
  if (!sums || p.batch === 0 || p.M === 0) return;
  for (let j = 0; j < p.N; j++) {
    let s = 0;
    for (let bi = 0; bi < p.batch; bi++) {
      const base = bi * p.strideB;
      for (let k = 0; k < p.K; k++) s += p.b[base + (p.transB ? j * p.K + k : k * p.N + j)];
    }
    sums[j] += s;
  }
}

/** gemm's biasC, when given: added to every row of every item's C (after the product; p checked). */
export function addBiasRows(p: GemmParams): void {
  const bias = p.biasC;
  if (!bias) return;
  for (let bi = 0; bi < p.batch; bi++) {
    for (let i = 0; i < p.M; i++) for (let j = 0; j < p.N; j++) p.c[bi * p.strideC + i * p.N + j] += bias[j];
  }
}

/** p with copies of A and B rounded to bf16 (the reference of gemmMixed; p already checked). */
export function roundedOperands(p: GemmParams): GemmParams {
  const plain = { ...p, sumsB: undefined, biasC: undefined };  // the caller adds the sums and the bias
  if (p.batch === 0 || p.M === 0 || p.N === 0) return plain;
  const round = (x: Float32Array, n: number) => bf16ToF32(f32ToBf16(x.subarray(0, n)));
  return { ...plain, a: round(p.a, (p.batch - 1) * p.strideA + p.M * p.K), b: round(p.b, (p.batch - 1) * p.strideB + p.K * p.N) };
}

export function checkAttention(op: string, p: AttentionParams, q: ArrayLike<number>, k: ArrayLike<number>,
  v: ArrayLike<number>, probs: ArrayLike<number>): void {
  const { B, H, Hkv, T, S, D } = p, L = p.keyCapacity ?? S, t = p.tokenMajor;
  if (Hkv <= 0 || H % Hkv !== 0) throw new EngineError(op, `query heads ${H} not a multiple of key/value heads ${Hkv}`);
  if (S < T) throw new EngineError(op, `key length S=${S} shorter than query length T=${T}`);
  if (!(Number.isInteger(L) && L >= S)) throw new EngineError(op, `key capacity ${L} shorter than the key length S=${S}`);
  if (L !== S && op !== 'attention') throw new EngineError(op, `key capacity ${L} differs from the key length S=${S}: the backward reads whole rows`);
  if (t) {
    if (L !== S) throw new EngineError(op, `token-major attention reads whole rows: key capacity ${L} differs from S=${S}`);
    for (const [name, at, heads] of [['q', t.q, H], ['k', t.k, Hkv], ['v', t.v, Hkv]] as const) {
      if (!(Number.isInteger(at) && at >= 0 && at + heads * D <= t.W)) {
        throw new EngineError(op, `token-major ${name} columns [${at}, ${at + heads * D}) outside the row width W=${t.W}`);
      }
    }
  }
  const n = attentionLengths(p);
  checkLength(op, 'q', q, n.q);
  checkLength(op, 'k', k, n.kv);
  checkLength(op, 'v', v, n.kv);
  checkLength(op, 'probs', probs, B * H * T * S);
  if (p.keyMask) checkLength(op, 'keyMask', p.keyMask, B * L);
}

/** Floats q (and dq), k and v (and dk, dv) hold in p's layout: head-major, or token-major (p.tokenMajor). */
export function attentionLengths(p: AttentionParams): { q: number; kv: number; out: number } {
  const { B, H, Hkv, T, S, D } = p, t = p.tokenMajor;
  return { q: t ? B * T * t.W : B * H * T * D, kv: t ? B * S * t.W : B * Hkv * (p.keyCapacity ?? S) * D, out: B * H * T * D };
}

export function checkHeadsLayout(op: string, src: ArrayLike<number>, dst: ArrayLike<number>, B: number, T: number,
  H: number, D: number, W: number, offset: number, toHeads: boolean): void {
  if (!(offset >= 0 && offset + H * D <= W)) throw new EngineError(op, `head columns [${offset}, ${offset + H * D}) outside width ${W}`);
  checkLength(op, toHeads ? 'src (B, T, W)' : 'src (B, H, T, D)', src, toHeads ? B * T * W : B * H * T * D);
  checkLength(op, toHeads ? 'dst (B, H, T, D)' : 'dst (B, T, W)', dst, toHeads ? B * H * T * D : B * T * W);
}

/** Where one query row of attention lives: its row in q (and dq), in out (and dout) and in probs; where its head
 * group's key j starts in k (and dk) and value j in v (and dv) is kBase + j·kvStride, vBase + j·kvStride. */
interface QueryRow { b: number; i: number; qRow: number; oRow: number; pRow: number; kBase: number; vBase: number; kvStride: number }

/**
 * Calls `row` for every query row of attention, batch by head by position, in p's layout (head-major, or token-major:
 * p.tokenMajor). Shared by forward and backward.
 */
function forEachQueryRow(p: AttentionParams, row: (r: QueryRow) => void): void {
  const { B, H, Hkv, T, S, D } = p, group = H / Hkv, L = p.keyCapacity ?? S, t = p.tokenMajor;
  for (let b = 0; b < B; b++) for (let h = 0; h < H; h++) {
    const g = Math.floor(h / group);
    const kBase = t ? b * S * t.W + t.k + g * D : ((b * Hkv + g) * L) * D;
    const vBase = t ? b * S * t.W + t.v + g * D : kBase;
    for (let i = 0; i < T; i++) {
      row({ b, i, qRow: t ? (b * T + i) * t.W + t.q + h * D : ((b * H + h) * T + i) * D,
        oRow: t ? (b * T + i) * H * D + h * D : ((b * H + h) * T + i) * D, pRow: ((b * H + h) * T + i) * S,
        kBase, vBase, kvStride: t ? t.W : D });
    }
  }
}

export class JsBackend implements Backend {
  readonly name = 'js' as const;
  readonly threads = 1;

  gemm(p: GemmParams): void {
    checkGemm('gemm', p);
    addColumnSums(p);
    const { a, b, c, M, N, K, transA, transB, alpha, beta } = p;
    const row = new Float64Array(N);
    for (let bi = 0; bi < p.batch; bi++) {
      const oa = bi * p.strideA, ob = bi * p.strideB, oc = bi * p.strideC;
      for (let i = 0; i < M; i++) {
        row.fill(0);
        for (let kk = 0; kk < K; kk++) {
          const av = transA ? a[oa + kk * M + i] : a[oa + i * K + kk];
          if (av === 0) continue;
          if (transB) for (let j = 0; j < N; j++) row[j] += av * b[ob + j * K + kk];
          else { const base = ob + kk * N; for (let j = 0; j < N; j++) row[j] += av * b[base + j]; }
        }
        const base = oc + i * N;
        if (beta === 0) for (let j = 0; j < N; j++) c[base + j] = alpha * row[j];
        else for (let j = 0; j < N; j++) c[base + j] = alpha * row[j] + beta * c[base + j];
      }
    }
    addBiasRows(p);
  }

  gemmMixed(p: GemmParams): void {
    checkGemm('gemmMixed', p);
    addColumnSums(p);
    this.gemm(roundedOperands(p));
    addBiasRows(p);
  }

  gemmBf16(a: Float32Array, w: Uint16Array, c: Float32Array, M: number, N: number, K: number): void {
    checkGemmBf16('gemmBf16', a, w, c, M, N, K);
    const wf = bf16ToF32(w.subarray(0, N * K));
    for (let i = 0; i < M; i++) {
      const ar = bf16ToF32(f32ToBf16(a.subarray(i * K, (i + 1) * K)));
      for (let n = 0; n < N; n++) {
        let s = 0;
        for (let k = 0; k < K; k++) s += ar[k] * wf[n * K + k];
        c[i * N + n] = s;
      }
    }
  }

  biasAdd(x: Float32Array, bias: Float32Array, rows: number, cols: number): void {
    checkLength('biasAdd', 'x', x, rows * cols); checkLength('biasAdd', 'bias', bias, cols);
    for (let r = 0; r < rows; r++) for (let j = 0; j < cols; j++) x[r * cols + j] += bias[j];
  }

  sumRowsInto(x: Float32Array, out: Float32Array, rows: number, cols: number): void {
    checkLength('sumRowsInto', 'x', x, rows * cols); checkLength('sumRowsInto', 'out', out, cols);
    for (let j = 0; j < cols; j++) {
      let s = 0;
      for (let r = 0; r < rows; r++) s += x[r * cols + j];
      out[j] += s;
    }
  }

  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void {
    checkLength('add', 'a', a, n); checkLength('add', 'b', b, n); checkLength('add', 'out', out, n);
    for (let i = 0; i < n; i++) out[i] = a[i] + b[i];
  }

  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void {
    checkLength('axpy', 'x', x, n); checkLength('axpy', 'y', y, n);
    for (let i = 0; i < n; i++) y[i] += alpha * x[i];
  }

  gelu(x: Float32Array, y: Float32Array, n: number): void {
    checkLength('gelu', 'x', x, n); checkLength('gelu', 'y', y, n);
    for (let i = 0; i < n; i++) {
      const v = x[i];
      y[i] = 0.5 * v * (1 + Math.tanh(SQRT_2_OVER_PI * (v + 0.044715 * v * v * v)));
    }
  }

  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate = true): void {
    checkLength('geluBackward', 'x', x, n); checkLength('geluBackward', 'dy', dy, n);
    checkLength('geluBackward', 'dx', dx, n);
    if (!accumulate) dx.fill(0, 0, n);
    for (let i = 0; i < n; i++) {
      const v = x[i];
      const u = SQRT_2_OVER_PI * (v + 0.044715 * v * v * v);
      const t = Math.tanh(u);
      const du = SQRT_2_OVER_PI * (1 + 3 * 0.044715 * v * v);
      dx[i] += dy[i] * (0.5 * (1 + t) + 0.5 * v * (1 - t * t) * du);
    }
  }

  silu(x: Float32Array, y: Float32Array, n: number): void {
    checkLength('silu', 'x', x, n); checkLength('silu', 'y', y, n);
    for (let i = 0; i < n; i++) y[i] = x[i] / (1 + Math.exp(-x[i]));
  }

  siluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate = true): void {
    checkLength('siluBackward', 'x', x, n); checkLength('siluBackward', 'dy', dy, n);
    checkLength('siluBackward', 'dx', dx, n);
    if (!accumulate) dx.fill(0, 0, n);
    for (let i = 0; i < n; i++) {
      const s = 1 / (1 + Math.exp(-x[i]));
      dx[i] += dy[i] * s * (1 + x[i] * (1 - s));
    }
  }

  layerNorm(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, mean: Float32Array,
    rstd: Float32Array, rows: number, cols: number, eps: number): void {
    const op = 'layerNorm';
    checkLength(op, 'x', x, rows * cols); checkLength(op, 'y', y, rows * cols); checkLength(op, 'weight', w, cols);
    checkLength(op, 'bias', b, cols); checkLength(op, 'mean', mean, rows); checkLength(op, 'rstd', rstd, rows);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += x[o + j];
      const mu = s / cols;
      let ss = 0;
      for (let j = 0; j < cols; j++) { const d = x[o + j] - mu; ss += d * d; }
      const rs = 1 / Math.sqrt(ss / cols + eps);
      mean[r] = mu; rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[o + j] = (x[o + j] - mu) * rs * w[j] + b[j];
    }
  }

  layerNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, mean: Float32Array, rstd: Float32Array,
    dx: Float32Array, dw: Float32Array, db: Float32Array, rows: number, cols: number): void {
    const op = 'layerNormBackward';
    checkLength(op, 'dy', dy, rows * cols); checkLength(op, 'x', x, rows * cols); checkLength(op, 'dx', dx, rows * cols);
    checkLength(op, 'weight', w, cols); checkLength(op, 'dweight', dw, cols); checkLength(op, 'dbias', db, cols);
    checkLength(op, 'mean', mean, rows); checkLength(op, 'rstd', rstd, rows);
    for (let r = 0; r < rows; r++) {
      const o = r * cols, mu = mean[r], rs = rstd[r];
      let sumG = 0, sumGX = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - mu) * rs;
        const g = dy[o + j] * w[j];
        sumG += g; sumGX += g * xhat;
        dw[j] += dy[o + j] * xhat;
        db[j] += dy[o + j];
      }
      const mG = sumG / cols, mGX = sumGX / cols;
      for (let j = 0; j < cols; j++) {
        const xhat = (x[o + j] - mu) * rs;
        dx[o + j] += rs * (dy[o + j] * w[j] - mG - xhat * mGX);
      }
    }
  }

  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, rstd: Float32Array, rows: number, cols: number,
    eps: number): void {
    const op = 'rmsNorm';
    checkLength(op, 'x', x, rows * cols); checkLength(op, 'y', y, rows * cols); checkLength(op, 'weight', w, cols);
    checkLength(op, 'rstd', rstd, rows);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let ss = 0;
      for (let j = 0; j < cols; j++) ss += x[o + j] * x[o + j];
      const rs = 1 / Math.sqrt(ss / cols + eps);
      rstd[r] = rs;
      for (let j = 0; j < cols; j++) y[o + j] = x[o + j] * rs * w[j];
    }
  }

  rmsNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array,
    dw: Float32Array, rows: number, cols: number): void {
    const op = 'rmsNormBackward';
    checkLength(op, 'dy', dy, rows * cols); checkLength(op, 'x', x, rows * cols); checkLength(op, 'dx', dx, rows * cols);
    checkLength(op, 'weight', w, cols); checkLength(op, 'dweight', dw, cols); checkLength(op, 'rstd', rstd, rows);
    for (let r = 0; r < rows; r++) {
      const o = r * cols, rs = rstd[r];
      let sumGX = 0;
      for (let j = 0; j < cols; j++) {
        const xhat = x[o + j] * rs;
        sumGX += dy[o + j] * w[j] * xhat;
        dw[j] += dy[o + j] * xhat;
      }
      const m = sumGX / cols;
      for (let j = 0; j < cols; j++) dx[o + j] += rs * (dy[o + j] * w[j] - x[o + j] * rs * m);
    }
  }

  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    checkLength('softmax', 'x', x, rows * cols); checkLength('softmax', 'y', y, rows * cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let mx = -Infinity;
      for (let j = 0; j < cols; j++) if (x[o + j] > mx) mx = x[o + j];
      let s = 0;
      for (let j = 0; j < cols; j++) { const e = Math.exp(x[o + j] - mx); y[o + j] = e; s += e; }
      for (let j = 0; j < cols; j++) y[o + j] /= s;
    }
  }

  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    checkLengths('softmaxBackward', { y, dy, dx }, rows * cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let dot = 0;
      for (let j = 0; j < cols; j++) dot += dy[o + j] * y[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] += y[o + j] * (dy[o + j] - dot);
    }
  }

  logSoftmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void {
    checkLength('logSoftmax', 'x', x, rows * cols); checkLength('logSoftmax', 'y', y, rows * cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      const lse = logSumExp(x, o, cols);
      for (let j = 0; j < cols; j++) y[o + j] = x[o + j] - lse;
    }
  }

  logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void {
    checkLengths('logSoftmaxBackward', { y, dy, dx }, rows * cols);
    for (let r = 0; r < rows; r++) {
      const o = r * cols;
      let s = 0;
      for (let j = 0; j < cols; j++) s += dy[o + j];
      for (let j = 0; j < cols; j++) dx[o + j] += dy[o + j] - Math.exp(y[o + j]) * s;
    }
  }

  targetLogprobs(logits: Float32Array, targets: Int32Array, out: Float32Array, lse: Float32Array, rows: number,
    V: number, ignoreIndex: number): void {
    const op = 'targetLogprobs';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'targets', targets, rows);
    checkLength(op, 'out', out, rows); checkLength(op, 'lse', lse, rows);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t !== ignoreIndex && (t < 0 || t >= V)) {
        throw new EngineError(op, `target ${t} at row ${r} is outside the vocabulary [0, ${V}) (logits ${rows}x${V})`);
      }
    }
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      const l = logSumExp(logits, o, V);
      lse[r] = l;
      const t = targets[r];
      out[r] = t === ignoreIndex ? 0 : logits[o + t] - l;
    }
  }

  targetLogprobsBackward(logits: Float32Array, targets: Int32Array, lse: Float32Array, g: Float32Array,
    dlogits: Float32Array, rows: number, V: number, ignoreIndex: number): void {
    const op = 'targetLogprobsBackward';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'targets', targets, rows);
    checkLength(op, 'lse', lse, rows); checkLength(op, 'g', g, rows); checkLength(op, 'dlogits', dlogits, rows * V);
    for (let r = 0; r < rows; r++) {
      const t = targets[r];
      if (t === ignoreIndex || g[r] === 0) continue;
      if (t < 0 || t >= V) throw new EngineError(op, `target ${t} at row ${r} is outside [0, ${V})`);
      const o = r * V, l = lse[r], gr = g[r];
      for (let j = 0; j < V; j++) dlogits[o + j] -= gr * Math.exp(logits[o + j] - l);
      dlogits[o + t] += gr;
    }
  }

  entropy(logits: Float32Array, out: Float32Array, lse: Float32Array, rows: number, V: number): void {
    checkLength('entropy', 'logits', logits, rows * V); checkLength('entropy', 'out', out, rows);
    checkLength('entropy', 'lse', lse, rows);
    for (let r = 0; r < rows; r++) {
      const o = r * V;
      const l = logSumExp(logits, o, V);
      let px = 0;
      for (let j = 0; j < V; j++) px += Math.exp(logits[o + j] - l) * logits[o + j];
      lse[r] = l;
      out[r] = l - px;
    }
  }

  entropyBackward(logits: Float32Array, lse: Float32Array, h: Float32Array, g: Float32Array,
    dlogits: Float32Array, rows: number, V: number): void {
    const op = 'entropyBackward';
    checkLength(op, 'logits', logits, rows * V); checkLength(op, 'lse', lse, rows); checkLength(op, 'h', h, rows);
    checkLength(op, 'g', g, rows); checkLength(op, 'dlogits', dlogits, rows * V);
    for (let r = 0; r < rows; r++) {
      const o = r * V, l = lse[r], hr = h[r], gr = g[r];
      if (gr === 0) continue;
      for (let j = 0; j < V; j++) {
        const logp = logits[o + j] - l;
        dlogits[o + j] -= gr * Math.exp(logp) * (logp + hr);
      }
    }
  }

  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, probs: Float32Array,
    p: AttentionParams): void {
    checkAttention('attention', p, q, k, v, probs);
    const { B, H, T, S, D, causal, scale, keyMask } = p, L = p.keyCapacity ?? S;
    checkLength('attention', 'out', out, B * H * T * D);
    const offset = S - T;
    const scores = new Float64Array(S);
    forEachQueryRow(p, ({ b, i, qRow, oRow, pRow, kBase, vBase, kvStride }) => {
      let mx = -Infinity;
      for (let j = 0; j < S; j++) {
        const visible = (!causal || j <= i + offset) && (!keyMask || keyMask[b * L + j] !== 0);
        if (!visible) { scores[j] = -Infinity; continue; }
        let s = 0;
        for (let d = 0; d < D; d++) s += q[qRow + d] * k[kBase + j * kvStride + d];
        scores[j] = s * scale;
        if (scores[j] > mx) mx = scores[j];
      }
      let sum = 0;
      for (let j = 0; j < S; j++) {
        const e = mx === -Infinity ? 0 : Math.exp(scores[j] - mx);
        scores[j] = e; sum += e;
      }
      for (let j = 0; j < S; j++) probs[pRow + j] = sum > 0 ? scores[j] / sum : 0;
      for (let d = 0; d < D; d++) {
        let acc = 0;
        for (let j = 0; j < S; j++) acc += probs[pRow + j] * v[vBase + j * kvStride + d];
        out[oRow + d] = acc;
      }
    });
  }

  attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dout: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array, p: AttentionParams): void {
    const op = 'attentionBackward';
    checkAttention(op, p, q, k, v, probs);
    const { S, D, scale } = p, n = attentionLengths(p);
    checkLength(op, 'dout', dout, n.out); checkLength(op, 'dq', dq, n.q);
    checkLength(op, 'dk', dk, n.kv); checkLength(op, 'dv', dv, n.kv);
    const dp = new Float64Array(S);
    forEachQueryRow(p, ({ qRow, oRow, pRow, kBase, vBase, kvStride }) => {
      let dot = 0;
      for (let j = 0; j < S; j++) {
        const pj = probs[pRow + j];
        let s = 0;
        for (let d = 0; d < D; d++) s += dout[oRow + d] * v[vBase + j * kvStride + d];
        dp[j] = s;
        dot += s * pj;
        if (pj !== 0) for (let d = 0; d < D; d++) dv[vBase + j * kvStride + d] += pj * dout[oRow + d];
      }
      for (let j = 0; j < S; j++) {
        const pj = probs[pRow + j];
        if (pj === 0) continue;
        const ds = pj * (dp[j] - dot) * scale;
        for (let d = 0; d < D; d++) {
          dq[qRow + d] += ds * k[kBase + j * kvStride + d];
          dk[kBase + j * kvStride + d] += ds * q[qRow + d];
        }
      }
    });
  }

  headsLayout(src: Float32Array, dst: Float32Array, B: number, T: number, H: number, D: number, W: number,
    offset: number, toHeads: boolean, accumulate: boolean): void {
    checkHeadsLayout('headsLayout', src, dst, B, T, H, D, W, offset, toHeads);
    for (let b = 0; b < B; b++) for (let t = 0; t < T; t++) for (let h = 0; h < H; h++) {
      const tokenMajor = (b * T + t) * W + offset + h * D, headMajor = ((b * H + h) * T + t) * D;
      const from = toHeads ? tokenMajor : headMajor, to = toHeads ? headMajor : tokenMajor;
      if (accumulate) for (let d = 0; d < D; d++) dst[to + d] += src[from + d];
      else for (let d = 0; d < D; d++) dst[to + d] = src[from + d];
    }
  }

  embedding(table: Float32Array, ids: Int32Array, out: Float32Array, n: number, D: number, V: number): void {
    checkLength('embedding', 'table', table, V * D); checkLength('embedding', 'ids', ids, n);
    checkLength('embedding', 'out', out, n * D);
    checkIds('embedding', ids, n, V);
    for (let i = 0; i < n; i++) out.set(table.subarray(ids[i] * D, ids[i] * D + D), i * D);
  }

  embeddingBackward(dout: Float32Array, ids: Int32Array, dtable: Float32Array, n: number, D: number, V: number): void {
    const op = 'embeddingBackward';
    checkLength(op, 'dout', dout, n * D); checkLength(op, 'ids', ids, n); checkLength(op, 'dtable', dtable, V * D);
    checkIds(op, ids, n, V);
    for (let i = 0; i < n; i++) {
      const o = ids[i] * D;
      for (let d = 0; d < D; d++) dtable[o + d] += dout[i * D + d];
    }
  }

  adamw(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number,
    beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
    gradScale: number): void {
    checkLengths('adamw', { param, grad, m, v }, n);
    for (let i = 0; i < n; i++) {
      const g = grad[i] * gradScale;
      m[i] = beta1 * m[i] + (1 - beta1) * g;
      v[i] = beta2 * v[i] + (1 - beta2) * g * g;
      const mhat = m[i] / bc1, vhat = v[i] / bc2;
      param[i] -= lr * (mhat / (Math.sqrt(vhat) + eps) + weightDecay * param[i]);
    }
  }

  sumSquares(x: Float32Array, n: number): number {
    checkLength('sumSquares', 'x', x, n);
    let s = 0;
    for (let i = 0; i < n; i++) s += x[i] * x[i];
    return s;
  }

  firstNonFinite(x: Float32Array, n: number): number {
    checkLength('firstNonFinite', 'x', x, n);
    for (let i = 0; i < n; i++) if (!Number.isFinite(x[i])) return i;
    return -1;
  }
}

function logSumExp(x: Float32Array, offset: number, n: number): number {
  let mx = -Infinity;
  for (let j = 0; j < n; j++) if (x[offset + j] > mx) mx = x[offset + j];
  if (mx === -Infinity) return -Infinity;
  let s = 0;
  for (let j = 0; j < n; j++) s += Math.exp(x[offset + j] - mx);
  return mx + Math.log(s);
}

function checkIds(op: string, ids: Int32Array, n: number, V: number): void {
  for (let i = 0; i < n; i++) {
    if (ids[i] < 0 || ids[i] >= V) {
      throw new EngineError(op, `index ${ids[i]} at position ${i} is outside the table [0, ${V})`);
    }
  }
}
