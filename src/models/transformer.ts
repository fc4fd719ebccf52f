// Full definition of the decoder-only transformer, both families in one file, parameters in Hugging Face layout:
// GPT-2 (Radford et al. 2019: learned positions, LayerNorm, GELU-tanh, biases, Conv1D weights (in, out), tied
// embeddings) and Llama (arXiv 2302.13971: RoPE, RMSNorm, SwiGLU, grouped-query attention arXiv 2305.13245).
// Leaves out: dropout inside the base model (LoRA has its own), sliding windows, checkpoint bytes (safetensors.ts).
import {
  add, attention, type Bf16Matrix, conv1d, embedding, embeddingBf16, EngineError, fusedAttention, gelu, isGradEnabled, layerNorm, linear,
  linearBf16, mergeHeads, rmsNorm, rope, ropeTables, shapeString, slice, splitHeads, swiglu, type Tensor, concat, reshape, tensor,
} from '../engine/index.ts';
import type { TransformerConfig } from './config.ts';
import type { KvCache } from './kv-cache.ts';
import { expectedParameters } from './parameters.ts';

/**
 * Rows a ragged forward's matrix products get at least (forwardRagged): from 5 rows up, a row of a native product has the
 * same bits whatever the other rows and however many there are; below, products of 1-4 rows take other paths.
 */
export const RAGGED_MIN_ROWS = 5;

/** One sequence of a ragged forward: its new tokens, appended to its own one-row cache. */
export interface RaggedSequence { ids: Int32Array; cache: KvCache }

export interface ForwardOptions {
  cache?: KvCache;          // incremental decoding: attends to cached positions, appends the new T positions
  positions?: Int32Array;   // (B, T) position ids; default: running count of real tokens (0 on padding)
  keyMask?: Float32Array;   // (B, T) 1 = real token, 0 = padding (left or right); with a cache: the new positions
  lastOnly?: boolean;       // compute logits/hidden for the last position only: (B, 1, ·)
}

/** A hook on every projection (LoRA): gets the projection's name (e.g. `h.0.attn.c_attn`), its input and output. */
export interface ProjectionAdapter {
  adapt(name: string, x: Tensor, base: Tensor): Tensor;
}

/** GPT-2's Conv1D projections store their weight (in, out); everything else 2-D is (out, in) or a (V, C) table. */
export function isConv1dWeight(config: TransformerConfig, name: string): boolean {
  return config.family === 'gpt2' && /\.(c_attn|c_proj|c_fc)\.weight$/.test(name);
}

/** Names some GPT-2 checkpoints carry that are buffers, not parameters (the causal mask). */
const IGNORED = /^h\.\d+\.attn\.(masked_)?bias$/;

export class Transformer {
  readonly config: TransformerConfig;
  adapter: ProjectionAdapter | null = null;
  private readonly params: Map<string, Tensor>;
  private readonly bf16: Map<string, Bf16Matrix>;   // weights held in bf16 for generation, (out, in) whatever the family
  private ropeCos: Float32Array = new Float32Array(0);   // (P, D/2)
  private ropeSin: Float32Array = new Float32Array(0);   // (P, D/2)
  private invFreq = new Float64Array(0);   // (D/2)

  /**
   * bf16Weights (generation only, see bf16-weights.ts): matrices held in bf16 as (out, in) — GPT-2's Conv1D weights
   * transposed — in place of the same names in `parameters`.
   */
  constructor(config: TransformerConfig, parameters: Map<string, Tensor>, bf16Weights?: Map<string, Bf16Matrix>) {
    this.config = config;
    this.params = new Map();
    this.bf16 = new Map();
    const expected = expectedParameters(config);
    for (const [name, matrix] of bf16Weights ?? []) {
      const shape = expected.get(name);
      if (!shape || shape.length !== 2) throw new EngineError('Transformer', `unexpected bf16 weight "${name}" for a ${config.modelType} config`);
      const [rows, cols] = isConv1dWeight(config, name) ? [shape[1], shape[0]] : shape;
      if (matrix.rows !== rows || matrix.cols !== cols || matrix.bits.length !== rows * cols) {
        throw new EngineError('Transformer', `bf16 weight "${name}" is (${matrix.rows}, ${matrix.cols}), the config needs (out, in) = (${rows}, ${cols})`);
      }
      this.bf16.set(name, matrix);
    }
    for (const [rawName, tensor] of parameters) {
      const name = config.family === 'gpt2' ? rawName.replace(/^transformer\./, '') : rawName;
      if (IGNORED.test(name) || (name === 'lm_head.weight' && config.tieWordEmbeddings && !expected.has(name))) continue;
      const shape = expected.get(name);
      if (!shape) throw new EngineError('Transformer', `unexpected parameter "${rawName}" for a ${config.modelType} config`);
      if (this.bf16.has(name)) throw new EngineError('Transformer', `parameter "${rawName}" given both in float32 and in bf16`);
      if (tensor.rank !== shape.length || tensor.shape.some((d, i) => d !== shape[i])) {
        throw new EngineError('Transformer', `parameter "${rawName}" has shape ${shapeString(tensor.shape)}, the config needs ${shapeString(shape)}`);
      }
      this.params.set(name, tensor);
    }
    for (const name of expected.keys()) {
      if (!this.params.has(name) && !this.bf16.has(name)) throw new EngineError('Transformer', `missing parameter "${name}" (${shapeString(expected.get(name)!)})`);
    }
    if (config.family === 'llama') this.buildRope(config.maxPositions);
  }

  /** The float32 parameters in Hugging Face names (GPT-2 without the `transformer.` prefix); bf16 ones are apart. */
  parameters(): Map<string, Tensor> {
    return this.params;
  }

  /** The weights held in bf16 (generation only), (out, in) each; empty for a float32 model. */
  bf16Weights(): Map<string, Bf16Matrix> {
    return this.bf16;
  }

  /** Whether weights are held in bf16 (generation only; forwardRagged needs float32). */
  get hasBf16Weights(): boolean {
    return this.bf16.size > 0;
  }

  /** Logits (B, T, V) — or (B, 1, V) with lastOnly. */
  forward(ids: Int32Array, shape: [number, number], options: ForwardOptions = {}): Tensor {
    return this.logits(this.hidden(ids, shape, options));
  }

  /** Output projection of final hidden states (..., C) → logits (..., V). */
  logits(hidden: Tensor): Tensor {
    const name = this.params.has('lm_head.weight') || this.bf16.has('lm_head.weight') ? 'lm_head.weight'
      : this.config.family === 'gpt2' ? 'wte.weight' : 'model.embed_tokens.weight';
    const head16 = this.bf16.get(name);
    if (head16) return linearBf16(hidden, head16);                          // (..., V)
    return linear(hidden, this.param(name));                               // (..., V)
  }

  /** Final normalized hidden states (B, T, C) — or (B, 1, C) with lastOnly. */
  hidden(ids: Int32Array, shape: [number, number], options: ForwardOptions = {}): Tensor {
    const [B, T] = shape;
    if (ids.length !== B * T) throw new EngineError('Transformer.forward', `${ids.length} ids for shape (B, T) = (${B}, ${T})`);
    const keyMask = options.keyMask ?? null;
    if (keyMask && keyMask.length !== B * T) throw new EngineError('Transformer.forward', `keyMask has ${keyMask.length} entries, needs (B, T) = ${B * T}`);
    const cache = options.cache;
    if (cache) cache.reserve(B, T);
    const positions = options.positions ?? defaultPositions(B, T, keyMask, cache);
    if (positions.length !== B * T) throw new EngineError('Transformer.forward', `positions has ${positions.length} entries, needs (B, T) = ${B * T}`);
    this.checkPositions(positions);
    if (cache) cache.writeMask(keyMask, T);
    const context: LayerContext = { B, T, positions, keyMask, cache };

    let x = this.blocks(this.embedInput(ids, positions, B, T),              // (B, T, C)
      (i, h) => this.project(this.attentionOutName(i), this.attendProjected(i, this.qkvProjections(i, h), context)));
    if (cache) cache.advance(T);
    if (options.lastOnly && T > 1) x = slice(x, 1, T - 1, T);               // (B, 1, C)
    return this.finalNorm(x);                                              // (B, T, C)
  }

  /**
   * Logits (S, V) of the token after each sequence: every sequence's new tokens run over its own one-row cache (which
   * they extend), all in one pass. The projections, MLPs and norms run on the rows of every sequence together, padded
   * to RAGGED_MIN_ROWS; attention runs sequence by sequence, as a one-sequence forward runs it. A row of a product does
   * not depend on the other rows from RAGGED_MIN_ROWS up, so each sequence's logits are bit for bit the same whatever
   * it is batched with, alone included (a verdict read from them ties exactly when both orders read the same text).
   * Generation only (no gradient); float32 weights (bf16 products are not row-invariant).
   */
  forwardRagged(sequences: readonly RaggedSequence[]): Tensor {
    const { config } = this, S = sequences.length;
    if (S === 0) throw new EngineError('Transformer.forwardRagged', 'no sequences');
    if (isGradEnabled()) throw new EngineError('Transformer.forwardRagged', 'generation only: call it under noGrad');
    if (this.hasBf16Weights) throw new EngineError('Transformer.forwardRagged', 'needs float32 weights (bf16 products are not row-invariant)');
    const offsets: number[] = [];
    let real = 0;
    for (const [k, { ids, cache }] of sequences.entries()) {
      if (ids.length === 0) throw new EngineError('Transformer.forwardRagged', `sequence ${k} has no tokens`);
      if (cache.batch !== 1) throw new EngineError('Transformer.forwardRagged', `sequence ${k}'s cache has ${cache.batch} rows, needs 1`);
      offsets.push(real);
      real += ids.length;
    }
    const M = Math.max(real, RAGGED_MIN_ROWS);
    const ids = new Int32Array(M), positions = new Int32Array(M);        // (1, M): the sequences' tokens, then padding
    const contexts = sequences.map(({ ids: own, cache }, k): LayerContext => {
      const T = own.length;
      cache.reserve(1, T);
      const mine = defaultPositions(1, T, null, cache);
      this.checkPositions(mine);
      cache.writeMask(null, T);
      ids.set(own, offsets[k]);
      positions.set(mine, offsets[k]);
      return { B: 1, T, positions: mine, keyMask: null, cache };
    });
    const x = this.blocks(this.embedInput(ids, positions, 1, M), (i, h) => {   // (1, M, C)
      // projections on all M rows, attention sequence by sequence over its own rows, padding rows zero
      const projections = this.qkvProjections(i, h);
      const parts = contexts.map((context, k) => this.attendProjected(i, projections.map((p) => slice(p, 1, offsets[k]!, offsets[k]! + context.T)), context));
      if (M > real) parts.push(tensor(new Float32Array((M - real) * config.hiddenSize), [1, M - real, config.hiddenSize]));
      return this.project(this.attentionOutName(i), concat(parts, 1));      // (1, M, C)
    });
    for (const context of contexts) context.cache!.advance(context.T);
    const last = contexts.map((c, k) => slice(x, 1, offsets[k]! + c.T - 1, offsets[k]! + c.T));           // (1, 1, C) each
    while (last.length < RAGGED_MIN_ROWS) last.push(last[0]!);
    const logits = this.logits(this.finalNorm(concat(last, 1)));           // (1, ≥S, V)
    return reshape(slice(logits, 1, 0, S), [S, config.vocabSize]);         // (S, V)
  }

  // ----------------------------------------------------------------------------------------------------------
  // Blocks.

  /** Token (and GPT-2's position) embeddings (B, T, C). */
  private embedInput(ids: Int32Array, positions: Int32Array, B: number, T: number): Tensor {
    if (this.config.family !== 'gpt2') return this.embed('model.embed_tokens.weight', ids, B, T);
    return add(this.embed('wte.weight', ids, B, T), embedding(this.param('wpe.weight'), positions, [B, T]));   // tokens + positions
  }

  /** The decoder layers over x (B, T, C): pre-norm attention (`attention(i, normed x)`, projected out) and MLP, each added. */
  private blocks(x: Tensor, attention: (i: number, h: Tensor) => Tensor): Tensor {
    for (let i = 0; i < this.config.numLayers; i++) {
      x = add(x, attention(i, this.norm(x, this.layerName(i, 'norm1'))));   // (B, T, C)
      x = add(x, this.mlpBlock(i, this.norm(x, this.layerName(i, 'norm2'))));   // (B, T, C)
    }
    return x;
  }

  private finalNorm(x: Tensor): Tensor {
    return this.norm(x, this.config.family === 'gpt2' ? 'ln_f' : 'model.norm');
  }

  /** Layer i's attention projections of h (B, T, C): GPT-2's fused qkv (B, T, 3C), or Llama's q, k and v. */
  private qkvProjections(i: number, h: Tensor): Tensor[] {
    if (this.config.family === 'gpt2') return [this.project(`h.${i}.attn.c_attn`, h)];
    const p = `model.layers.${i}.self_attn`;
    return [this.project(`${p}.q_proj`, h), this.project(`${p}.k_proj`, h), this.project(`${p}.v_proj`, h)];
  }

  /** Attention of layer i from its projections (B, T, ·) (qkvProjections) in `context`, heads merged: (B, T, C). */
  private attendProjected(i: number, projections: Tensor[], context: LayerContext): Tensor {
    const { numHeads: H, numKvHeads: Hkv, headDim: D, hiddenSize: C } = this.config;
    let q: Tensor, k: Tensor, v: Tensor;
    if (this.config.family === 'gpt2') {
      const [qkv] = projections as [Tensor];
      // no cache: the heads read in place from qkv's rows, merged as they are written (no layout copies)
      if (!context.cache) {
        return fusedAttention(qkv, { heads: H, headDim: D, q: 0, k: C, v: 2 * C, causal: true, keyMask: context.keyMask });
      }
      q = splitHeads(qkv, 0, H, D);                                        // (B, H, T, D)
      k = splitHeads(qkv, C, H, D);                                        // (B, H, T, D)
      v = splitHeads(qkv, 2 * C, H, D);                                    // (B, H, T, D)
    } else {
      const [pq, pk, pv] = projections as [Tensor, Tensor, Tensor];
      q = rope(splitHeads(pq, 0, H, D), context.positions, this.ropeCos, this.ropeSin);     // (B, H, T, D)
      k = rope(splitHeads(pk, 0, Hkv, D), context.positions, this.ropeCos, this.ropeSin);   // (B, Hkv, T, D)
      v = splitHeads(pv, 0, Hkv, D);                                                           // (B, Hkv, T, D)
    }
    return mergeHeads(this.attend(i, q, k, v, context));                   // (B, T, C)
  }

  private attentionOutName(i: number): string {
    return this.config.family === 'gpt2' ? `h.${i}.attn.c_proj` : `model.layers.${i}.self_attn.o_proj`;
  }

  /** Causal attention over the new positions, and the cached ones when decoding. */
  private attend(i: number, q: Tensor, k: Tensor, v: Tensor, context: LayerContext): Tensor {
    const { cache, T } = context;
    if (!cache) return attention(q, k, v, { causal: true, keyMask: context.keyMask });   // (B, H, T, D)
    cache.write(i, k, v);
    if (cache.length === 0) return attention(q, k, v, { causal: true, keyMask: context.keyMask });
    const full = T === 1;                                                  // one query sees every written key
    // A chunk of queries attends over the first length + T positions of the cache's rows in place (no copy), unless
    // a gradient is recorded (attention's backward reads whole rows: then a contiguous copy).
    const inPlace = !full && !isGradEnabled();
    context.windowMask ??= cache.windowMask(T, full || inPlace);
    if (inPlace) {
      const rows = cache.window(i, T, true);                                // (B, Hkv, capacity, D) views
      return attention(q, rows.k, rows.v, { causal: true, keyMask: context.windowMask, keyLength: cache.length + T });
    }
    const window = cache.window(i, T, full);                              // (B, Hkv, S, D)
    return attention(q, window.k, window.v, { causal: !full, keyMask: context.windowMask });
  }

  private mlpBlock(i: number, h: Tensor): Tensor {
    if (this.config.family === 'gpt2') {
      const u = gelu(this.project(`h.${i}.mlp.c_fc`, h));                  // (B, T, F)
      return this.project(`h.${i}.mlp.c_proj`, u);                         // (B, T, C)
    }
    const p = `model.layers.${i}.mlp`;
    const g = swiglu(this.project(`${p}.gate_proj`, h), this.project(`${p}.up_proj`, h));  // (B, T, F)
    return this.project(`${p}.down_proj`, g);                              // (B, T, C)
  }

  /** Token embeddings (B, T, C), from the float32 table or the bf16 one. */
  private embed(name: string, ids: Int32Array, B: number, T: number): Tensor {
    const table16 = this.bf16.get(name);
    return table16 ? embeddingBf16(table16, ids, [B, T]) : embedding(this.param(name), ids, [B, T]);
  }

  /** A projection by module name: Conv1D (GPT-2, weight (in, out)) or nn.Linear (Llama, weight (out, in)); bf16 (out, in). */
  private project(name: string, x: Tensor): Tensor {
    const bias = this.params.get(`${name}.bias`) ?? null;
    const weight16 = this.bf16.get(`${name}.weight`);
    if (weight16) {
      const out16 = linearBf16(x, weight16, bias);                          // (..., out)
      return this.adapter ? this.adapter.adapt(name, x, out16) : out16;
    }
    const weight = this.param(`${name}.weight`);
    const out = this.config.family === 'gpt2' ? conv1d(x, weight, bias) : linear(x, weight, bias);  // (..., out)
    return this.adapter ? this.adapter.adapt(name, x, out) : out;
  }

  private norm(x: Tensor, name: string): Tensor {
    if (this.config.family === 'gpt2') {
      return layerNorm(x, this.param(`${name}.weight`), this.param(`${name}.bias`), this.config.normEps);
    }
    return rmsNorm(x, this.param(`${name}.weight`), this.config.normEps);
  }

  private layerName(i: number, which: 'norm1' | 'norm2'): string {
    if (this.config.family === 'gpt2') return `h.${i}.${which === 'norm1' ? 'ln_1' : 'ln_2'}`;
    return `model.layers.${i}.${which === 'norm1' ? 'input_layernorm' : 'post_attention_layernorm'}`;
  }

  private param(name: string): Tensor {
    const t = this.params.get(name);
    if (!t) throw new EngineError('Transformer', `missing parameter "${name}"`);
    return t;
  }

  // ----------------------------------------------------------------------------------------------------------
  // Positions.

  private checkPositions(positions: Int32Array): void {
    let max = 0;
    for (let i = 0; i < positions.length; i++) {
      if (positions[i] < 0) throw new EngineError('Transformer.forward', `position ${positions[i]} at index ${i} is negative`);
      if (positions[i] > max) max = positions[i];
    }
    if (this.config.family === 'gpt2' && max >= this.config.maxPositions) {
      throw new EngineError('Transformer.forward', `position ${max} is beyond n_positions ${this.config.maxPositions}`);
    }
    if (this.config.family === 'llama' && max >= this.ropeCos.length / (this.config.headDim / 2)) this.buildRope(2 * max + 1);
  }

  /** Inverse frequencies theta^(-2i/D) (with Llama-3 scaling when configured) and cos/sin tables for P positions. */
  private buildRope(P: number): void {
    const { headDim: D, ropeTheta, ropeScaling } = this.config;
    if (this.invFreq.length === 0) {
      this.invFreq = new Float64Array(D / 2).map((_, i) => Math.fround(1 / Math.pow(ropeTheta, (2 * i) / D)));
      if (ropeScaling) {
        const { factor, lowFreqFactor, highFreqFactor, originalMaxPositions: old } = ropeScaling;
        const lowWavelen = old / lowFreqFactor, highWavelen = old / highFreqFactor;
        this.invFreq = this.invFreq.map((f) => {
          const wavelen = (2 * Math.PI) / f;
          if (wavelen < highWavelen) return f;
          if (wavelen > lowWavelen) return f / factor;
          const smooth = (old / wavelen - lowFreqFactor) / (highFreqFactor - lowFreqFactor);
          return (1 - smooth) * (f / factor) + smooth * f;
        });
      }
    }
    ({ cos: this.ropeCos, sin: this.ropeSin } = ropeTables(P, this.invFreq));
  }
}

interface LayerContext {
  B: number;
  T: number;
  positions: Int32Array;          // (B, T)
  keyMask: Float32Array | null;   // (B, T)
  cache: KvCache | undefined;
  windowMask?: Float32Array;      // (B, S) cached + new positions, shared by every layer
}

/** Position of each token: how many real tokens precede it in its row (cached ones included); 0 on padding. */
export function defaultPositions(B: number, T: number, keyMask: Float32Array | null, cache?: KvCache): Int32Array {
  const positions = new Int32Array(B * T);                                 // (B, T)
  for (let b = 0; b < B; b++) {
    let count = 0;
    if (cache) for (let j = 0; j < cache.length; j++) count += cache.keyMask[b * cache.capacity + j] !== 0 ? 1 : 0;
    for (let t = 0; t < T; t++) {
      const real = !keyMask || keyMask[b * T + t] !== 0;
      positions[b * T + t] = real ? count : Math.max(count - 1, 0);
      if (real) count++;
    }
  }
  return positions;
}
