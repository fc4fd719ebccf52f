// A Hugging Face checkpoint folder small enough for CLI tests of `rlaif run`: a byte-level BPE tokenizer trained on a
// few lines of testbed text with a chat template, and a randomly initialised tiny GPT-2 (config.json + safetensors).
// Test-only; the testbed builds the real embedded models.
import { savePretrained } from '../../models/checkpoint.ts';
import { configFromHf } from '../../models/config.ts';
import { initParameters } from '../../models/parameters.ts';
import { saveTokenizer, trainByteLevelBpe } from '../../models/bpe-trainer.ts';

export const TINY_CHAT_TEMPLATE = "{% for m in messages %}{{ m['role'] }}: {{ m['content'] }}\n{% endfor %}{% if add_generation_prompt %}assistant:{% endif %}";

export function writeTinyCheckpoint(dir: string, seed = 1): void {
  const texts = ['Where does Ana live? Ana lives in the north wood.', 'I do not know anyone by that name.', 'No, I will not help with that: it would harm the land.',
    'user: assistant: system: Response 1 Response 2 Preferred Response=1 2 Rating=', 'The fox has a red coat and eats berries.'];
  const trained = trainByteLevelBpe(texts, { vocabSize: 300, specialTokens: ['<|endoftext|>'], chatTemplate: TINY_CHAT_TEMPLATE });
  const config = configFromHf({ model_type: 'gpt2', vocab_size: 300, n_embd: 16, n_layer: 1, n_head: 2, n_positions: 1024, bos_token_id: 0, eos_token_id: 0 }, 'tiny-run');
  savePretrained(dir, config, initParameters(config, seed));
  saveTokenizer(dir, trained);
}
