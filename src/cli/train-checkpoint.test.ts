// `rlaif train` on a user checkpoint: a tiny random GPT-2 saved as a Hugging Face folder (vocab 96 with the character
// tokenizer, or a BPE trained here with a ChatML template), text JSONL through its tokenizer, a few steps of sft, dpo
// (LoRA) and pg (text reward), and the saved output (HF folder or PEFT adapter) loads back.
import assert from 'node:assert/strict';
import { existsSync, mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { noGrad } from '../engine/index.ts';
import { saveTokenizer, trainByteLevelBpe } from '../models/bpe-trainer.ts';
import { loadPretrained, savePretrained } from '../models/checkpoint.ts';
import { configFromHf } from '../models/config.ts';
import { loadLora } from '../models/lora.ts';
import { initParameters } from '../models/parameters.ts';
import { HfTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { scratchFolder } from './testing/scratch-folder.ts';
import { trainCommand } from './train-command.ts';

const { directory, write: writeFile } = scratchFolder('rlaif-train-checkpoint-');

function tinyCheckpoint(name: string, vocabSize: number): string {
  const config = configFromHf({ model_type: 'gpt2', vocab_size: vocabSize, n_embd: 16, n_layer: 2, n_head: 2, n_positions: 128 }, name);
  const dir = join(directory, name);
  savePretrained(dir, config, initParameters(config, 5));
  return dir;
}

const jsonl = (rows: unknown[]) => rows.map((r) => JSON.stringify(r)).join('\n') + '\n';

describe('rlaif train on a Hugging Face checkpoint', () => {
  const charModel = tinyCheckpoint('char-gpt2', 96);

  test('sft (full) writes a HF folder that loads and differs from the start', async () => {
    const data = writeFile('sft.jsonl', jsonl([{ prompt: 'Q: 2+2? A:', response: ' 4' }, { prompt: 'Q: 3+3? A:', response: ' 6' }]));
    const runDir = join(directory, 'sft-run');
    const config = writeFile('sft.yaml', `runDir: ${runDir}\nsteps: 3\nbatchSize: 2\nmodel:\n  kind: checkpoint\n  path: ${charModel}\ndata: ${data}\n`);
    const summary = await trainCommand('sft', config, { progress: false });
    assert.equal(summary.saved, `model → ${join(runDir, 'model')}`);
    const saved = loadPretrained(join(runDir, 'model')), start = loadPretrained(charModel);
    const w = 'h.0.mlp.c_fc.weight';
    assert.ok(saved.parameters.get(w)!.data.some((v, i) => v !== start.parameters.get(w)!.data[i]), 'the saved weights are the trained ones');
  });

  test('dpo with LoRA writes a PEFT adapter that loads onto the base', async () => {
    const pairs = writeFile('pairs.jsonl', jsonl([{ prompt: 'Say hi:', chosen: ' hi!', rejected: ' go away', label: 0.9 }, { prompt: 'Greet:', chosen: ' hello', rejected: ' no' }]));
    const runDir = join(directory, 'dpo-run');
    const config = writeFile('dpo.yaml', `runDir: ${runDir}\nsteps: 2\nbatchSize: 2\nevalEvery: 1\nmodel:\n  kind: checkpoint\n  path: ${charModel}\ndata: ${pairs}\nlora:\n  rank: 2\n  alpha: 4\n`);
    const summary = await trainCommand('dpo', config, { progress: false });
    assert.match(summary.saved!, /^adapter → /);
    const { config: c, parameters } = loadPretrained(charModel);
    const model = new Transformer(c, parameters);
    const adapter = loadLora(join(runDir, 'model'), model);
    assert.equal(adapter.config.rank, 2);
    assert.ok(Number.isFinite(noGrad(() => model.forward(Int32Array.of(1, 2, 3), [1, 3])).data[0]));
  });

  test('pg with a text reward and LoRA; missing prompts or reward are named', async () => {
    const prompts = writeFile('prompts.jsonl', jsonl([{ prompt: 'Write:' }, { prompt: 'Say:' }]));
    const runDir = join(directory, 'pg-run');
    const base = `runDir: ${runDir}\nsteps: 2\npromptsPerStep: 2\ngroupSize: 2\nmaxNewTokens: 8\nmodel:\n  kind: checkpoint\n  path: ${charModel}\n`;
    const summary = await trainCommand('pg', writeFile('pg.yaml', `${base}prompts: ${prompts}\nreward:\n  name: length-window\n  min: 2\n  max: 6\nlora:\n  rank: 2\n  alpha: 4\n`), { progress: false });
    assert.equal(summary.steps, 2);
    assert.ok(existsSync(join(runDir, 'model', 'adapter_model.safetensors')));
    await assert.rejects(trainCommand('pg', writeFile('pg-bad.yaml', `${base.replace('pg-run', 'pg-bad')}prompts: ${prompts}\n`), { progress: false }), /needs `reward`/);
    await assert.rejects(trainCommand('pg', writeFile('pg-regex.yaml', `${base.replace('pg-run', 'pg-bad2')}prompts: ${prompts}\nreward:\n  name: regex\n  pattern: "("\n`), { progress: false }), /reward regex: field 'pattern'/);
  });

  test('pg reads the same prompts file judge samples from (examples/tiny-world-prompts.jsonl, with ids)', async () => {
    const prompts = fileURLToPath(new URL('../../examples/tiny-world-prompts.jsonl', import.meta.url));
    const runDir = join(directory, 'pg-shared-prompts');
    const summary = await trainCommand('pg', writeFile('pg-shared.yaml', `runDir: ${runDir}\nsteps: 1\npromptsPerStep: 2\ngroupSize: 2\nmaxNewTokens: 6\nmodel:\n  kind: checkpoint\n  path: ${charModel}\nprompts: ${prompts}\nreward:\n  name: length-window\n  min: 2\n  max: 5\n`), { progress: false });
    assert.equal(summary.steps, 1);
  });

  test('pg reads its prompts from a Hugging Face-style dataset folder too, as rlaif run and rlaif judge do', async () => {
    const folder = join(directory, 'pg-dataset', 'data');
    mkdirSync(folder, { recursive: true });
    writeFileSync(join(folder, 'train-00000-of-00001.jsonl'), jsonl([{ prompt: 'Write:' }, { prompt: 'Say:' }]));
    const runDir = join(directory, 'pg-dataset-run');
    const summary = await trainCommand('pg', writeFile('pg-dataset.yaml', `runDir: ${runDir}\nsteps: 1\npromptsPerStep: 2\ngroupSize: 2\nmaxNewTokens: 6\nmodel:\n  kind: checkpoint\n  path: ${charModel}\nprompts: ${join(directory, 'pg-dataset')}\nreward:\n  name: length-window\n  min: 2\n  max: 5\n`), { progress: false });
    assert.equal(summary.steps, 1);
    await assert.rejects(trainCommand('pg', writeFile('pg-csv.yaml', `runDir: ${runDir}-csv\nsteps: 1\nmodel:\n  kind: checkpoint\n  path: ${charModel}\nprompts: ${writeFile('p.csv', 'prompt\n')}\nreward:\n  name: length-window\n  min: 2\n  max: 5\n`), { progress: false }),
      /p\.csv: prompts must be JSONL \(\.jsonl, \.jsonl\.gz\), Parquet \(\.parquet\) or a dataset folder/);
  });

  test('sft on chat messages with a BPE tokenizer.json and its chat template; the output folder has the tokenizer', async () => {
    const chatml = "{% for message in messages %}{{'<|im_start|>' + message['role'] + '\\n' + message['content'] + '<|im_end|>' + '\\n'}}{% endfor %}{% if add_generation_prompt %}{{ '<|im_start|>assistant\\n' }}{% endif %}";
    const trained = trainByteLevelBpe(['user hello assistant hi there', 'user bye assistant see you'], { vocabSize: 280, specialTokens: ['<|endoftext|>', '<|im_start|>', '<|im_end|>'], chatTemplate: chatml });
    const modelDir = tinyCheckpoint('bpe-gpt2', 280);
    saveTokenizer(modelDir, trained);
    const data = writeFile('chat.jsonl', jsonl([{ messages: [{ role: 'user', content: 'hello' }, { role: 'assistant', content: 'hi there' }] },
      { messages: [{ role: 'user', content: 'bye' }, { role: 'assistant', content: 'see you' }] }]));
    const runDir = join(directory, 'chat-run');
    await trainCommand('sft', writeFile('chat.yaml', `runDir: ${runDir}\nsteps: 2\nbatchSize: 2\nmodel:\n  kind: checkpoint\n  path: ${modelDir}\ndata: ${data}\n`), { progress: false });
    assert.ok(loadPretrained(join(runDir, 'model')).parameters.size > 0);
    assert.ok(HfTokenizer.load(join(runDir, 'model')).chatTemplate?.includes('im_start'));
    const bad = writeFile('chat-bad.jsonl', jsonl([{ messages: [{ role: 'user', content: 'only a question' }] }]));
    await assert.rejects(trainCommand('sft', writeFile('chat-bad.yaml', `runDir: ${join(directory, 'chat-bad')}\nsteps: 1\nmodel:\n  kind: checkpoint\n  path: ${modelDir}\ndata: ${bad}\n`), { progress: false }),
      /chat-bad\.jsonl:1: no assistant message/);
  });
});
