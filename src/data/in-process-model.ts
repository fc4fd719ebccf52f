// The project's own Transformer as an in-process language model, for a judge's policy (pairs sampled) or its labeler:
// a Hugging Face checkpoint folder (loadPretrained + tokenizer.json, or the 96-symbol character tokenizer for the
// project's own checkpoints) or the embedded tiny GPT with a seeded initialisation. Leaves out quantised weights.
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { loadPretrained } from '../models/checkpoint.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGptConfig } from '../models/presets.ts';
import { CharTokenizer, HfTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { TransformerLanguageModel } from '../feedback/providers/transformer-language-model.ts';
import type { InProcessModelSource } from './judge-run-config.ts';

/** Load the model a config names; relative checkpoint paths resolve with `at`. The model id names the source as written. */
export function loadInProcessModel(source: InProcessModelSource, at: (path: string) => string): TransformerLanguageModel {
  if (source.kind === 'embedded') {
    const config = tinyGptConfig();
    return new TransformerLanguageModel({ model: new Transformer(config, initParameters(config, source.seed)), tokenizer: new CharTokenizer(), modelId: `embedded:tiny-gpt@${source.seed}` });
  }
  const directory = at(source.path);
  const pretrained = loadPretrained(directory);
  const model = new Transformer(pretrained.config, pretrained.parameters);
  let tokenizer;
  if (existsSync(join(directory, 'tokenizer.json'))) tokenizer = HfTokenizer.load(directory);
  else if (pretrained.config.vocabSize === 96) tokenizer = new CharTokenizer(); // what `rlaif demo --save` writes
  else throw new Error(`${directory}: no tokenizer.json, and vocabulary ${pretrained.config.vocabSize} is not the character tokenizer's 96`);
  return new TransformerLanguageModel({ model, tokenizer, modelId: `checkpoint:${source.path}` });
}
