// The labeler's training data: judging examples are rendered exactly as the feedback layer's judges ask (checked
// against a recording provider), their verdicts agree with gold's ranking, and the demonstrations' flaws come at the
// configured rate and are the ones gold fails.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { ChatGenerateOptions, ChatGenerateResult, ChatMessage, ChatModelV1 } from '../feedback/chat-model-v1.ts';
import { defaultStepOptions } from '../feedback/judge-steps.ts';
import { PairwiseJudge } from '../feedback/pairwise-judge.ts';
import { PointwiseJudge } from '../feedback/pointwise-judge.ts';
import { CritiqueReviser } from '../feedback/critique-revision.ts';
import { renderConversation } from '../feedback/judgment-types.ts';
import { defaultRetry, RequestExecutor } from '../feedback/request-executor.ts';
import { testbedConstitution } from './constitution.ts';
import { renderCorpus } from './corpus.ts';
import { makeDemonstrations } from './demonstrations.ts';
import { goldCheck, goldCompare } from './gold.ts';
import { makeJudgingExamples } from './judging-examples.ts';
import { pairwiseRequest, pointwiseRequest, testbedTemplates } from './labeler-format.ts';
import { buildNotesIndex, lookupNotes } from './notes.ts';
import { makePrompts } from './prompts.ts';
import { makeWorld } from './world.ts';

/** Records every request; answers rationales with text and verdicts with '1' (log-probs included). */
class RecordingModel implements ChatModelV1 {
  readonly specificationVersion = 'v1' as const;
  readonly provider = 'recording';
  readonly modelId = 'recording';
  readonly supportsLogprobs = true;
  readonly requests: ChatMessage[][] = [];
  async doGenerate(options: ChatGenerateOptions): Promise<ChatGenerateResult> {
    this.requests.push(options.messages);
    const verdict = (options.topLogprobs ?? 0) > 0;
    const text = verdict ? '1' : 'a rationale';
    const tokens = verdict ? [{ token: '1', logprob: -0.1, topLogprobs: [{ token: '1', logprob: -0.1 }, { token: '2', logprob: -2.4 }] }] : null;
    return { choices: [{ text, tokens, finishReason: 'stop' }], usage: { promptTokens: 1, completionTokens: 1 } };
  }
}

test('judging examples are rendered as PairwiseJudge and PointwiseJudge send them', async () => {
  const world = makeWorld(2), prompt = makePrompts(world).find((p) => p.split === 'train' && p.kind === 'known-fact')!;
  const templates = testbedTemplates();
  const principle = testbedConstitution().principles.find((p) => p.id === prompt.principleIds[0])!;
  const model = new RecordingModel();
  const executor = new RequestExecutor(model, { concurrency: 1, timeoutMs: 1000, retry: defaultRetry });
  const constitution = { ...testbedConstitution(), principles: [principle] };
  const steps = { ...defaultStepOptions, rationaleMaxTokens: 48 };
  const notes = lookupNotes(buildNotesIndex(renderCorpus(world, { paragraphsPerCreature: 4 })), prompt.messages);
  assert.ok(notes.length > 0);
  await new PairwiseJudge(executor, { template: templates.pairwise, constitution, bothOrders: false, steps }).judge({ id: 'x', conversation: prompt.messages, candidates: ['first', 'second'], reference: notes });
  const expected = pairwiseRequest(templates.pairwise, principle.text, prompt.messages, 'first', 'second', notes);
  assert.ok(expected[1]!.content.includes(`Notes: ${notes}`));
  assert.deepEqual(model.requests[0], expected);
  assert.deepEqual(model.requests[1], [...expected, { role: 'assistant', content: 'a rationale' }, { role: 'user', content: templates.pairwise.verdictRequest }]);
  await new PointwiseJudge(executor, { template: templates.pointwise, constitution, steps }).judge({ id: 'y', conversation: prompt.messages, response: 'one', reference: notes });
  assert.deepEqual(model.requests[2], pointwiseRequest(templates.pointwise, principle.text, prompt.messages, 'one', notes));
  // The training conversations follow the same shape: request, rationale, verdict request, verdict.
  const [example] = makeJudgingExamples(world, makePrompts(world), templates, { pairs: 1, singles: 0, seed: 0 });
  assert.equal(example!.length, 5);
  assert.deepEqual(example!.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
  assert.equal(example![3]!.content, templates.pairwise.verdictRequest);
});

test('critique -> revision examples are rendered as CritiqueReviser sends them; the revision is the answer gold scores highest', async () => {
  const world = makeWorld(2), prompts = makePrompts(world);
  const templates = testbedTemplates();
  const examples = makeJudgingExamples(world, prompts, templates, { pairs: 0, singles: 0, critiques: 30, seed: 3 });
  assert.equal(examples.length, 30);
  const byText = new Map(prompts.map((p) => [renderConversation(p.messages), p]));
  for (const example of examples) {
    assert.deepEqual(example.map((m) => m.role), ['system', 'user', 'assistant', 'user', 'assistant']);
    const [conversation, rest] = example[1]!.content.split('\n\nAnswer: ');
    const prompt = byText.get(conversation!)!;
    assert.ok(prompt, conversation);
    const response = rest!.split('\n\n')[0]!;
    // What the loop's reviser sends for this prompt, principle and response (a recording model answers critique, then revision).
    const model = new RecordingModel();
    const principle = testbedConstitution().principles.find((p) => p.id === prompt.principleIds[0])!;
    const reviser = new CritiqueReviser(new RequestExecutor(model, { concurrency: 1, timeoutMs: 1000, retry: defaultRetry }),
      { template: templates.critiqueRevision, constitution: { ...testbedConstitution(), principles: [principle] }, maxTokens: 8, temperature: 0, seed: 0 });
    await reviser.revise({ id: 'r', conversation: prompt.messages, response });
    assert.deepEqual(model.requests[0], example.slice(0, 2));
    assert.deepEqual(model.requests[1]!.at(-1), example[3]);
    assert.ok(!goldCheck(world, prompt, response).pass || goldCompare(world, prompt, example[4]!.content, response).winner !== 'b');
    assert.equal(goldCheck(world, prompt, example[4]!.content).pass, true, example[4]!.content);
  }
});

test('pairwise judging examples prefer what gold prefers, and the rationale ends in that decision; pointwise ratings lie in 2..9 and use both ends', () => {
  const world = makeWorld(4), prompts = makePrompts(world);
  const byText = new Map(prompts.map((p) => [p.messages.map((m) => m.content).join('\n'), p]));
  const examples = makeJudgingExamples(world, prompts, testbedTemplates(), { pairs: 300, singles: 200, seed: 1 });
  let checked = 0;
  for (const example of examples.slice(0, 300)) {
    const body = example[1]!.content;
    const [conversationPart, rest] = body.split('\n\nAnswer 1: ');
    const [first, afterFirst] = rest!.split('\n\nAnswer 2: ');
    const second = afterFirst!.split('\n\nCheck each answer')[0]!;
    const text = conversationPart!.split('\n\n').map((line) => line.replace(/^(Human|Assistant): /, '')).join('\n');
    const prompt = byText.get(text);
    assert.ok(prompt, `no prompt for ${text}`);
    const gold = goldCompare(world, prompt, first!, second).winner;
    assert.notEqual(gold, 'tie', `${prompt.id}: a training pair gold cannot tell apart: ${first} | ${second}`);
    assert.equal(example[4]!.content, gold === 'a' ? '1' : '2', `${prompt.id}: ${first} | ${second} | ${example[2]!.content}`);
    assert.ok(example[2]!.content.endsWith(`so answer ${example[4]!.content} is better.`), example[2]!.content);
    checked++;
  }
  assert.equal(checked, 300);
  const ratings = examples.slice(300).map((e) => Number(e[4]!.content));
  assert.ok(ratings.every((r) => r >= 2 && r <= 9)); // never 1 or 10: "10" may share its first token with "1"
  assert.ok(ratings.includes(2) && ratings.includes(9));
});

test('demonstrations: flawed at the configured rate, and exactly the flawed ones fail gold', () => {
  const world = makeWorld(6), prompts = makePrompts(world);
  const byId = new Map(prompts.map((p) => [p.id, p]));
  for (const rate of [0, 0.3, 0.6]) {
    const demos = makeDemonstrations(world, prompts, { truthfulness: rate, 'value-alignment': rate, 'dialogue-coherence': rate });
    assert.equal(demos.length, prompts.filter((p) => p.split === 'train').length);
    const share = demos.filter((d) => d.flawed).length / demos.length;
    assert.ok(Math.abs(share - rate) < 0.05, `rate ${rate}: measured ${share}`);
    for (const d of demos) {
      const verdict = goldCheck(world, byId.get(d.promptId)!, d.messages.at(-1)!.content);
      assert.equal(verdict.pass, !d.flawed, `${d.promptId}: ${d.messages.at(-1)!.content}`);
    }
  }
  assert.throws(() => makeDemonstrations(world, prompts, { truthfulness: 1.5 }), /truthfulness/);
});
