import assert from 'node:assert/strict';
import { test } from 'node:test';
import { describeRunConfig, parseRunConfig, readRunConfig, runConfigForDisk, runConfigSchema } from './run-config.ts';

test('no config is the embedded testbed with every default filled in', () => {
  const config = parseRunConfig(null);
  assert.equal(config.policy.kind, 'testbed');
  assert.deepEqual(config.labeler, { kind: 'testbed', setup: 'self', compare: 'pairwise' });
  assert.equal(config.prompts.kind, 'testbed');
  assert.equal(config.feedback.pairwise, 1);
  assert.equal(config.algorithm.name, 'grpo');
  assert.equal(config.gate.maxLengthDrift, 0.2);
  assert.ok(Object.isFrozen(config.gate), 'frozen all the way down');
  assert.deepEqual(parseRunConfig(''), config);
  assert.equal(parseRunConfig(null, { overrides: { seed: 5 } }).seed, 5);
});

test('every default has a description', () => {
  const missing: string[] = [];
  const walk = (schema: unknown, path: string): void => {
    const s = schema as { description?: string; def?: { type: string; innerType?: unknown; shape?: Record<string, unknown>; options?: unknown[] } };
    const def = s.def;
    if (!def) return;
    if (def.type === 'default' || def.type === 'prefault') {
      const inner = def.innerType as { description?: string; def?: { options?: unknown[] } };
      const described = s.description ?? inner?.description ?? (inner?.def?.options as { description?: string }[] | undefined)?.every((o) => o);
      if (!described) missing.push(path);
    }
    if (def.shape) for (const [key, child] of Object.entries(def.shape)) walk(child, path ? `${path}.${key}` : key);
    if (def.innerType) walk(def.innerType, path);
    if (def.options) for (const option of def.options) walk(option, path);
  };
  walk(runConfigSchema, '');
  assert.deepEqual(missing, []);
});

test('unknown keys and bad values are errors naming the key path', () => {
  assert.throws(() => parseRunConfig('gate:\n  maxLenghtDrift: 0.3\n', { source: 'run.yaml' }), /run\.yaml: gate\.maxLenghtDrift: unknown key/);
  assert.throws(() => parseRunConfig('labeler: {kind: openai-compatible, baseURL: nope, model: m}', { source: 'r.yaml' }), /r\.yaml: labeler\.baseURL:/);
  assert.throws(() => parseRunConfig('samplesPerPrompt: 1', { source: 'r.yaml' }), /r\.yaml: samplesPerPrompt:/);
  assert.throws(() => parseRunConfig('algorithm: {precision: fp16}', { source: 'r.yaml' }), /r\.yaml: algorithm\.precision:/);
  assert.equal(parseRunConfig('algorithm: {precision: bf16}').algorithm.precision, 'bf16');
  assert.throws(() => parseRunConfig('gate: {refusalPatterns: ["("]}', { source: 'r.yaml' }), /r\.yaml: gate\.refusalPatterns:/);
  assert.throws(() => parseRunConfig('gate: {maxEntropyRatio: 0.8}', { source: 'r.yaml' }), /r\.yaml: gate\.maxEntropyRatio: must be 0 \(off\) or above 1/);
  assert.equal(parseRunConfig('gate: {maxEntropyRatio: 0}').gate.maxEntropyRatio, 0);
  assert.throws(() => parseRunConfig('algorithm: {name: dpo}\nfeedback: {pairwise: 0, pointwise: 1}', { source: 'r.yaml' }), /feedback\.pairwise must be > 0/);
  assert.throws(() => parseRunConfig('[1, 2]', { source: 'r.yaml' }), /r\.yaml: the config must be a mapping/);
});

test('paths resolve against the config file folder; a user checkpoint with LoRA and an endpoint labeler parse', () => {
  const config = parseRunConfig(`
policy: {kind: checkpoint, path: models/gpt2}
labeler: {kind: openai-compatible, baseURL: "http://127.0.0.1:8000/v1", model: qwen}
prompts: {kind: file, path: prompts.jsonl}
algorithm: {name: rloo, lora: {rank: 4, alpha: 8}}
`, { baseDirectory: '/data/exp' });
  assert.deepEqual(config.policy, { kind: 'checkpoint', path: '/data/exp/models/gpt2' });
  assert.equal(config.prompts.kind === 'file' && config.prompts.path, '/data/exp/prompts.jsonl');
  assert.equal(config.labeler.kind === 'openai-compatible' && config.labeler.apiKeyEnvironmentVariable, 'OPENAI_API_KEY');
  assert.deepEqual(config.algorithm.lora?.targets, ['c_attn', 'c_proj', 'c_fc']);
});

test('a policy behind an endpoint: preference rounds with an external trainer only, each refusal naming its config keys', () => {
  const endpoint = "policy: {kind: endpoint, baseURL: 'http://127.0.0.1:8001/v1', model: served, checkpoint: weights}\n";
  const external = "update: {kind: external, command: 'train'}\n";
  const ok = parseRunConfig(`${endpoint}algorithm: {name: dpo}\n${external}`, { baseDirectory: '/configs' });
  assert.deepEqual(ok.policy, { kind: 'endpoint', baseURL: 'http://127.0.0.1:8001/v1', model: 'served', apiKeyEnvironmentVariable: 'OPENAI_API_KEY', requestsPerSecond: null, checkpoint: '/configs/weights' });
  assert.equal(parseRunConfig(`${endpoint}algorithm: {name: online-dpo}\n${external}`).algorithm.name, 'online-dpo');
  for (const name of ['grpo', 'rloo', 'ppo']) {
    assert.throws(() => parseRunConfig(`${endpoint}algorithm: {name: ${name}}\n${external}`),
      new RegExp(`config: policy\\.kind endpoint: algorithm\\.name ${name} needs the rollout's log-probs .* set algorithm\\.name to dpo or online-dpo`));
  }
  assert.throws(() => parseRunConfig(`${endpoint}${external}`), /policy\.kind endpoint: algorithm\.name grpo needs/, 'the default algorithm (grpo) is refused too');
  assert.throws(() => parseRunConfig(`${endpoint}algorithm: {name: dpo}\n`), /policy\.kind endpoint: .*set update\.kind external/);
  assert.throws(() => parseRunConfig(`${endpoint}algorithm: {name: dpo}\n${external}adversarial: {}\n`), /policy\.kind endpoint: .*set adversarial to null/);
  assert.throws(() => parseRunConfig("policy: {kind: endpoint, model: served}\nalgorithm: {name: dpo}\n" + external), /policy\.baseURL/);
});

test('describeRunConfig (rlaif run --print-config): every key under its description, and the YAML reads back to the same config', () => {
  const defaults = parseRunConfig(null);
  const text = describeRunConfig(defaults);
  assert.deepEqual(parseRunConfig(text), defaults);
  assert.match(text, /# keep no round when the labeler prefers the labeled answer(?:[^\n]*\n\s*#)*[^\n]*\n\s+minLabelerAgreement: 0\.6\n/);
  assert.match(text, /# the embedded testbed's SFT policy, built \(or taken from the cache\) for the run's seed\n\s+kind: testbed/, 'a union member\'s own description');
  const own = parseRunConfig([
    'policy: {kind: checkpoint, path: /m}', "labeler: {kind: openai-compatible, baseURL: 'http://127.0.0.1:8000/v1', model: q}",
    'prompts: {kind: file, path: /p.parquet}', 'anchors: {path: /a.jsonl, format: hh-rlhf}', 'algorithm: {lora: {rank: 4, alpha: 8}}',
  ].join('\n'));
  const ownText = describeRunConfig(own);
  assert.deepEqual(parseRunConfig(ownText), own);
  assert.match(ownText, /# chat-completions base URL[^\n]*\n\s+baseURL: http:\/\/127\.0\.0\.1:8000\/v1/);
  assert.match(ownText, /# environment variable holding the key \(never written to the config or the run folder\)\n\s+apiKeyEnvironmentVariable: OPENAI_API_KEY/);
  assert.match(ownText, /# LoRA rank r\n\s+rank: 4/);
});

test('runConfigForDisk: credentials in base URLs and key-shaped strings are redacted for config.json and --print-config; plain URLs kept as written', () => {
  const config = parseRunConfig([
    "policy: {kind: endpoint, baseURL: 'https://alice:hunter2secret@policy.example/v1?api_key=querysecret123', model: p}",
    "labeler: {kind: openai-compatible, baseURL: 'http://127.0.0.1:8000/v1', model: q}",
    'prompts: {kind: file, path: /p.jsonl}', 'algorithm: {name: dpo}',
    "update: {kind: external, command: 'train --key sk-abcdefghijklmnop'}",
  ].join('\n'));
  const disk = JSON.stringify(runConfigForDisk(config)), printed = describeRunConfig(config);
  for (const text of [disk, printed]) {
    for (const secret of ['hunter2secret', 'querysecret123', 'sk-abcdefghijklmnop', 'alice']) assert.ok(!text.includes(secret), `${secret} kept`);
    assert.ok(text.includes('http://127.0.0.1:8000/v1'), 'a URL without credentials stays as written');
  }
  assert.equal(config.policy.kind === 'endpoint' && config.policy.baseURL, 'https://alice:hunter2secret@policy.example/v1?api_key=querysecret123', 'the run itself keeps them');
});

test('readRunConfig: no file is every default; a missing file is an error naming it', () => {
  assert.deepEqual(readRunConfig(null), parseRunConfig(null));
  assert.equal(readRunConfig(null, { seed: 3 }).seed, 3);
  assert.throws(() => readRunConfig('/no/such/run.yaml'), /^Error: \/no\/such\/run\.yaml: cannot read the run config: ENOENT/);
});
