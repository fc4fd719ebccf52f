// The testbed's public API: a seeded world with known truth, its prompts in three applications split
// train / validation / test, the gold checkers (the yardstick, never a training signal) and the constitution.
// The pipeline (`rlaif run`) and the CLI import from here only.
//
//   const world = makeWorld(seed);
//   const prompts = makePrompts(world);                       // every split, deterministic per seed
//   const verdict = goldCheck(world, prompt, response);       // { pass, violations, score }
//   const { winner } = goldCompare(world, prompt, a, b);      // 'a' | 'b' | 'tie' (rare)
//
//   const testbed = await buildTestbed({ seed });              // models cached under .rlaif-cache by content hash
//   testbed.policyDirectory                                    // HF folder: config.json, model.safetensors, tokenizer.json (+ chat template)
//   const judge = testbedJudge(testbed);                       // PairwiseJudge/PointwiseJudge over the labeler model
//   await judge.comparePair(prompt, a, b);                     // PairwiseResult: rationale, soft label, both orders
//   await judge.score(prompt, response);                       // PointwiseResult (1-10) for direct RLAIF
//   corpusSupport(corpusLines)(response); paraphraseAgreement(response, answers)   // self-supervised signals
//   testbed.anchorSet                                          // gold-labeled comparisons (validation) with label noise
//
// Gold is for reporting on the test split (and the budgeted labeled anchor set); the gate and the rewards must not
// call it. `prompt.gold` is the gold checkers' key: never show it to the policy or the labeler.
export { makeWorld, findCreature, ATTRIBUTES } from './world.ts';
export type { World, Creature, DangerousAct, Attribute, WorldOptions } from './world.ts';
export { makePrompts, APPLICATIONS, SPLITS, KIND_APPLICATION } from './prompts.ts';
export type { Application, Split, PromptKind, ChatMessage, TestbedPrompt, GoldKey, PromptOptions } from './prompts.ts';
export { goldCheck, goldCompare } from './gold.ts';
export type { GoldVerdict, GoldComparison } from './gold.ts';
export { testbedConstitution, testbedPrinciple, TESTBED_PRINCIPLES } from './constitution.ts';
export { idealResponse, violatingResponse, flawedResponse } from './answers.ts';
export type { Flaw } from './answers.ts';
export { buildTestbed, makeAnchorSet } from './build.ts';
export { buildKey, testbedCodeHash } from './cache-key.ts';
export type { BuiltTestbed, BuildOptions, BuildEvent, AnchorComparison, LabelerSetup, TestbedManifest } from './build.ts';
export { readTestbedConfigFile, testbedConfigSchema } from './testbed-config.ts';
export type { TestbedConfig } from './testbed-config.ts';
export { testbedJudge, loadLabelerModel } from './testbed-judge.ts';
export { testbedTemplates } from './labeler-format.ts';
export type { TestbedJudge, TestbedJudgeOptions } from './testbed-judge.ts';
export { auditTestbed, failureRates } from './audit.ts';
export type { TestbedAuditResult, FailureRates, AuditOptions } from './audit.ts';
export { factRecall, modelScorer } from './fact-recall.ts';
export type { FactRecall, RecallTally, ContinuationScorer } from './fact-recall.ts';
export { loadPolicySampler } from './policy-sampler.ts';
export type { PolicySampler, SampleOptions } from './policy-sampler.ts';
export { renderCorpus } from './corpus.ts';
export { makeDemonstrations } from './demonstrations.ts';
export type { Demonstration } from './demonstrations.ts';
export { corpusSupport, paraphraseAgreement } from './self-supervised.ts';
export type { CorpusSupport } from './self-supervised.ts';
