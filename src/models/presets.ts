// Named model configurations used across the toolkit: the reference tiny GPT (the engine benchmark's and the demo's
// model, same as ../shared/anchors/torch_gpt_bench.py) and a GPT-2-small-sized config for decode benchmarks.
// Leaves out: real checkpoints (load those with checkpoint.ts).
import { configFromHf, type TransformerConfig } from './config.ts';

/** Reference tiny GPT: vocab 96, d_model 128, 4 layers, 4 heads, context 64, pre-LN, GELU(tanh) 4× MLP, tied. */
export function tinyGptConfig(overrides: { contextLength?: number; vocabSize?: number } = {}): TransformerConfig {
  return configFromHf({
    model_type: 'gpt2', vocab_size: overrides.vocabSize ?? 96, n_embd: 128, n_layer: 4, n_head: 4,
    n_positions: overrides.contextLength ?? 64, activation_function: 'gelu_new', tie_word_embeddings: true,
  }, 'preset tiny-gpt');
}

/** GPT-2 small (124M parameters): vocab 50257, d_model 768, 12 layers, 12 heads, context 1024. */
export function gpt2SmallConfig(): TransformerConfig {
  return configFromHf({
    model_type: 'gpt2', vocab_size: 50257, n_embd: 768, n_layer: 12, n_head: 12, n_positions: 1024,
    activation_function: 'gelu_new', tie_word_embeddings: true,
  }, 'preset gpt2-small');
}
