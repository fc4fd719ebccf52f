// A small end-to-end build + audit at a tiny size (seconds): Hugging Face folders that load, a chat template,
// content-hash caching (a second build is a cache hit, a changed config retrains), deterministic weights per seed,
// and an audit whose figures come from real samples and judgments. Full-size figures: `rlaif testbed audit`.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { loadPretrained } from '../models/checkpoint.ts';
import { HfTokenizer } from '../models/tokenizer.ts';
import { auditTestbed } from './audit.ts';
import { testbedJudge } from './testbed-judge.ts';
import { buildTestbed } from './build.ts';
import { loadPolicySampler } from './policy-sampler.ts';

const tiny = {
  world: { creatures: 8, unknownNames: 6, petNames: 6 }, corpus: { paragraphsPerCreature: 2, paragraphsPerAct: 1 },
  judging: { pairs: 20, singles: 6, critiques: 6, shadowShare: 0.5, onPolicyPrompts: 16, onPolicyPairs: 6, onPolicySingles: 8 }, anchor: { size: 12, noise: 0.25 },
  policy: { vocabSize: 400, width: 32, layers: 1, heads: 2, pretrainSteps: 4, finetuneSteps: 4, batchSize: 4, judgingBatchSize: 2, contextLength: 512 },
};
const root = mkdtempSync(join(tmpdir(), 'testbed-build-'));
after(() => rmSync(root, { recursive: true, force: true }));

test('buildTestbed: loadable folders, cache hit, retrain on a changed config, same weights for the same seed', async () => {
  const stages = new Set<string>();
  const built = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config: tiny, onProgress: (e) => stages.add(e.stage) });
  assert.equal(built.fromCache, false);
  for (const stage of ['data', 'policy:tokenizer', 'policy:pretrain', 'policy:finetune', 'policy:on-policy', 'on-policy:sample', 'policy:save']) assert.ok(stages.has(stage), `progress names stage ${stage}`);
  assert.equal(built.labelerDirectory, built.policyDirectory, 'self-judging by default');
  const tokenizer = HfTokenizer.load(built.policyDirectory);
  assert.ok(tokenizer.chatTemplate?.includes('<|assistant|>'));
  assert.equal(loadPretrained(built.policyDirectory).config.vocabSize, tokenizer.vocabSize);
  assert.equal(built.anchorSet.length, 12);
  assert.ok(built.anchorSet.every((a) => built.prompts.find((p) => p.id === a.promptId)?.split === 'validation'));
  assert.ok(built.manifest.labeledBudget.total <= 5000);
  const budget = built.manifest.labeledBudget;
  assert.ok(budget.onPolicySingles > 0 && budget.onPolicySingles <= 8, `${budget.onPolicySingles} on-policy ratings within the budget of 8`);
  assert.ok(budget.onPolicyPairs <= 6);
  assert.ok(built.manifest.models.policy!.tokens.onPolicy > 0, 'the policy trained on its own labeled answers');

  const again = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config: tiny });
  assert.equal(again.fromCache, true);
  assert.equal(again.directory, built.directory);
  const changed = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config: { ...tiny, flawRates: { truthfulness: 0.5 } } });
  assert.equal(changed.fromCache, false);
  assert.notEqual(changed.directory, built.directory);
  const elsewhere = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'b'), config: tiny });
  assert.deepEqual(readFileSync(join(elsewhere.policyDirectory, 'model.safetensors')), readFileSync(join(built.policyDirectory, 'model.safetensors')), 'deterministic per seed');
  await assert.rejects(buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config: { policy: { width: 'wide' } } }), /field 'policy.width'/);
});

test('a separate labeler (llama family, focused judging sources on): its own, larger folder beside the policy; the self-judging build is not reused for it', async () => {
  const config = { ...tiny, labeler: { ...tiny.policy, family: 'llama', width: 48, heads: 2, mixture: { demonstrations: 0, judging: 0.6, verdicts: 0.1, decisions: 0.1, corpus: 0.2 } } };
  const built = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config, labeler: 'separate' });
  assert.equal(built.fromCache, false);
  assert.notEqual(built.labelerDirectory, built.policyDirectory);
  assert.equal(loadPretrained(built.labelerDirectory).config.hiddenSize, 48);
  assert.equal(loadPretrained(built.labelerDirectory).config.family, 'llama', 'recipe.family reaches the saved config');
  assert.equal(loadPretrained(built.policyDirectory).config.family, 'gpt2');
  assert.equal(loadPretrained(built.policyDirectory).config.hiddenSize, 32);
  assert.deepEqual(Object.keys(built.manifest.models).sort(), ['labeler', 'policy']);
});

test('a separate labeler initialised from the policy: its tokenizer and shape, no pretraining, judging fine-tuning on the finished policy\'s answers', async () => {
  const config = { ...tiny, policy: { ...tiny.policy, mixture: { onPolicy: 0 } },
    labeler: { ...tiny.policy, init: 'policy', width: 48, finetuneSteps: 6, onPolicyAt: 0, mixture: { demonstrations: 0, judging: 0.5, corpus: 0, onPolicy: 0.5 } } };
  const stages = new Set<string>();
  const built = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config, labeler: 'separate', onProgress: (e) => stages.add(e.stage) });
  assert.ok(!stages.has('labeler:pretrain') && stages.has('labeler:finetune') && stages.has('policy:pretrain'), [...stages].join(', '));
  for (const file of ['tokenizer.json', 'tokenizer_config.json']) {
    assert.deepEqual(readFileSync(join(built.labelerDirectory, file)), readFileSync(join(built.policyDirectory, file)), `${file} is the policy's`);
  }
  const labeler = loadPretrained(built.labelerDirectory), policy = loadPretrained(built.policyDirectory);
  assert.deepEqual(labeler.config, policy.config, 'the policy\'s shape (the recipe\'s width is not used)');
  const differs = [...policy.parameters].some(([name, t]) => t.data.some((x, i) => x !== labeler.parameters.get(name)!.data[i]));
  assert.ok(differs, 'fine-tuned past the policy\'s weights');
  assert.equal(built.manifest.models.labeler!.finalLoss.pretrain, null);
  assert.ok(built.manifest.models.labeler!.tokens.onPolicy > 0, 'the labeler trained on the policy\'s labeled answers');
  assert.equal(built.manifest.models.policy!.tokens.onPolicy, 0, 'the policy did not');
  await assert.rejects(buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config: { ...tiny, policy: { ...tiny.policy, init: 'policy' } } }), /field 'policy.init'/);
});

test('auditTestbed at a tiny size: samples the policy, judges differing pairs, reports gold failure rates', async () => {
  const built = await buildTestbed({ seed: 9, cacheDirectory: join(root, 'a'), config: tiny });
  const sampler = loadPolicySampler(built.policyDirectory);
  const test = built.prompts.filter((p) => p.split === 'test').slice(0, 3);
  const samples = sampler.sample(test, { samples: 2, temperature: 1, seed: 0, maxNewTokens: 8 });
  assert.deepEqual(samples, sampler.sample(test, { samples: 2, temperature: 1, seed: 0, maxNewTokens: 8 }), 'seeded');
  const audit = await auditTestbed({ world: built.world, prompts: built.prompts, policyDirectory: built.policyDirectory, labelerDirectory: built.labelerDirectory, corpusPath: built.corpusPath, alsoJudge: 'pointwise', maxPrompts: 8, seed: 1 });   // seed 1: a certainty agreement (1 of 6) that a flipped comparison would change
  assert.equal(audit.pairs.sampled, 8);
  assert.equal(audit.labeler.pairs, audit.pairs.judged);
  assert.equal(audit.labeler.judge, 'pairwise');
  assert.equal(audit.pairs.passFail + audit.pairs.bothFail + audit.pairs.bothPass + audit.pairs.goldTies, audit.pairs.judged);
  assert.equal(audit.passFailLabeler.pairs, audit.pairs.passFail);
  assert.equal(audit.gradedLabeler.pairs, audit.pairs.bothFail + audit.pairs.bothPass);
  // Per application: each judged pair counted under its prompt's application (every judged pair is in examples here).
  const applicationOf = new Map(built.prompts.map((p) => [p.id, p.application]));
  const expected: Record<string, number> = {};
  for (const e of audit.examples) expected[applicationOf.get(e.promptId)!] = (expected[applicationOf.get(e.promptId)!] ?? 0) + 1;
  assert.deepEqual(Object.fromEntries(Object.entries(audit.labelerByApplication).map(([k, a]) => [k, a.pairs])), expected);
  assert.equal(audit.other?.labeler.pairs, audit.pairs.judged); // the pointwise judge on the same pairs
  assert.equal(audit.other?.labeler.samePositionPreferred, null); // each answer rated alone: no position to prefer
  // The labeler reads the notes its retriever finds in the build's corpus.
  const fact = built.prompts.find((p) => p.kind === 'known-fact')!;
  assert.ok(testbedJudge(built).notesFor(fact.messages).length > 0);
  assert.equal(audit.pairs.judged + audit.pairs.identical, 8);
  assert.ok(new Set(audit.examples.map((e) => e.promptId.split('-test-')[0])).size >= 3, 'the prompts cover several kinds');
  // An untrained model babbles: gold fails it on nearly every truthfulness prompt.
  assert.ok(audit.sft.hallucination > 0.5, `hallucination ${audit.sft.hallucination}`);
  // The certainty baseline, recomputed by a plain forward pass: mean token log-probability of each answer (end token
  // included) after the chat-templated conversation; the likelier answer against gold, on the pairs gold decides.
  const promptOf = new Map(built.prompts.map((p) => [p.id, p]));
  const meanLogprob = (conversation: (typeof built.prompts)[number], answer: string) => {
    const prompt = sampler.tokenizer.applyChatTemplate(conversation.messages), response = [...sampler.tokenizer.encode(answer, { addSpecialTokens: false }), sampler.tokenizer.eosTokenId!];
    const ids = Int32Array.from([...prompt, ...response]), V = sampler.model.config.vocabSize;
    const logits = sampler.model.forward(ids, [1, ids.length]).data;
    let total = 0;
    response.forEach((token, j) => {
      const row = logits.subarray((prompt.length - 1 + j) * V, (prompt.length + j) * V);
      const max = Math.max(...row), lse = max + Math.log(row.reduce((a, x) => a + Math.exp(x - max), 0));
      total += row[token]! - lse;
    });
    return total / response.length;
  };
  let agrees = 0, judged = 0;
  for (const e of audit.examples) {
    const [x, y] = [meanLogprob(promptOf.get(e.promptId)!, e.a), meanLogprob(promptOf.get(e.promptId)!, e.b)];
    assert.ok(Math.abs(e.policyCertainty[0] - x) < 1e-4 && Math.abs(e.policyCertainty[1] - y) < 1e-4, `${e.promptId}: each answer's certainty, in order`);
    if (e.gold === null || Math.abs(x - y) < 1e-9) continue;
    judged++;
    if ((x > y) === (e.gold === 'A')) agrees++;
  }
  assert.equal(audit.policyCertainty.judged, judged, 'every gold-decided pair with a likelier answer');
  assert.equal(audit.policyCertainty.agreement, judged > 0 ? agrees / judged : null);
});
