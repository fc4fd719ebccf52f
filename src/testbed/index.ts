// The testbed's public API: a seeded world with known truth, its prompts in three applications split
// train / validation / test, the gold checkers (the yardstick, never a training signal) and the constitution.
// The pipeline (`rlaif run`) and the CLI import from here only.
//
//   const world = makeWorld(seed);
//   const prompts = makePrompts(world);                       // every split, deterministic per seed
//   const verdict = goldCheck(world, prompt, response);       // { pass, violations, score }
//   const { winner } = goldCompare(world, prompt, a, b);      // 'a' | 'b' | 'tie' (rare)
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
