// Transformer configuration: one normalized record for both families, read from and written to Hugging Face
// `config.json` (GPT-2 field names, and Llama/Qwen2/Mistral/SmolLM field names). Validated with zod.
// Leaves out: sliding-window attention, rope scaling types other than Llama-3's, MoE and multimodal configs.
import { z } from 'zod';
import type { StoredDtype } from './safetensors.ts';

export type ModelFamily = 'gpt2' | 'llama';
export type Activation = 'gelu_tanh' | 'silu';

/** Llama-3 style frequency scaling of RoPE (rope_scaling.rope_type === 'llama3'). */
export interface RopeScaling {
  type: 'llama3';
  factor: number;
  lowFreqFactor: number;
  highFreqFactor: number;
  originalMaxPositions: number;
}

export interface TransformerConfig {
  family: ModelFamily;
  modelType: string;          // Hugging Face model_type ('gpt2', 'llama', 'qwen2', 'mistral', ...)
  vocabSize: number;          // V
  hiddenSize: number;         // C
  numLayers: number;
  numHeads: number;           // query heads H
  numKvHeads: number;         // key/value heads (H for GPT-2; fewer for grouped-query attention)
  headDim: number;            // D (usually C / H)
  intermediateSize: number;   // MLP width (4C for GPT-2)
  maxPositions: number;       // learned positions (GPT-2) or the trained context (Llama)
  normEps: number;            // LayerNorm / RMSNorm epsilon
  ropeTheta: number;          // RoPE base (unused by GPT-2)
  ropeScaling: RopeScaling | null;
  tieWordEmbeddings: boolean; // output projection shares the token embedding
  activation: Activation;     // gelu_tanh (GPT-2 'gelu_new') or silu (SwiGLU)
  qkvBias: boolean;           // q/k/v projections have biases (GPT-2, Qwen2, Llama attention_bias)
  outputBias: boolean;        // attention output projection has a bias (GPT-2, Llama attention_bias)
  mlpBias: boolean;           // MLP projections have biases (GPT-2, Llama mlp_bias)
  bosTokenId: number | null;
  eosTokenId: number | null;
}

/** An error in a config: names the field and the file it came from. */
export class ConfigError extends Error {
  constructor(readonly source: string, readonly field: string, message: string) {
    super(`${source}: field "${field}": ${message}`);
    this.name = 'ConfigError';
  }
}

const positiveInt = z.number().int().positive();
const tokenId = z.union([z.number().int().nonnegative(), z.array(z.number().int().nonnegative())]).nullish();

const gpt2Schema = z.object({
  model_type: z.literal('gpt2'),
  vocab_size: positiveInt,
  n_embd: positiveInt,
  n_layer: positiveInt,
  n_head: positiveInt,
  n_positions: positiveInt,
  n_inner: positiveInt.nullish(),
  layer_norm_epsilon: z.number().positive().default(1e-5),
  activation_function: z.string().default('gelu_new'),
  tie_word_embeddings: z.boolean().default(true),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
});

const llamaSchema = z.object({
  model_type: z.string(),
  vocab_size: positiveInt,
  hidden_size: positiveInt,
  num_hidden_layers: positiveInt,
  num_attention_heads: positiveInt,
  num_key_value_heads: positiveInt.nullish(),
  head_dim: positiveInt.nullish(),
  intermediate_size: positiveInt,
  max_position_embeddings: positiveInt.default(2048),
  rms_norm_eps: z.number().positive().default(1e-6),
  rope_theta: z.number().positive().default(10000),
  rope_scaling: z.record(z.string(), z.unknown()).nullish(),
  tie_word_embeddings: z.boolean().default(false),
  hidden_act: z.string().default('silu'),
  attention_bias: z.boolean().optional(),
  mlp_bias: z.boolean().default(false),
  bos_token_id: tokenId,
  eos_token_id: tokenId,
});

/** model_type values read as the Llama family (RoPE, RMSNorm, SwiGLU, GQA). */
export const LLAMA_MODEL_TYPES = ['llama', 'qwen2', 'mistral', 'smollm', 'smollm2'] as const;

function firstId(value: number | number[] | null | undefined): number | null {
  if (value === null || value === undefined) return null;
  return Array.isArray(value) ? (value[0] ?? null) : value;
}

function parseWith<S extends z.ZodType>(schema: S, json: unknown, source: string): z.infer<S> {
  const result = schema.safeParse(json);
  if (!result.success) {
    const issue = result.error.issues[0];
    const field = issue.path.length > 0 ? issue.path.join('.') : '(root)';
    throw new ConfigError(source, field, issue.message);
  }
  return result.data;
}

function activationFrom(value: string, field: string, source: string): Activation {
  if (['gelu_new', 'gelu_pytorch_tanh', 'gelu_fast'].includes(value)) return 'gelu_tanh';
  if (value === 'silu' || value === 'swish') return 'silu';
  throw new ConfigError(source, field, `activation "${value}" is not supported (gelu_new, gelu_pytorch_tanh, silu)`);
}

function ropeScalingFrom(raw: Record<string, unknown> | null | undefined, source: string): RopeScaling | null {
  if (!raw) return null;
  const type = raw.rope_type ?? raw.type;
  if (type === 'default') return null;
  if (type !== 'llama3') {
    throw new ConfigError(source, 'rope_scaling.rope_type', `"${String(type)}" is not supported (llama3 or none)`);
  }
  const scaling = parseWith(z.object({
    factor: z.number().positive(), low_freq_factor: z.number().positive(), high_freq_factor: z.number().positive(),
    original_max_position_embeddings: positiveInt,
  }), raw, `${source} rope_scaling`);
  return {
    type: 'llama3', factor: scaling.factor, lowFreqFactor: scaling.low_freq_factor,
    highFreqFactor: scaling.high_freq_factor, originalMaxPositions: scaling.original_max_position_embeddings,
  };
}

/** Reads a Hugging Face config.json object (already JSON-parsed) into a TransformerConfig. */
export function configFromHf(json: unknown, source = 'config.json'): TransformerConfig {
  if (!json || typeof json !== 'object') throw new ConfigError(source, '(root)', 'expected a JSON object');
  const modelType = (json as Record<string, unknown>).model_type;
  if (typeof modelType !== 'string') throw new ConfigError(source, 'model_type', 'missing or not a string');
  if (modelType === 'gpt2') {
    const c = parseWith(gpt2Schema, json, source);
    if (c.n_embd % c.n_head !== 0) {
      throw new ConfigError(source, 'n_head', `n_embd ${c.n_embd} is not divisible by n_head ${c.n_head}`);
    }
    return Object.freeze({
      family: 'gpt2', modelType, vocabSize: c.vocab_size, hiddenSize: c.n_embd, numLayers: c.n_layer,
      numHeads: c.n_head, numKvHeads: c.n_head, headDim: c.n_embd / c.n_head, intermediateSize: c.n_inner ?? 4 * c.n_embd,
      maxPositions: c.n_positions, normEps: c.layer_norm_epsilon, ropeTheta: 10000, ropeScaling: null,
      tieWordEmbeddings: c.tie_word_embeddings, activation: activationFrom(c.activation_function, 'activation_function', source),
      qkvBias: true, outputBias: true, mlpBias: true,
      bosTokenId: firstId(c.bos_token_id), eosTokenId: firstId(c.eos_token_id),
    });
  }
  if (!(LLAMA_MODEL_TYPES as readonly string[]).includes(modelType)) {
    throw new ConfigError(source, 'model_type', `"${modelType}" is not supported (gpt2, ${LLAMA_MODEL_TYPES.join(', ')})`);
  }
  const c = parseWith(llamaSchema, json, source);
  if ((json as Record<string, unknown>).use_sliding_window === true) {
    throw new ConfigError(source, 'use_sliding_window', 'sliding-window attention is not supported');
  }
  const numKvHeads = c.num_key_value_heads ?? c.num_attention_heads;
  if (c.num_attention_heads % numKvHeads !== 0) {
    throw new ConfigError(source, 'num_key_value_heads', `${numKvHeads} does not divide num_attention_heads ${c.num_attention_heads}`);
  }
  const headDim = c.head_dim ?? c.hidden_size / c.num_attention_heads;
  if (!Number.isInteger(headDim) || headDim % 2 !== 0) {
    throw new ConfigError(source, 'head_dim', `head size ${headDim} must be an even integer (hidden_size / num_attention_heads)`);
  }
  const qkvBias = c.attention_bias ?? modelType === 'qwen2';
  return Object.freeze({
    family: 'llama', modelType, vocabSize: c.vocab_size, hiddenSize: c.hidden_size, numLayers: c.num_hidden_layers,
    numHeads: c.num_attention_heads, numKvHeads, headDim, intermediateSize: c.intermediate_size,
    maxPositions: c.max_position_embeddings, normEps: c.rms_norm_eps, ropeTheta: c.rope_theta,
    ropeScaling: ropeScalingFrom(c.rope_scaling, source), tieWordEmbeddings: c.tie_word_embeddings,
    activation: activationFrom(c.hidden_act, 'hidden_act', source),
    qkvBias, outputBias: c.attention_bias ?? false, mlpBias: c.mlp_bias,
    bosTokenId: firstId(c.bos_token_id), eosTokenId: firstId(c.eos_token_id),
  });
}

const TORCH_DTYPE: Record<StoredDtype, string> = { F32: 'float32', F16: 'float16', BF16: 'bfloat16' };

/** Writes a config.json object Hugging Face transformers loads (GPT2LMHeadModel or LlamaForCausalLM/Qwen2ForCausalLM). */
export function configToHf(config: TransformerConfig, storedDtype: StoredDtype): Record<string, unknown> {
  const torch_dtype = TORCH_DTYPE[storedDtype]; // the weights' dtype: torch_dtype="auto" loads them as this
  const ids = { bos_token_id: config.bosTokenId ?? undefined, eos_token_id: config.eosTokenId ?? undefined };
  if (config.family === 'gpt2') {
    return {
      architectures: ['GPT2LMHeadModel'], model_type: 'gpt2', vocab_size: config.vocabSize, n_embd: config.hiddenSize,
      n_layer: config.numLayers, n_head: config.numHeads, n_positions: config.maxPositions, n_ctx: config.maxPositions,
      n_inner: config.intermediateSize, layer_norm_epsilon: config.normEps, activation_function: 'gelu_new',
      tie_word_embeddings: config.tieWordEmbeddings, torch_dtype, ...ids,
    };
  }
  const architecture = config.modelType === 'qwen2' ? 'Qwen2ForCausalLM' : config.modelType === 'mistral' ? 'MistralForCausalLM' : 'LlamaForCausalLM';
  const out: Record<string, unknown> = {
    architectures: [architecture], model_type: config.modelType, vocab_size: config.vocabSize,
    hidden_size: config.hiddenSize, num_hidden_layers: config.numLayers, num_attention_heads: config.numHeads,
    num_key_value_heads: config.numKvHeads, head_dim: config.headDim, intermediate_size: config.intermediateSize,
    max_position_embeddings: config.maxPositions, rms_norm_eps: config.normEps, rope_theta: config.ropeTheta,
    rope_scaling: config.ropeScaling && {
      rope_type: 'llama3', factor: config.ropeScaling.factor, low_freq_factor: config.ropeScaling.lowFreqFactor,
      high_freq_factor: config.ropeScaling.highFreqFactor,
      original_max_position_embeddings: config.ropeScaling.originalMaxPositions,
    },
    tie_word_embeddings: config.tieWordEmbeddings, hidden_act: 'silu', mlp_bias: config.mlpBias,
    torch_dtype, ...ids,
  };
  // Qwen2 always has q/k/v biases and no attention_bias field; Llama spells them with attention_bias.
  if (config.modelType !== 'qwen2') out.attention_bias = config.qkvBias;
  if (config.modelType === 'qwen2' && (!config.qkvBias || config.outputBias)) {
    throw new ConfigError('configToHf', 'qkvBias', 'Qwen2 has q/k/v biases and no output bias');
  }
  return out;
}
