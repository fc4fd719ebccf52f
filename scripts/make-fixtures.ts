// Writes the tiny random checkpoints the PyTorch reference fixtures are computed from (src/models/fixtures/<name>/:
// config.json, model.safetensors, inputs.json); scripts/torch-reference.py then adds reference.safetensors.
// Usage: npx tsx scripts/make-fixtures.ts [outDir]   Leaves out: computing the logits (that is the reference's job).
import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Rng } from '../src/engine/index.ts';
import { savePretrained } from '../src/models/checkpoint.ts';
import { configFromHf, type TransformerConfig } from '../src/models/config.ts';
import { expectedParameters } from '../src/models/parameters.ts';
import type { StoredDtype, TensorLike } from '../src/models/safetensors.ts';

const CONFIGS: Record<string, Record<string, unknown>> = {
  // GPT-2: learned positions, LayerNorm, gelu_new, Conv1D, biases everywhere, tied embeddings.
  'gpt2': { model_type: 'gpt2', vocab_size: 64, n_embd: 32, n_layer: 2, n_head: 4, n_positions: 16, layer_norm_epsilon: 1e-5 },
  // Llama: grouped-query attention (4 query heads, 2 key/value heads), untied output layer, no biases.
  'llama-gqa': {
    model_type: 'llama', vocab_size: 64, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 2, intermediate_size: 48, max_position_embeddings: 64, rms_norm_eps: 1e-5,
    rope_theta: 10000, tie_word_embeddings: false,
  },
  // Qwen2: q/k/v biases, one key/value head (multi-query), tied embeddings, large rope_theta.
  'qwen2-bias': {
    model_type: 'qwen2', vocab_size: 64, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
    num_key_value_heads: 1, intermediate_size: 40, max_position_embeddings: 64, rms_norm_eps: 1e-6,
    rope_theta: 1000000, tie_word_embeddings: true,
  },
  // Llama-3: rope_scaling 'llama3' with a short original context so all three frequency bands occur; head_dim 16.
  'llama3-rope-scaled': {
    model_type: 'llama', vocab_size: 64, hidden_size: 32, num_hidden_layers: 1, num_attention_heads: 2,
    num_key_value_heads: 1, head_dim: 16, intermediate_size: 48, max_position_embeddings: 64, rms_norm_eps: 1e-5,
    rope_theta: 500000, tie_word_embeddings: false,
    rope_scaling: { rope_type: 'llama3', factor: 8, low_freq_factor: 1, high_freq_factor: 4, original_max_position_embeddings: 16 },
  },
};

const B = 2, T = 12;

/** Random weights with O(1) activations, so logits differ clearly between positions (std-0.02 init would not). */
function randomParameters(config: TransformerConfig, seed: number): Map<string, TensorLike> {
  const rng = new Rng(seed);
  const out = new Map<string, TensorLike>();
  for (const [name, shape] of expectedParameters(config)) {
    const data = new Float32Array(shape.reduce((a, b) => a * b, 1));
    if (name.endsWith('.bias')) rng.fillNormal(data, 0, 0.2);
    else if (shape.length === 1) rng.fillNormal(data, 1, 0.2);                              // norm weights
    else if (/wte|wpe|embed_tokens/.test(name)) rng.fillNormal(data, 0, 1);
    else {
      const fanIn = config.family === 'gpt2' && name.startsWith('h.') ? shape[0] : shape[1];  // Conv1D (in, out)
      rng.fillNormal(data, 0, 1 / Math.sqrt(fanIn));
    }
    out.set(name, { shape, data });
  }
  return out;
}

const outDir = process.argv[2] ?? 'src/models/fixtures';
let seed = 1;
for (const [name, hf] of Object.entries(CONFIGS)) {
  const config = configFromHf(hf, name);
  const parameters = randomParameters(config, seed);
  const rng = new Rng(1000 + seed++);
  const inputIds = Array.from({ length: B }, () => Array.from({ length: T }, () => rng.int(config.vocabSize)));
  for (const dtype of ['F32', 'BF16'] as StoredDtype[]) {
    const dir = join(outDir, `${name}-${dtype.toLowerCase()}`);
    mkdirSync(dir, { recursive: true });
    savePretrained(dir, config, parameters, { dtype });
    writeFileSync(join(dir, 'inputs.json'), `${JSON.stringify({ input_ids: inputIds })}\n`);
    console.log(`wrote ${dir}`);
  }
}
