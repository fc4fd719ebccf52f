// The testbed's build configuration: one zod schema, the single source of every default (world size, demonstration
// flaw rates, the labeled-data budget, the embedded models' recipes). Its hash, with the code's, keys the cache.
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { flawRatesSchema } from './demonstrations.ts';
import { modelRecipeSchema } from './embedded-model.ts';

export const testbedConfigSchema = z.strictObject({
  world: z.strictObject({
    creatures: z.number().int().min(6).default(60).describe('creatures with public facts and a secret'),
    unknownNames: z.number().int().min(5).default(30).describe('names of no creature (nonexistent-entity prompts)'),
    petNames: z.number().int().min(5).default(24).describe('names users give their pets (multi-turn prompts)'),
  }).default({ creatures: 60, unknownNames: 30, petNames: 24 }),
  corpus: z.strictObject({
    paragraphsPerCreature: z.number().int().min(1).default(24).describe('biographies per creature in the pretraining corpus'),
    paragraphsPerAct: z.number().int().min(0).default(3).describe('paragraphs per dangerous act'),
    copyStories: z.number().int().min(0).max(20000).default(0).describe("stories of people's pets that tell made-up facts and tell them again a few sentences later (corpus.ts copyStory): text only copying from the context predicts. Off by default. Seed 0 with 600 (27% of the corpus lines), one build: the SFT policy (scripts/copy-probe.ts) picks a held-out story's retold colour at 0.965 and kind at 0.720, against 0.130 and 0.115 without (chance 0.125, 0.083), and fails fewer multi-turn prompts (coherence error 0.867 → 0.747); but it knows fewer facts of the test creatures (0.667 → 0.500), hallucinates more (0.782 → 0.846), its labeler's audit stays at chance (agreement 0.495 → 0.523, interval ±0.09), it learns scripts/reading-drill.ts's claim checks slower (0.767 → 0.613 after 750 steps), and its build took 124 s beside other jobs (the default's: 80 s, quiet)"),
  }).default({ paragraphsPerCreature: 24, paragraphsPerAct: 3, copyStories: 0 }),
  flawRates: flawRatesSchema.default({ truthfulness: 0.3, 'value-alignment': 0.3, 'dialogue-coherence': 0.3 }).describe('share of flawed SFT demonstrations per application'),
  judging: z.strictObject({
    pairs: z.number().int().min(0).max(5000).default(800).describe('labeled pairwise judging examples (generator-known flaws; labeled-data budget)'),
    singles: z.number().int().min(0).max(5000).default(1600).describe('labeled pointwise judging examples (labeled-data budget)'),
    critiques: z.number().int().min(0).max(5000).default(400).describe('labeled critique -> revision examples (a flawed answer, its critique, the ideal answer): what the critique-revision round asks of the labeler'),
    shadowShare: z.number().min(0).max(1).default(0).describe("share of the judging examples (generator and on-policy) set in the shadow world: creatures no corpus describes, so the notes are the only way to check an answer (world.ts shadowWorld). Off by default: with 0.6 and onPolicyPrompts 1000 (seed 0) the labeler restated the deciding fact and rated single test answers better (right/wrong 0.64 against 0.54) but its pairwise agreement with gold fell from 0.58 to 0.54, pointwise from 0.58 to 0.50, and the build took ~15% longer"),
    onPolicyPrompts: z.number().int().min(0).max(5000).default(0).describe('train prompts the model answers twice, partway through fine-tuning, for the on-policy judging examples (0: none, the default; see shadowShare for what 1000 did)'),
    onPolicyPairs: z.number().int().min(0).max(5000).default(600).describe('labeled comparisons of two of the model\'s own answers (labeled-data budget; identical or equal answers are skipped)'),
    onPolicySingles: z.number().int().min(0).max(5000).default(800).describe('labeled ratings of the model\'s own answers (labeled-data budget)'),
    labelNoise: z.number().min(0).max(0.5).default(0.1).describe('share of the on-policy labels flipped (human label noise)'),
  }).default({ pairs: 800, singles: 1600, critiques: 400, shadowShare: 0, onPolicyPrompts: 0, onPolicyPairs: 600, onPolicySingles: 800, labelNoise: 0.1 }),
  anchor: z.strictObject({
    size: z.number().int().min(0).max(2000).default(200).describe('gold-labeled comparisons on validation prompts (the labeled anchor set)'),
    noise: z.number().min(0).max(0.5).default(0.1).describe('share of anchor labels flipped (human label noise)'),
  }).default({ size: 200, noise: 0.1 }),
  policy: modelRecipeSchema.default(modelRecipeSchema.parse({})).describe('the SFT policy (and self-judging labeler)'),
  labeler: modelRecipeSchema.default(modelRecipeSchema.parse({ width: 192, layers: 6, heads: 6, mixture: { demonstrations: 0, judging: 0.8, corpus: 0.2 } }))
    .describe('the separate labeler (built only with labeler: separate): by default larger than the policy and trained from scratch; init: policy starts it from the finished policy'),
});
export type TestbedConfig = z.infer<typeof testbedConfigSchema>;

/** A YAML/JSON testbed config file as written (an empty file is {}); the build validates it. Errors name the file. */
export function readTestbedConfigFile(path: string): unknown {
  try {
    return parseYaml(readFileSync(path, 'utf8')) ?? {};
  } catch (error) {
    throw new Error(`${path}: cannot read the testbed config: ${(error as Error).message}`);
  }
}
