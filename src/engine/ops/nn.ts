// Neural-network ops on fused backend kernels: activations, norms, softmax, embedding, attention, dropout, and
// the log-prob family (per-token log-probs, entropy, cross-entropy with ignore-index and per-token weights).
// Leaves out: fused MLP blocks; convolution.
import { EngineError } from '../backend.ts';
import { getBackend } from '../backends/index.ts';
import type { Rng } from '../random.ts';
import { allocOutput, allocZeros, isGradEnabled, makeOutput, shapeString, Tensor } from '../tensor.ts';

function lastAxis(op: string, x: Tensor): [rows: number, cols: number] {
  if (x.rank < 1) throw new EngineError(op, `needs at least one axis, got a scalar`);
  const cols = x.shape[x.rank - 1];
  return [cols === 0 ? 0 : x.size / cols, cols];
}

export function gelu(x: Tensor): Tensor {
  const backend = getBackend(), out = allocOutput(x.size);
  backend.gelu(x.data, out, x.size);
  return makeOutput('gelu', out, x.shape, [x], (o) => {
    const { grad, beta } = x.gradForOverwrite(); // first writer: no zero-fill (the MLP's 4x-wide pre-activation)
    backend.geluBackward(x.data, o.grad!, grad, x.size, beta === 1);
  });
}

export function silu(x: Tensor): Tensor {
  const backend = getBackend(), out = allocOutput(x.size);
  backend.silu(x.data, out, x.size);
  return makeOutput('silu', out, x.shape, [x], (o) => {
    const { grad, beta } = x.gradForOverwrite();
    backend.siluBackward(x.data, o.grad!, grad, x.size, beta === 1);
  });
}

function checkNormWeight(op: string, x: Tensor, w: Tensor, cols: number): void {
  if (w.size !== cols) throw new EngineError(op, `weight ${shapeString(w.shape)} does not match last axis of ${shapeString(x.shape)}`);
}

/** LayerNorm over the last axis (Ba et al. 2016), fused forward and backward. */
export function layerNorm(x: Tensor, weight: Tensor, bias: Tensor, eps = 1e-5): Tensor {
  const [rows, cols] = lastAxis('layerNorm', x);
  checkNormWeight('layerNorm', x, weight, cols);
  checkNormWeight('layerNorm', x, bias, cols);
  const backend = getBackend();
  const out = allocOutput(x.size), mean = allocOutput(rows), rstd = allocOutput(rows);
  backend.layerNorm(x.data, weight.data, bias.data, out, mean, rstd, rows, cols, eps);
  return makeOutput('layerNorm', out, x.shape, [x, weight, bias], (o) => {
    const dx = x.requiresGrad ? x.gradBuffer() : allocZeros(x.size);
    const dw = weight.requiresGrad ? weight.gradBuffer() : new Float32Array(cols);
    const db = bias.requiresGrad ? bias.gradBuffer() : new Float32Array(cols);
    backend.layerNormBackward(o.grad!, x.data, weight.data, mean, rstd, dx, dw, db, rows, cols);
  }, [mean, rstd]);
}

/** RMSNorm over the last axis (Zhang & Sennrich 2019, arXiv 1910.07467), as in Llama. */
export function rmsNorm(x: Tensor, weight: Tensor, eps = 1e-6): Tensor {
  const [rows, cols] = lastAxis('rmsNorm', x);
  checkNormWeight('rmsNorm', x, weight, cols);
  const backend = getBackend();
  const out = allocOutput(x.size), rstd = allocOutput(rows);
  backend.rmsNorm(x.data, weight.data, out, rstd, rows, cols, eps);
  return makeOutput('rmsNorm', out, x.shape, [x, weight], (o) => {
    const dx = x.requiresGrad ? x.gradBuffer() : allocZeros(x.size);
    const dw = weight.requiresGrad ? weight.gradBuffer() : new Float32Array(cols);
    backend.rmsNormBackward(o.grad!, x.data, weight.data, rstd, dx, dw, rows, cols);
  }, [rstd]);
}

/** Softmax over the last axis. */
export function softmax(x: Tensor): Tensor {
  const [rows, cols] = lastAxis('softmax', x);
  const backend = getBackend(), out = allocOutput(x.size);
  backend.softmax(x.data, out, rows, cols);
  return makeOutput('softmax', out, x.shape, [x], (o) => backend.softmaxBackward(o.data, o.grad!, x.gradBuffer(), rows, cols));
}

/** Log-softmax over the last axis. */
export function logSoftmax(x: Tensor): Tensor {
  const [rows, cols] = lastAxis('logSoftmax', x);
  const backend = getBackend(), out = allocOutput(x.size);
  backend.logSoftmax(x.data, out, rows, cols);
  return makeOutput('logSoftmax', out, x.shape, [x], (o) => backend.logSoftmaxBackward(o.data, o.grad!, x.gradBuffer(), rows, cols));
}

/** Rows of table (V, D) picked by ids; result shape idsShape + [D]. Out-of-range ids are an error. */
export function embedding(table: Tensor, ids: Int32Array, idsShape: readonly number[] = [ids.length]): Tensor {
  if (table.rank !== 2) throw new EngineError('embedding', `table must be (V, D), got ${shapeString(table.shape)}`);
  const [V, D] = table.shape;
  const n = ids.length;
  if (idsShape.reduce((p, d) => p * d, 1) !== n) throw new EngineError('embedding', `ids shape ${shapeString(idsShape)} does not hold ${n} ids`);
  const backend = getBackend(), out = allocOutput(n * D);
  backend.embedding(table.data, ids, out, n, D, V);
  return makeOutput('embedding', out, [...idsShape, D], [table], (o) => backend.embeddingBackward(o.grad!, ids, table.gradBuffer(), n, D, V));
}

/** log π(target) per row of logits (..., V); rows whose target is ignoreIndex give 0. Shape: logits minus last axis. */
export function targetLogprobs(logits: Tensor, targets: Int32Array, ignoreIndex = -100): Tensor {
  const [rows, V] = lastAxis('targetLogprobs', logits);
  if (targets.length !== rows) throw new EngineError('targetLogprobs', `${targets.length} targets for logits ${shapeString(logits.shape)} (${rows} rows)`);
  const backend = getBackend();
  const out = allocOutput(rows), lse = new Float32Array(rows);
  backend.targetLogprobs(logits.data, targets, out, lse, rows, V, ignoreIndex);
  return makeOutput('targetLogprobs', out, logits.shape.slice(0, -1), [logits], (o) =>
    backend.targetLogprobsBackward(logits.data, targets, lse, o.grad!, logits.gradBuffer(), rows, V, ignoreIndex));
}

/** Entropy of softmax(logits) per row, in nats. Shape: logits minus last axis. */
export function entropy(logits: Tensor): Tensor {
  const [rows, V] = lastAxis('entropy', logits);
  const backend = getBackend();
  const out = allocOutput(rows), lse = new Float32Array(rows);
  backend.entropy(logits.data, out, lse, rows, V);
  return makeOutput('entropy', out, logits.shape.slice(0, -1), [logits], (o) =>
    backend.entropyBackward(logits.data, lse, o.data, o.grad!, logits.gradBuffer(), rows, V));
}

export interface CrossEntropyOptions {
  ignoreIndex?: number;          // targets equal to this contribute nothing (default -100, as in PyTorch)
  weights?: Float32Array | null; // (rows) per-token weights, e.g. a response mask
  reduction?: 'mean' | 'sum';    // mean divides by the summed weight of counted tokens
}

/**
 * Cross-entropy of logits (..., V) against integer targets, fused: loss = Σ w_r · (−log p(t_r)) / Σ w_r.
 * A NaN/Inf loss is an error naming the shapes. All tokens ignored gives loss 0 with zero gradient.
 */
export function crossEntropy(logits: Tensor, targets: Int32Array, options: CrossEntropyOptions = {}): Tensor {
  const ignoreIndex = options.ignoreIndex ?? -100;
  const [rows, V] = lastAxis('crossEntropy', logits);
  if (targets.length !== rows) throw new EngineError('crossEntropy', `${targets.length} targets for logits ${shapeString(logits.shape)} (${rows} rows)`);
  const weights = options.weights ?? null;
  if (weights && weights.length !== rows) throw new EngineError('crossEntropy', `${weights.length} weights for ${rows} rows`);
  const backend = getBackend();
  const logp = new Float32Array(rows), lse = new Float32Array(rows);
  backend.targetLogprobs(logits.data, targets, logp, lse, rows, V, ignoreIndex);
  let total = 0, count = 0;
  for (let r = 0; r < rows; r++) {
    if (targets[r] === ignoreIndex) continue;
    const w = weights ? weights[r] : 1;
    total -= w * logp[r];
    count += w;
  }
  const denominator = options.reduction === 'sum' || count === 0 ? 1 : count;
  const out = allocOutput(1);
  out[0] = total / denominator;
  if (!Number.isFinite(out[0])) {
    throw new EngineError('crossEntropy', `loss is ${out[0]} for logits ${shapeString(logits.shape)} (non-finite logits or weights)`);
  }
  return makeOutput('crossEntropy', out, [], [logits], (o) => {
    const g = new Float32Array(rows), scale = -o.grad![0] / denominator;
    for (let r = 0; r < rows; r++) g[r] = targets[r] === ignoreIndex ? 0 : scale * (weights ? weights[r] : 1);
    backend.targetLogprobsBackward(logits.data, targets, lse, g, logits.gradBuffer(), rows, V, ignoreIndex);
  });
}

export interface AttentionOptions {
  causal?: boolean;                 // default true
  keyMask?: Float32Array | null;    // (B, S): 1 attend, 0 padding
  scale?: number;                   // default 1/sqrt(head size)
  keyLength?: number;               // attend over only the first keyLength of k's and v's S positions (queries are the
                                    // last T of those), read in place: a KV cache's written part without a copy. The
                                    // key mask stays (B, S). No gradient.
}

/**
 * Fused scaled dot-product attention: softmax(q kᵀ · scale + mask) v.
 * q: (B, H, T, D), k and v: (B, Hkv, S, D) with H a multiple of Hkv (grouped-query); queries are the last T of S.
 */
export function attention(q: Tensor, k: Tensor, v: Tensor, options: AttentionOptions = {}): Tensor {
  if (q.rank !== 4 || k.rank !== 4 || v.rank !== 4) {
    throw new EngineError('attention', `q, k, v must be 4-D (B, H, T, D); got ${shapeString(q.shape)}, ${shapeString(k.shape)}, ${shapeString(v.shape)}`);
  }
  const [B, H, T, D] = q.shape;
  const [Bk, Hkv, S, Dk] = k.shape;
  if (Bk !== B || Dk !== D || v.shape.some((d, i) => d !== k.shape[i])) {
    throw new EngineError('attention', `shapes disagree: q ${shapeString(q.shape)}, k ${shapeString(k.shape)}, v ${shapeString(v.shape)}`);
  }
  const needProbs = isGradEnabled() && (q.requiresGrad || k.requiresGrad || v.requiresGrad);
  const used = options.keyLength ?? S;
  if (used !== S) {
    if (!(Number.isInteger(used) && used >= T && used <= S)) throw new EngineError('attention', `keyLength ${used} outside [T=${T}, S=${S}]`);
    if (needProbs) throw new EngineError('attention', `keyLength ${used} < S=${S} reads part of k and v in place: no gradient (use noGrad, or pass the first keyLength positions)`);
  }
  const params = {
    B, H, Hkv, T, S: used, D, causal: options.causal ?? true, scale: options.scale ?? 1 / Math.sqrt(D),
    keyMask: options.keyMask ?? null, ...(used !== S ? { keyCapacity: S } : {}),
  };
  const backend = getBackend();
  const out = allocOutput(B * H * T * D);
  const probs = needProbs ? allocOutput(B * H * T * S) : scratchProbs(B * H * T * used);
  backend.attention(q.data, k.data, v.data, out, probs, params);
  return makeOutput('attention', out, [B, H, T, D], [q, k, v], (o) => {
    const dq = q.requiresGrad ? q.gradBuffer() : allocZeros(q.size);
    const dk = k.requiresGrad ? k.gradBuffer() : allocZeros(k.size);
    const dv = v.requiresGrad ? v.gradBuffer() : allocZeros(v.size);
    backend.attentionBackward(q.data, k.data, v.data, probs, o.grad!, dq, dk, dv, params);
  }, needProbs ? [probs] : undefined);
}

export interface FusedAttentionOptions {
  heads: number;                    // query heads H
  kvHeads?: number;                 // key/value heads (default H; H a multiple of them)
  headDim: number;                  // D
  q: number;                        // first column of query head 0 in qkv's rows
  k: number;                        // of key head 0
  v: number;                        // of value head 0
  causal?: boolean;                 // default true
  keyMask?: Float32Array | null;    // (B, T): 1 attend, 0 padding
  scale?: number;                   // default 1/sqrt(D)
}

/**
 * Attention read straight from a fused projection: qkv (B, T, W) holds query head h at columns q + h·D and key/value
 * head g at k + g·D and v + g·D (GPT-2's c_attn: q 0, k C, v 2C); returns the heads merged, (B, T, H·D). The same
 * sums, bit for bit, as splitHeads → attention → mergeHeads, without the copies into heads and back (forward) and the
 * scatter-adds (backward): the gradient lands in qkv's rows in place.
 */
export function fusedAttention(qkv: Tensor, options: FusedAttentionOptions): Tensor {
  if (qkv.rank !== 3) throw new EngineError('fusedAttention', `qkv must be (B, T, W), got ${shapeString(qkv.shape)}`);
  const [B, T, W] = qkv.shape;
  const { heads: H, headDim: D, q, k, v } = options, Hkv = options.kvHeads ?? H;
  if (!(Number.isInteger(H) && H > 0 && Number.isInteger(Hkv) && Hkv > 0 && H % Hkv === 0 && Number.isInteger(D) && D > 0)) {
    throw new EngineError('fusedAttention', `heads ${H} must be a positive multiple of kvHeads ${Hkv}, headDim ${D} positive`);
  }
  for (const [name, at, n] of [['q', q, H], ['k', k, Hkv], ['v', v, Hkv]] as const) {
    if (!(Number.isInteger(at) && at >= 0 && at + n * D <= W)) {
      throw new EngineError('fusedAttention', `${name} columns [${at}, ${at + n * D}) outside qkv ${shapeString(qkv.shape)}`);
    }
  }
  const needProbs = isGradEnabled() && qkv.requiresGrad;
  const params = { B, H, Hkv, T, S: T, D, causal: options.causal ?? true, scale: options.scale ?? 1 / Math.sqrt(D),
    keyMask: options.keyMask ?? null, tokenMajor: { W, q, k, v } };
  const backend = getBackend();
  const out = allocOutput(B * T * H * D);
  const probs = needProbs ? allocOutput(B * H * T * T) : scratchProbs(B * H * T * T);
  backend.attention(qkv.data, qkv.data, qkv.data, out, probs, params);
  return makeOutput('attention', out, [B, T, H * D], [qkv], (o) => {
    const grad = qkv.gradBuffer();                                        // dq, dk, dv: disjoint columns of its rows
    backend.attentionBackward(qkv.data, qkv.data, qkv.data, probs, o.grad!, grad, grad, grad, params);
  }, needProbs ? [probs] : undefined);
}

let scratch = new Float32Array(0);
function scratchProbs(n: number): Float32Array {
  if (scratch.length < n) scratch = new Float32Array(n);
  return scratch.subarray(0, n);
}

/** Inverted dropout: zeroes each element with probability p and scales the rest by 1/(1-p). */
export function dropout(x: Tensor, p: number, rng: Rng, training = true): Tensor {
  if (p < 0 || p >= 1) throw new EngineError('dropout', `probability ${p} outside [0, 1)`);
  if (!training || p === 0) return x;
  const keep = new Float32Array(x.size), scale = 1 / (1 - p);
  for (let i = 0; i < x.size; i++) keep[i] = rng.uniform() >= p ? scale : 0;
  const out = allocOutput(x.size);
  for (let i = 0; i < x.size; i++) out[i] = x.data[i] * keep[i];
  return makeOutput('dropout', out, x.shape, [x], (o) => {
    const g = o.grad!, gx = x.gradBuffer();
    for (let i = 0; i < x.size; i++) gx[i] += g[i] * keep[i];
  });
}
