// Tiny configurations of both families for tests: seconds on the js backend, every code path exercised
// (GPT-2 with tied embeddings; Llama with grouped-query attention, Qwen2-style q/k/v biases and an untied head).
import { configFromHf, type TransformerConfig } from '../config.ts';
import { initParameters } from '../parameters.ts';
import { Transformer } from '../transformer.ts';

export function tinyGpt2Config(overrides: Record<string, unknown> = {}): TransformerConfig {
  return configFromHf({ model_type: 'gpt2', vocab_size: 37, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 48, ...overrides }, 'tiny-gpt2');
}

export function tinyLlamaConfig(overrides: Record<string, unknown> = {}): TransformerConfig {
  return configFromHf({
    model_type: 'qwen2', vocab_size: 41, hidden_size: 16, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, intermediate_size: 24, max_position_embeddings: 64, rope_theta: 10000,
    tie_word_embeddings: false, ...overrides,
  }, 'tiny-llama');
}

export function tinyModel(family: 'gpt2' | 'llama', seed = 1): Transformer {
  const config = family === 'gpt2' ? tinyGpt2Config() : tinyLlamaConfig();
  return new Transformer(config, initParameters(config, seed));
}

/** Deterministic ids in [0, vocab) for tests. */
export function testIds(n: number, vocab: number, seed = 3): Int32Array {
  const ids = new Int32Array(n);
  let x = seed;
  for (let i = 0; i < n; i++) { x = (x * 1103515245 + 12345) % 2147483648; ids[i] = x % vocab; }
  return ids;
}
