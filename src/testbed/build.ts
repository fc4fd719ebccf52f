// Builds the testbed for a seed: world, prompts and splits, corpus, flawed demonstrations, judging examples, the
// embedded models (the SFT policy that also judges; optionally a separate labeler) and the gold-labeled anchor
// set. Models are cached by content hash (seed + config + the testbed's code) in a folder under the cache directory:
// a second build reuses them, a changed config or code retrains. Written to a temporary folder, then renamed.
import { existsSync, mkdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { Rng } from '../engine/random.ts';
import { flawedResponse, type Flaw } from './answers.ts';
import { buildKey } from './cache-key.ts';
import { renderCorpus } from './corpus.ts';
import { makeDemonstrations } from './demonstrations.ts';
import { trainEmbeddedModel, type TrainedModelInfo, type TrainingData, type TrainingProgress } from './embedded-model.ts';
import { goldCompare } from './gold.ts';
import { makeJudgingExamples } from './judging-examples.ts';
import { buildNotesIndex } from './notes.ts';
import { makeOnPolicyExamples, type OnPolicyExamples, type OnPolicySource } from './on-policy-judging.ts';
import { loadPolicySampler, policySampler } from './policy-sampler.ts';
import { testbedTemplates } from './labeler-format.ts';
import { makePrompts, type TestbedPrompt } from './prompts.ts';
import { testbedConfigSchema, type TestbedConfig } from './testbed-config.ts';
import { makeWorld, shadowWorld, testbedSeed, type World } from './world.ts';

export type LabelerSetup = 'self' | 'separate';

export interface AnchorComparison {
  promptId: string;        // a validation prompt
  a: string;
  b: string;
  preferred: 'a' | 'b';    // gold's preference, flipped when `noisy`
  noisy: boolean;          // the label was flipped (configured label noise)
}

export interface BuiltTestbed {
  seed: number;
  directory: string;        // the cache folder of this build
  config: TestbedConfig;
  world: World;
  prompts: TestbedPrompt[];
  policyDirectory: string;  // SFT policy: Hugging Face folder (config.json, model.safetensors, tokenizer.json with chat template)
  labelerDirectory: string; // the policy's folder when self-judging, else the separate labeler's
  corpusPath: string;       // the pretraining corpus, one paragraph per line (for corpusSupport)
  labeler: LabelerSetup;
  anchorSet: AnchorComparison[];
  manifest: TestbedManifest;
  fromCache: boolean;
}

export interface TestbedManifest {
  key: string;
  seed: number;
  buildSeconds: number;     // from nothing, when it was built
  labeledBudget: { judgingPairs: number; judgingSingles: number; judgingCritiques: number; onPolicyPairs: number; onPolicySingles: number; onPolicyFlipped: number; anchorComparisons: number; total: number };
  demonstrations: { total: number; flawed: number };
  models: Record<string, TrainedModelInfo>;
}

export interface BuildEvent { stage: string; step: number; total: number; loss?: number; model?: string }

export interface BuildOptions {
  seed: number;
  cacheDirectory?: string;        // default .rlaif-cache in the working directory
  labeler?: LabelerSetup;         // default 'self'
  config?: unknown;               // partial testbed config (testbedConfigSchema); tests use tiny sizes
  onProgress?: (event: BuildEvent) => void;
}

/** Gold-labeled comparisons on validation prompts with `noise` of the labels flipped (the labeled anchor set). */
export function makeAnchorSet(world: World, prompts: readonly TestbedPrompt[], size: number, noise: number, seed: number): AnchorComparison[] {
  const validation = prompts.filter((p) => p.split === 'validation');
  const rng = new Rng(testbedSeed(seed, 'anchor-set'));
  const flaws: Flaw[] = ['none', 'violation', 'padding', 'incomplete', 'unnamed-refusal'];
  const out: AnchorComparison[] = [];
  for (let guard = 0; out.length < size && validation.length > 0 && guard < size * 20; guard++) {
    const prompt = validation[rng.int(validation.length)]!;
    const a = flawedResponse(world, prompt, flaws[rng.int(flaws.length)]!, rng), b = flawedResponse(world, prompt, flaws[rng.int(flaws.length)]!, rng);
    const { winner } = goldCompare(world, prompt, a, b);
    if (winner === 'tie') continue;
    const noisy = rng.uniform() < noise;
    out.push({ promptId: prompt.id, a, b, preferred: noisy ? (winner === 'a' ? 'b' : 'a') : winner, noisy });
  }
  return out;
}

/** Builds (or loads from the cache) the testbed of `seed`. */
export async function buildTestbed(options: BuildOptions): Promise<BuiltTestbed> {
  const started = performance.now();
  const labeler = options.labeler ?? 'self';
  const parsed = testbedConfigSchema.safeParse(options.config ?? {});
  if (!parsed.success) {
    const issue = parsed.error.issues[0]!;
    throw new Error(`testbed config: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  const config = parsed.data;
  if (config.policy.init !== 'scratch') throw new Error("testbed config: field 'policy.init': the policy starts from scratch ('policy' is for a separate labeler)");
  if (!Number.isInteger(options.seed) || options.seed < 0) throw new Error(`testbed: seed must be a non-negative integer, got ${options.seed}`);
  const progress = options.onProgress ?? (() => {});
  const world = makeWorld(options.seed, config.world);
  const prompts = makePrompts(world);
  const anchorSet = makeAnchorSet(world, prompts, config.anchor.size, config.anchor.noise, options.seed);
  const key = buildKey(options.seed, labeler, config);
  const cacheDirectory = resolve(options.cacheDirectory ?? '.rlaif-cache');
  const directory = join(cacheDirectory, `testbed-seed${options.seed}-${labeler}-${key}`);
  const manifestPath = join(directory, 'manifest.json');
  const result = (manifest: TestbedManifest, fromCache: boolean): BuiltTestbed => ({
    seed: options.seed, directory, config, world, prompts, labeler, anchorSet, manifest, fromCache,
    policyDirectory: join(directory, 'policy'), corpusPath: join(directory, 'corpus.txt'),
    labelerDirectory: join(directory, labeler === 'self' ? 'policy' : 'labeler'),
  });
  if (existsSync(manifestPath)) {
    progress({ stage: 'cache-hit', step: 1, total: 1 });
    return result(JSON.parse(readFileSync(manifestPath, 'utf8')) as TestbedManifest, true);
  }

  const temporary = `${directory}.partial-${process.pid}`;
  rmSync(temporary, { recursive: true, force: true });
  mkdirSync(temporary, { recursive: true });
  try {
    progress({ stage: 'data', step: 0, total: 1 });
    const corpus = renderCorpus(world, config.corpus);
    const demonstrations = makeDemonstrations(world, prompts, config.flawRates);
    // Judging examples in the real world and in the shadow world (no corpus describes it: the notes are the only
    // evidence there), split by judging.shadowShare; the real ones come first (the tokenizer reads the first 400).
    const notes = buildNotesIndex(corpus);
    const j = config.judging, real = (n: number) => Math.round(n * (1 - j.shadowShare));
    const templates = testbedTemplates();
    const judging = makeJudgingExamples(world, prompts, templates, { pairs: real(j.pairs), singles: real(j.singles), critiques: real(j.critiques), seed: testbedSeed(options.seed, 'judging-examples'), notes });
    const sources: OnPolicySource[] = [{ world, prompts, notes, share: 1 - j.shadowShare }];
    if (j.shadowShare > 0) {  // drawn only when asked: off by default
      const shadow = shadowWorld(world);
      const shadowPrompts = makePrompts(shadow).filter((p) => p.split === 'train'); // train templates only
      const shadowNotes = buildNotesIndex(renderCorpus(shadow, config.corpus));
      judging.push(...makeJudgingExamples(shadow, shadowPrompts, templates, { pairs: j.pairs - real(j.pairs), singles: j.singles - real(j.singles), critiques: j.critiques - real(j.critiques), seed: testbedSeed(shadow.seed, 'judging-examples'), notes: shadowNotes }));
      sources.push({ world: shadow, prompts: shadowPrompts, notes: shadowNotes, share: j.shadowShare });
    }
    writeFileSync(join(temporary, 'corpus.txt'), `${corpus.join('\n')}\n`);
    progress({ stage: 'data', step: 1, total: 1 });
    let onPolicy: OnPolicyExamples = { examples: [], pairs: 0, singles: 0, flipped: 0, seconds: 0 };
    const onPolicyOptions = { prompts: j.onPolicyPrompts, pairs: j.onPolicyPairs, singles: j.onPolicySingles, noise: j.labelNoise, seed: testbedSeed(options.seed, 'on-policy') };
    const sampleProgress = (done: number, total: number) => progress({ stage: 'on-policy:sample', step: done, total });
    const models: Record<string, TrainedModelInfo> = {};
    const train = (name: 'policy' | 'labeler') => {
      const recipe = name === 'policy' ? config.policy : config.labeler;
      // The self-judging policy labels its own answers from partway through its training; a separate labeler learns
      // on the finished policy's answers (the ones it will judge).
      const maker: TrainingData['onPolicy'] = j.onPolicyPrompts === 0 || recipe.mixture.onPolicy === 0 ? undefined : (model, tokenizer) => {
        const sampler = name === 'policy' ? policySampler(model, tokenizer) : loadPolicySampler(join(temporary, 'policy'));
        onPolicy = makeOnPolicyExamples(sampler, sources, templates, onPolicyOptions, sampleProgress);
        return onPolicy.examples;
      };
      models[name] = trainEmbeddedModel({
        recipe, seed: options.seed, directory: join(temporary, name),
        ...(recipe.init === 'policy' ? { initialDirectory: join(temporary, 'policy') } : {}),
        data: { names: [...world.creatures.map((c) => c.name), ...world.unknownNames, ...world.petNames], corpus, demonstrations: recipe.mixture.demonstrations > 0 ? demonstrations.map((d) => d.messages) : [], judging, onPolicy: maker },
        onProgress: (event: TrainingProgress) => progress({ ...event, stage: `${name}:${event.stage}`, model: name }),
      });
    };
    train('policy');
    if (labeler === 'separate') train('labeler');
    const spent = onPolicy; // the labeler's: the separate one's when there is one, else the policy's
    const manifest: TestbedManifest = {
      key, seed: options.seed, buildSeconds: (performance.now() - started) / 1000,
      labeledBudget: {
        judgingPairs: j.pairs, judgingSingles: j.singles, judgingCritiques: j.critiques, onPolicyPairs: spent.pairs, onPolicySingles: spent.singles, onPolicyFlipped: spent.flipped,
        anchorComparisons: anchorSet.length, total: j.pairs + j.singles + j.critiques + spent.pairs + spent.singles + anchorSet.length,
      },
      demonstrations: { total: demonstrations.length, flawed: demonstrations.filter((d) => d.flawed).length },
      models,
    };
    writeFileSync(join(temporary, 'manifest.json'), `${JSON.stringify(manifest, null, 2)}\n`);
    rmSync(directory, { recursive: true, force: true });
    renameSync(temporary, directory);
    return result(manifest, false);
  } catch (error) {
    rmSync(temporary, { recursive: true, force: true });
    throw error;
  }
}
