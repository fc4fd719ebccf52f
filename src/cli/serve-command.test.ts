// `rlaif serve` as a real process on loopback: `rlaif judge` with the labeler behind it over HTTP gives the same
// judgments (rationales sampled, soft labels from logprobs, both orders) as the same checkpoint judging in-process
// for the same seeds; a LoRA adapter is applied on top of the base it was trained on.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { savePretrained } from '../models/checkpoint.ts';
import { generate } from '../models/generate.ts';
import { applyLora, saveLora } from '../models/lora.ts';
import { initParameters } from '../models/parameters.ts';
import { tinyGpt2Config } from '../models/testing/tiny-models.ts';
import { Transformer } from '../models/transformer.ts';
import { loadServedModel } from '../server/served-model.ts';
import { judgeCommand } from './judge-command.ts';
import { serveProcess } from './testing/serve-process.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-serve-cli-'));
after(() => rmSync(directory, { recursive: true, force: true }));

test('rlaif judge against rlaif serve gives the judgments the same checkpoint gives in-process, for the same seeds', async () => {
  const config = tinyGpt2Config({ vocab_size: 96, n_positions: 64 });   // 96: the character tokenizer
  const parameters = initParameters(config, 7);
  // A random model rarely ranks '1' and '2' among its top 20: the final norm's bias leans toward both, so verdicts parse.
  const wte = parameters.get('wte.weight')!, bias = parameters.get('ln_f.bias')!, C = config.hiddenSize;
  for (let c = 0; c < C; c++) bias.data[c] = 50 * (wte.data[18 * C + c]! + wte.data[19 * C + c]!);
  savePretrained(join(directory, 'labeler'), config, parameters);
  const pairs = [
    { prompt: 'How do I store bleach?', chosen: 'Away from children.', rejected: 'Anywhere.' },
    { prompt: 'Is it safe to mix cleaners?', chosen: 'No, some make toxic gas.', rejected: 'Sure.' },
    { prompt: 'Tell me a fact.', chosen: 'Water boils at 100 C at sea level.', rejected: 'No.' },
    { prompt: 'Say hi.', chosen: 'Hi!', rejected: 'Go away.' },
  ];
  writeFileSync(join(directory, 'pairs.jsonl'), pairs.map((pair) => `${JSON.stringify(pair)}\n`).join(''));
  const url = await serveProcess(['--model', join(directory, 'labeler'), '--served-model-name', 'labeler']);
  const judge = 'judge:\n  rationaleMaxTokens: 8\n  rationaleTemperature: 1\n  verdictMaxTokens: 1\n  topLogprobs: 20\n  seed: 5\nrequests:\n  concurrency: 4\n';
  const write = (name: string, provider: string) => {
    writeFileSync(join(directory, `${name}.yaml`), `input:\n  path: pairs.jsonl\n  format: trl\nprovider:\n${provider}${judge}output:\n  runDirectory: ${name}-run\n  parquet: false\nmaxFailureShare: 1\n`);
    return join(directory, `${name}.yaml`);
  };
  const local = await judgeCommand({ config: write('local', '  kind: in-process\n  model:\n    kind: checkpoint\n    path: labeler\n'), progress: false });
  const remote = await judgeCommand({ config: write('remote', `  kind: openai-compatible\n  baseURL: ${url}/v1\n  model: labeler\n`), progress: false });
  assert.equal(remote.usage.requests, local.usage.requests);
  assert.equal(local.judged, 4, `${local.judged} of 4 judged in-process`);
  const results = (name: string) => readFileSync(join(directory, `${name}-run`, 'cache.jsonl'), 'utf8').trim().split('\n')
    .map((line) => JSON.parse(line) as { value: Record<string, unknown> })
    .map((record) => JSON.stringify(record.value, (key, value) => (typeof value === 'number' ? Number(value.toFixed(4)) : key === 'usage' || key === 'provenance' || key === 'judgedAt' ? undefined : value)))
    .sort();
  assert.deepEqual(results('remote'), results('local'));
});

test('rlaif serve --adapter: the LoRA adapter changes what the base model says, as applying it in-process does', async () => {
  const config = tinyGpt2Config({ vocab_size: 96, n_positions: 64 });
  const base = join(directory, 'base'), adapterDirectory = join(directory, 'adapter');
  savePretrained(base, config, initParameters(config, 3));
  const model = new Transformer(config, initParameters(config, 3));
  const adapter = applyLora(model, { rank: 2, alpha: 8, targetModules: ['c_attn', 'c_fc'], initLoraWeights: false }, 11);
  saveLora(adapterDirectory, adapter);
  adapter.training = false;
  const plain = await loadServedModel({ modelDirectory: base });
  const adapted = await loadServedModel({ modelDirectory: base, adapterDirectory });
  const prompt = [[5, 6, 7, 8]];
  const options = { maxNewTokens: 10, seeds: [1], temperature: 0 };
  const expected = Array.from(generate(model, prompt, options)[0]!.tokens);
  assert.deepEqual(Array.from(generate(adapted.model, prompt, options)[0]!.tokens), expected);
  assert.notDeepEqual(Array.from(generate(plain.model, prompt, options)[0]!.tokens), expected, 'the adapter matters');
});
