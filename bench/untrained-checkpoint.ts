// An untrained checkpoint of the embedded testbed policy's shape (the recipe schema's defaults: GPT-2 family, width,
// layers, heads, context), with a byte-level BPE of the recipe's vocabulary size and the testbed's chat template
// trained on data/tiny-world.txt: for benches whose cost depends on the shape and not on the weights (fixed-length
// decoding), without the minutes of `rlaif testbed build`. Leaves out training: its answers are noise.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { saveTokenizer, trainByteLevelBpe } from '../src/models/bpe-trainer.ts';
import { savePretrained } from '../src/models/checkpoint.ts';
import { configFromHf } from '../src/models/config.ts';
import { initParameters } from '../src/models/parameters.ts';
import { CHAT_TEMPLATE, END_TOKEN, modelRecipeSchema, SPECIAL_TOKENS } from '../src/testbed/embedded-model.ts';

/** Writes the checkpoint folder `directory` (config.json, model.safetensors, tokenizer files). */
export function writeUntrainedPolicy(directory: string, seed = 1): void {
  const recipe = modelRecipeSchema.parse({});
  if (recipe.family !== 'gpt2') throw new Error(`untrained-policy: the recipe's default family is ${recipe.family}; this writer knows gpt2`);
  const text = readFileSync(fileURLToPath(new URL('../data/tiny-world.txt', import.meta.url)), 'utf8');
  const trained = trainByteLevelBpe(text.split('\n').filter((line) => line.trim()), {
    vocabSize: recipe.vocabSize, specialTokens: SPECIAL_TOKENS, chatTemplate: CHAT_TEMPLATE, modelMaxLength: recipe.contextLength,
  });
  const endId = SPECIAL_TOKENS.indexOf(END_TOKEN);
  const config = configFromHf({
    model_type: 'gpt2', vocab_size: recipe.vocabSize, n_embd: recipe.width, n_layer: recipe.layers, n_head: recipe.heads,
    n_positions: recipe.contextLength, activation_function: 'gelu_new', tie_word_embeddings: true, bos_token_id: endId, eos_token_id: endId,
  }, 'untrained policy');
  savePretrained(directory, config, initParameters(config, seed));
  saveTokenizer(directory, trained);
}
