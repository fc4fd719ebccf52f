// The kernel interface every backend implements (js reference, native C addon, wasm SIMD fallback).
// Kernels work on flat row-major Float32Arrays with explicit sizes; they know nothing of tensors or autograd.
// Convention: forward kernels OVERWRITE their outputs; backward kernels ACCUMULATE (+=) into gradient outputs.

export type BackendName = 'js' | 'native' | 'wasm';

/** C[b] = alpha * op(A[b]) @ op(B[b]) + beta * C[b], op(A): (M, K), op(B): (K, N), C: (M, N), all row-major. */
export interface GemmParams {
  a: Float32Array;     // (batch, M, K) or (batch, K, M) when transA
  b: Float32Array;     // (batch, K, N) or (batch, N, K) when transB
  c: Float32Array;     // (batch, M, N)
  M: number;
  N: number;
  K: number;
  transA: boolean;
  transB: boolean;
  alpha: number;
  beta: number;        // 0: C is overwritten (never read, so NaN in C does not leak); 1: accumulate
  batch: number;
  strideA: number;     // elements between batches of A (0 broadcasts A)
  strideB: number;     // elements between batches of B (0 broadcasts B)
  strideC: number;     // elements between batches of C
  sumsB?: Float32Array; // (N) += Σ_k op(B)[k, j] over every batch item, in float32 (under gemmMixed from the unrounded
                        // operand), never scaled by alpha: a projection's bias gradient, summed while its weight
                        // gradient packs dY instead of in a pass of its own
  biasC?: Float32Array; // (N) added (float32, unrounded) to every row of every item's C after alpha and beta: a
                        // projection's bias, added as the tiles are stored instead of in a pass of its own
}

/** Fused causal self-attention over heads; K/V may have fewer heads than Q (grouped-query attention). */
export interface AttentionParams {
  B: number;           // batch
  H: number;           // query heads
  Hkv: number;         // key/value heads, H % Hkv === 0
  T: number;           // query positions
  S: number;           // key positions (S >= T; the queries are the last T of S positions)
  D: number;           // head size
  causal: boolean;     // query i may see key j iff j <= i + (S - T)
  scale: number;       // usually 1 / sqrt(D)
  keyMask: Float32Array | null; // (B, keyCapacity): 1 = attend, 0 = padding; a query that sees no key outputs 0
  keyCapacity?: number; // positions per (b, head) row of k and v and per b of keyMask (default S, ≥ S): the first S
                        // positions of a KV cache's rows read in place. Forward only: the backward needs S.
  tokenMajor?: TokenMajorLayout | null; // q, k and v read in place from a fused projection's rows (default head-major)
}

/**
 * Attention's token-major layout: q (B, T, W), k and v (B, S, W), the rows of one fused projection (GPT-2's c_attn),
 * with query head h at columns q + h·D and key/value head g at k + g·D and v + g·D; out and dout (B, T, H·D), the heads
 * merged; dq, dk and dv laid out as q, k and v. No copies into heads and back. Not with keyCapacity.
 */
export interface TokenMajorLayout {
  W: number;   // floats a row
  q: number;   // first column of query head 0
  k: number;   // of key head 0
  v: number;   // of value head 0
}

export interface Backend {
  readonly name: BackendName;
  /** Threads the backend uses for its heavy kernels. */
  readonly threads: number;

  /** With sumsB, op(B)'s column sums are added into it as well; with biasC, the bias is added to C (GemmParams). */
  gemm(p: GemmParams): void;
  /**
   * C (M, N) = bf16(A) (M, K) @ Wᵀ with W (N, K) bfloat16 bits (weights for generation): A rounded to bf16 (nearest
   * even), each product exact, summed in float32 (float64 in js); C overwritten. No gradient.
   */
  gemmBf16(a: Float32Array, w: Uint16Array, c: Float32Array, M: number, N: number, K: number): void;
  /**
   * gemm with op(A) and op(B) rounded to bf16 (nearest even) and each product exact, summed in float32 (float64 in js):
   * mixed-precision training's products (precision.ts). vdpbf16ps on the native backend where the CPU has it.
   * sumsB and biasC as gemm's.
   */
  gemmMixed(p: GemmParams): void;

  /** x (rows, cols) += bias (cols), in place. */
  biasAdd(x: Float32Array, bias: Float32Array, rows: number, cols: number): void;
  /** out (cols) += column sums of x (rows, cols). Used for bias gradients. */
  sumRowsInto(x: Float32Array, out: Float32Array, rows: number, cols: number): void;
  /** out = a + b, elementwise over n. */
  add(a: Float32Array, b: Float32Array, out: Float32Array, n: number): void;
  /** y += alpha * x over n. */
  axpy(alpha: number, x: Float32Array, y: Float32Array, n: number): void;

  /** y = GELU_tanh(x) = 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3))). */
  gelu(x: Float32Array, y: Float32Array, n: number): void;
  /** dx += dy * GELU_tanh'(x); with accumulate false, dx = dy * GELU_tanh'(x) (dx never read: no zero-fill first). */
  geluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate?: boolean): void;
  /** y = x * sigmoid(x). */
  silu(x: Float32Array, y: Float32Array, n: number): void;
  /** dx += dy * silu'(x); with accumulate false, dx = dy * silu'(x). */
  siluBackward(x: Float32Array, dy: Float32Array, dx: Float32Array, n: number, accumulate?: boolean): void;

  /** y = (x - mean) * rstd * w + b per row; writes mean (rows) and rstd (rows) for the backward. */
  layerNorm(x: Float32Array, w: Float32Array, b: Float32Array, y: Float32Array, mean: Float32Array,
    rstd: Float32Array, rows: number, cols: number, eps: number): void;
  /** dx += ..., dw += ..., db += ... */
  layerNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, mean: Float32Array, rstd: Float32Array,
    dx: Float32Array, dw: Float32Array, db: Float32Array, rows: number, cols: number): void;
  /** y = x * rstd * w per row, rstd = 1 / sqrt(mean(x^2) + eps); writes rstd (rows). */
  rmsNorm(x: Float32Array, w: Float32Array, y: Float32Array, rstd: Float32Array, rows: number, cols: number,
    eps: number): void;
  /** dx += ..., dw += ... */
  rmsNormBackward(dy: Float32Array, x: Float32Array, w: Float32Array, rstd: Float32Array, dx: Float32Array,
    dw: Float32Array, rows: number, cols: number): void;

  /** y = softmax(x) over the last axis, rows of length cols. */
  softmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** dx += y * (dy - sum(dy * y)). */
  softmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;
  /** y = x - logsumexp(x) per row. */
  logSoftmax(x: Float32Array, y: Float32Array, rows: number, cols: number): void;
  /** dx += dy - exp(y) * sum(dy). */
  logSoftmaxBackward(y: Float32Array, dy: Float32Array, dx: Float32Array, rows: number, cols: number): void;

  /**
   * Fused log-probability of a target per row: lse[r] = logsumexp(logits[r]), out[r] = logits[r, t_r] - lse[r].
   * Rows whose target equals ignoreIndex get out 0 (lse is still written). Throws on a target outside [0, V).
   */
  targetLogprobs(logits: Float32Array, targets: Int32Array, out: Float32Array, lse: Float32Array, rows: number,
    V: number, ignoreIndex: number): void;
  /** dlogits[r] += g[r] * (onehot(t_r) - softmax(logits[r])); ignored rows get nothing. */
  targetLogprobsBackward(logits: Float32Array, targets: Int32Array, lse: Float32Array, g: Float32Array,
    dlogits: Float32Array, rows: number, V: number, ignoreIndex: number): void;
  /** out[r] = entropy of softmax(logits[r]) = lse - sum p x; lse (rows) is written. */
  entropy(logits: Float32Array, out: Float32Array, lse: Float32Array, rows: number, V: number): void;
  /** dlogits[r, j] += g[r] * -p_j (log p_j + H_r). */
  entropyBackward(logits: Float32Array, lse: Float32Array, h: Float32Array, g: Float32Array,
    dlogits: Float32Array, rows: number, V: number): void;

  /**
   * out (B, H, T, D) = softmax(q k^T * scale + mask) v, q: (B, H, T, D), k, v: (B, Hkv, S, D); with p.tokenMajor, q,
   * k, v and out in that layout instead. probs (B, H, T, S) receives the attention weights (saved for the backward; 0
   * where masked).
   */
  attention(q: Float32Array, k: Float32Array, v: Float32Array, out: Float32Array, probs: Float32Array,
    p: AttentionParams): void;
  /** dq += ..., dk += ..., dv += ... given the saved probs. */
  attentionBackward(q: Float32Array, k: Float32Array, v: Float32Array, probs: Float32Array, dout: Float32Array,
    dq: Float32Array, dk: Float32Array, dv: Float32Array, p: AttentionParams): void;

  /**
   * Moves attention heads between the token-major layout (B, T, W), heads at columns [offset, offset + H·D), and the
   * head-major layout (B, H, T, D). toHeads: src is (B, T, W), dst (B, H, T, D); else src (B, H, T, D), dst (B, T, W).
   * accumulate: dst += src (the backward of the opposite move); else dst = src (untouched columns keep their values).
   */
  headsLayout(src: Float32Array, dst: Float32Array, B: number, T: number, H: number, D: number, W: number,
    offset: number, toHeads: boolean, accumulate: boolean): void;

  /** out (n, D) = table[ids] ; throws naming the index when an id is outside [0, V). */
  embedding(table: Float32Array, ids: Int32Array, out: Float32Array, n: number, D: number, V: number): void;
  /** dtable[ids[i]] += dout[i] (scatter-add; repeated ids accumulate). */
  embeddingBackward(dout: Float32Array, ids: Int32Array, dtable: Float32Array, n: number, D: number, V: number): void;

  /**
   * Decoupled AdamW (Loshchilov & Hutter, arXiv 1711.05101), in place over n elements:
   * m = b1 m + (1-b1) g; v = b2 v + (1-b2) g^2; p -= lr * (m / bc1 / (sqrt(v / bc2) + eps) + wd * p).
   * gradScale multiplies g first (gradient clipping and accumulation averaging fold into it).
   */
  adamw(param: Float32Array, grad: Float32Array, m: Float32Array, v: Float32Array, n: number, lr: number,
    beta1: number, beta2: number, eps: number, weightDecay: number, bc1: number, bc2: number,
    gradScale: number): void;

  /** sum of x^2 over n, accumulated in float64. */
  sumSquares(x: Float32Array, n: number): number;
  /** index of the first NaN/Inf in x[0..n), or -1. */
  firstNonFinite(x: Float32Array, n: number): number;
}

/** Error thrown by kernels and ops on bad input: names the op and the shapes involved. */
export class EngineError extends Error {
  constructor(readonly op: string, message: string) {
    super(`${op}: ${message}`);
    this.name = 'EngineError';
  }
}

/** Checks a buffer holds at least `need` elements; every backend entry point calls it before touching memory. */
export function checkLength(op: string, name: string, buffer: ArrayLike<number>, need: number): void {
  if (!Number.isInteger(need) || need < 0) throw new EngineError(op, `${name}: invalid size ${need}`);
  if (buffer.length < need) {
    throw new EngineError(op, `${name} has ${buffer.length} elements, needs ${need}`);
  }
}

/** checkLength for buffers that all need `need` elements, named by their keys: `checkLengths(op, { y, dy, dx }, n)`. */
export function checkLengths(op: string, buffers: Record<string, ArrayLike<number>>, need: number): void {
  for (const name in buffers) checkLength(op, name, buffers[name], need);
}
