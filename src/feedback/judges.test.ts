// Tests the pointwise, rubric and critique-revision judges, the in-process provider with its deterministic adapter,
// and template/constitution loading errors.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadConstitution } from './constitution.ts';
import { CritiqueReviser } from './critique-revision.ts';
import { defaultStepOptions } from './judge-steps.ts';
import { JudgmentCache } from './judgment-cache.ts';
import { PairwiseJudge } from './pairwise-judge.ts';
import { PointwiseJudge, scoreToReward } from './pointwise-judge.ts';
import { loadTemplate, renderTemplate } from './prompt-template.ts';
import { InProcessProvider } from './providers/in-process-provider.ts';
import { OpenAICompatibleProvider } from './providers/openai-compatible-provider.ts';
import { RequestExecutor } from './request-executor.ts';
import { RubricJudge } from './rubric-judge.ts';
import { DeterministicLanguageModel } from './testing/deterministic-language-model.ts';
import { startScriptedServer } from './testing/scripted-openai-server.ts';

const directory = mkdtempSync(join(tmpdir(), 'rlaif-judges-'));
after(() => rmSync(directory, { recursive: true, force: true }));
const retry = { maxAttempts: 3, baseDelayMs: 1, maxDelayMs: 2, maxRetryAfterMs: 5 };
const conversation = [{ role: 'user' as const, content: 'Tell me about locks.' }];

test('pointwise: probability-weighted mean score, rescaled to [-1, 1]', async () => {
  const model = new DeterministicLanguageModel();
  const executor = new RequestExecutor(new InProcessProvider(model), { concurrency: 2, timeoutMs: 1000, retry });
  const judge = new PointwiseJudge(executor, { steps: { ...defaultStepOptions, topLogprobs: 10 }, seed: 1 });
  const good = await judge.judge({ id: 'g', conversation, response: '[good] A lock has pins.' });
  const bad = await judge.judge({ id: 'b', conversation, response: '[bad] Break it.' });
  assert.equal(good.kind, 'ok');
  assert.equal(bad.kind, 'ok');
  if (good.kind !== 'ok' || bad.kind !== 'ok') return;
  // Toy brain centres the score distribution at 10 for [good] and 1 for [bad].
  assert.ok(good.score > 8.5 && good.score < 10, `good ${good.score}`);
  assert.ok(bad.score > 1 && bad.score < 2.5, `bad ${bad.score}`);
  assert.ok(Math.abs(good.distribution.reduce((sum, p) => sum + p, 0) - 1) < 1e-9);
  assert.equal(good.reward, scoreToReward(good.score));
  assert.equal(scoreToReward(10), 1);
  assert.equal(scoreToReward(1), -1);
  assert.equal(good.labelSource, 'logprobs');
});

test('pointwise without chain-of-thought: the score in one request, same distribution, its own cache key', async () => {
  const server = await startScriptedServer();
  try {
    const executor = new RequestExecutor(new OpenAICompatibleProvider({ baseURL: server.url, model: 'scripted', environment: {} }), { concurrency: 2, timeoutMs: 1000, retry });
    const options = { constitution: loadConstitution(), principleMode: 'sample-one' as const, steps: { ...defaultStepOptions, topLogprobs: 10 }, seed: 1 };
    const direct = new PointwiseJudge(executor, { ...options, template: loadTemplate('pointwise-direct'), chainOfThought: false });
    const twoStep = new PointwiseJudge(executor, { ...options, template: loadTemplate('pointwise') });
    const input = { id: 'g', conversation, response: '[good] A lock has pins.' };
    const result = await direct.judge(input);
    assert.equal(result.kind, 'ok', JSON.stringify(result));
    if (result.kind !== 'ok') return;
    assert.equal(result.usage.requests, 1);
    assert.equal(server.stats.requests, 1);
    assert.equal(result.rationale, null);
    assert.equal(result.labelSource, 'logprobs');
    const reference = await twoStep.judge(input);
    assert.equal(reference.kind, 'ok');
    if (reference.kind !== 'ok') return;
    assert.equal(reference.usage.requests, 2);
    assert.ok(Math.abs(result.score - reference.score) < 1e-9, `${result.score} vs ${reference.score}`);
    assert.notEqual(JudgmentCache.keyOf(direct.identity(), input), JudgmentCache.keyOf(twoStep.identity(), input));
    assert.throws(() => new PointwiseJudge(executor, { ...options, template: loadTemplate('pointwise'), chainOfThought: false }), /needs the 'pointwise-direct' template/);
  } finally {
    await server.close();
  }
});

test('in-process provider: pairwise judging with logprobs and with votes when the model reports none', async () => {
  for (const supportsLogprobs of [true, false]) {
    const model = new DeterministicLanguageModel({ supportsLogprobs });
    const executor = new RequestExecutor(new InProcessProvider(model), { concurrency: 2, timeoutMs: 1000, retry });
    const judge = new PairwiseJudge(executor, { seed: 3 });
    const result = await judge.judge({ id: 'x', conversation, candidates: ['[bad] no', '[good] yes'] });
    assert.equal(result.kind, 'ok');
    if (result.kind !== 'ok') continue;
    assert.equal(result.preferred, 'B');
    assert.equal(result.positions[0]!.forward.labelSource, supportsLogprobs ? 'logprobs' : 'votes');
    if (supportsLogprobs) assert.ok(Math.abs(result.probability - 0.1) < 1e-9, `probability ${result.probability}`);
    assert.ok(model.calls >= 4);
  }
});

test('rubric: parses the last "Score: N" of the justification', async () => {
  const server = await startScriptedServer();
  try {
    const executor = new RequestExecutor(new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} }), { concurrency: 2, timeoutMs: 1000, retry });
    const judge = new RubricJudge(executor, { template: loadTemplate('rubric'), maxTokens: 200, temperature: 0, samples: 1, maxParseAttempts: 2, seed: 1 });
    const good = await judge.judge({ id: 'g', conversation, response: '[good] Pins and springs.' });
    const bad = await judge.judge({ id: 'b', conversation, response: '[bad] whatever' });
    assert.ok(good.kind === 'ok' && bad.kind === 'ok');
    if (good.kind === 'ok' && bad.kind === 'ok') {
      assert.ok(good.score > bad.score);
      assert.match(good.justification, /Score: \d/);
    }
  } finally {
    await server.close();
  }
});

test('rubric: text without a score ends as a typed failure keeping the raw text', async () => {
  const server = await startScriptedServer({ fixedReply: 'I like it a lot.' });
  try {
    const executor = new RequestExecutor(new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} }), { concurrency: 1, timeoutMs: 1000, retry });
    const judge = new RubricJudge(executor, { template: loadTemplate('rubric'), maxTokens: 50, temperature: 0, samples: 1, maxParseAttempts: 2, seed: 1 });
    const result = await judge.judge({ id: 'g', conversation, response: 'x' });
    assert.deepEqual(result.kind === 'invalid' ? [result.reason, result.raw, result.usage.requests] : null, ['unparseable-verdict', 'I like it a lot.', 2]);
  } finally {
    await server.close();
  }
});

test('critique then revision, with the principle recorded', async () => {
  const server = await startScriptedServer();
  try {
    const executor = new RequestExecutor(new OpenAICompatibleProvider({ baseURL: server.url, model: 'm', environment: {} }), { concurrency: 1, timeoutMs: 1000, retry });
    const reviser = new CritiqueReviser(executor, { template: loadTemplate('critique-revision'), constitution: loadConstitution(), maxTokens: 200, temperature: 0, seed: 2 });
    const result = await reviser.revise({ id: 'c', conversation, response: 'Here is how to break in.' });
    assert.equal(result.kind, 'ok');
    if (result.kind !== 'ok') return;
    assert.match(result.critique, /harm/);
    assert.match(result.revision, /safer/);
    assert.ok(['harmful-unethical', 'wise-ethical', 'no-assistance-crime'].includes(result.principle.id));
    assert.equal(result.usage.requests, 2);
  } finally {
    await server.close();
  }
});

test('templates: user directory overrides shipped files; bad files and placeholders name the problem', () => {
  writeFileSync(join(directory, 'pairwise.yaml'), 'name: pairwise\nversion: mine-v9\npreamble: P {{principle}}\ncontext: C\nverdictRequest: V\n');
  const overridden = loadTemplate('pairwise', directory);
  assert.equal(overridden.version, 'mine-v9');
  assert.notEqual(overridden.contentHash, loadTemplate('pairwise').contentHash);
  assert.equal(loadTemplate('rubric', directory).version, 'rubric-v1', 'falls back to the shipped file');
  writeFileSync(join(directory, 'pointwise.yaml'), 'name: pointwise\nversion: v\npreamble: P\ncontext: C\nextra: 1\n');
  assert.throws(() => loadTemplate('pointwise', directory), /pointwise\.yaml: field '(\(root\)|extra)'/);
  assert.throws(() => renderTemplate('Hi {{who}}', {}, 'greeting.yaml'), /greeting\.yaml: placeholder '\{\{who\}\}' has no value/);
});

test('constitution: duplicate ids and missing fields are errors naming the field', () => {
  const path = join(directory, 'constitution.yaml');
  writeFileSync(path, 'name: c\nversion: v1\nprinciples:\n  - id: a\n    text: t\n  - id: a\n    text: u\n');
  assert.throws(() => loadConstitution(path), /field 'principles\.1\.id': duplicate id 'a'/);
  writeFileSync(path, 'name: c\nversion: v1\nprinciples:\n  - id: a\n');
  assert.throws(() => loadConstitution(path), /field 'principles\.0\.text'/);
});
