// Untrained checkpoints of the embedded testbed models' shapes (the policy's recipe, or the separate labeler's: the
// testbed config schema's defaults), with a byte-level BPE of the recipe's vocabulary size and the testbed's chat
// template trained on data/tiny-world.txt and the testbed's judging templates and principles (so a judging prompt
// takes about as many tokens as with the testbed's own tokenizer): for benches whose cost depends on the shape and not on the weights
// (fixed-length decoding, a labeler's prompts and rationales), without the minutes of `rlaif testbed build`.
// Also a GPT-2-small-shaped one (124M, random weights) for the bf16 benches, written once to the temporary folder.
// Leaves out training: their answers are noise.
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { saveTokenizer, trainByteLevelBpe } from '../src/models/bpe-trainer.ts';
import { savePretrained } from '../src/models/checkpoint.ts';
import { configFromHf } from '../src/models/config.ts';
import { initParameters } from '../src/models/parameters.ts';
import { gpt2SmallConfig } from '../src/models/presets.ts';
import { TINY_CHAT_TEMPLATE } from '../src/pipeline/testing/tiny-checkpoint.ts';
import { CHAT_TEMPLATE, END_TOKEN, type ModelRecipe, SPECIAL_TOKENS } from '../src/testbed/embedded-model.ts';
import { TESTBED_PRINCIPLES } from '../src/testbed/constitution.ts';
import { testbedTemplates } from '../src/testbed/labeler-format.ts';
import { testbedConfigSchema } from '../src/testbed/testbed-config.ts';

/** Writes the checkpoint folder `directory` (config.json, model.safetensors, tokenizer files) of `which` model's shape. */
export function writeUntrainedCheckpoint(directory: string, which: 'policy' | 'labeler', seed = 1): void {
  const recipe: ModelRecipe = testbedConfigSchema.shape[which].parse(undefined);
  if (recipe.family !== 'gpt2') throw new Error(`untrained-checkpoint: the ${which} recipe's family is ${recipe.family}; this writer knows gpt2`);
  const text = readFileSync(fileURLToPath(new URL('../data/tiny-world.txt', import.meta.url)), 'utf8');
  const templates = Object.values(testbedTemplates()).flatMap((t) => [t.preamble, t.context, t.verdictRequest ?? '']);
  const judging = [...templates, ...TESTBED_PRINCIPLES.map((p) => p.text)];
  const texts = [...text.split('\n').filter((line) => line.trim()), ...Array.from({ length: 50 }, () => judging).flat()];
  const trained = trainByteLevelBpe(texts, {
    vocabSize: recipe.vocabSize, specialTokens: SPECIAL_TOKENS, chatTemplate: CHAT_TEMPLATE, modelMaxLength: recipe.contextLength,
  });
  const endId = SPECIAL_TOKENS.indexOf(END_TOKEN);
  const config = configFromHf({
    model_type: 'gpt2', vocab_size: recipe.vocabSize, n_embd: recipe.width, n_layer: recipe.layers, n_head: recipe.heads,
    n_positions: recipe.contextLength, activation_function: 'gelu_new', tie_word_embeddings: true, bos_token_id: endId, eos_token_id: endId,
  }, `untrained ${which}`);
  savePretrained(directory, config, initParameters(config, seed));
  saveTokenizer(directory, trained);
}

/** The folder of a GPT-2-small-shaped checkpoint (random weights, a 300-token BPE: benches send token ids), written
 * on first use (~0.5 GB) and reused by later runs: bench/serve-dtype.ts and bench/prefill-dtype.ts. */
export function gpt2SmallCheckpoint(): string {
  const directory = join(tmpdir(), 'rlaif-gpt2s-random');
  if (existsSync(join(directory, 'tokenizer.json')) && existsSync(join(directory, 'config.json'))) return directory;
  mkdirSync(directory, { recursive: true });
  savePretrained(directory, gpt2SmallConfig(), initParameters(gpt2SmallConfig(), 0));
  saveTokenizer(directory, trainByteLevelBpe(['hello world the fox'], { vocabSize: 300, specialTokens: ['<|endoftext|>'], chatTemplate: TINY_CHAT_TEMPLATE }));
  return directory;
}
