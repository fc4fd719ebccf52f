// `rlaif train pg|sft|reward|dpo --config x.yaml`: trainers of src/algorithms on the built-in digit-task policy or a
// Hugging Face checkpoint (train-model.ts: text data through its tokenizer, trained model saved back as HF or PEFT),
// YAML configs validated by strict zod schemas (train-configs.ts), data from JSONL or built-in synthetic sets
// (train-data.ts); run folder with the frozen config, metrics.jsonl, checkpoint/ and resume; progress bar.
// Leaves out: critique–revision from the CLI, judge-backed online DPO, judge or reward-model rewards for pg.
import { readFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import type { z } from 'zod';
import { DpoTrainer } from '../algorithms/dpo-trainer.ts';
import { OnlineDpoTrainer } from '../algorithms/online-dpo-trainer.ts';
import { PolicyGradientTrainer } from '../algorithms/policy-gradient-trainer.ts';
import { scorerPreferences } from '../algorithms/preference-sources.ts';
import { frozenCopy, trainableCopy } from '../algorithms/reference-model.ts';
import { programmaticReward } from '../algorithms/reward-sources.ts';
import { RewardModelTrainer } from '../algorithms/reward-model-trainer.ts';
import { SftTrainer } from '../algorithms/sft-trainer.ts';
import { textReward } from '../algorithms/text-rewards.ts';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import { precisionNotice } from '../algorithms/precision-config.ts';
import type { MatmulPrecision, Tensor } from '../engine/index.ts';
import { deriveSeed } from '../engine/random.ts';
import type { Transformer } from '../models/transformer.ts';
import { BOS, decodeDigits, EOS, pretrainDigitPolicy, RESPONSE_DIGITS, sortedReward } from '../testbed/digit-task.ts';
import { runTraining, type LoopTrainer } from '../algorithms/training-loop.ts';
import { openRunFolder } from '../algorithms/run-folder.ts';
import { RunFolder, TrainingStopped, trainingRunHasProgress, type MonitorOptions, type StepRecord } from '../algorithms/training-run.ts';
import {
  dpoConfigSchema, parseRunConfig, pgConfigSchema, rewardConfigSchema, sftConfigSchema,
  type DpoRunConfig, type PgRunConfig, type RewardRunConfig, type SftRunConfig,
} from './train-configs.ts';
import { readPreferencePairs, readSftExamples, syntheticPreferencePairs, syntheticSftExamples } from './train-data.ts';
import { formatTrainSummary, headlineChange, readConfigFile, SUMMARY_METRICS, withConfigKey, type MetricChange } from './train-summary.ts';
import { describeConfig } from '../pipeline/describe-config.ts';
import { loadCheckpointModel, readTextPreferencePairs, readTextPrompts, readTextSftExamples, saveTrainedModel, type CheckpointModel } from './train-model.ts';

export { parseRunConfig, pgConfigSchema } from './train-configs.ts';

export type TrainKind = 'pg' | 'sft' | 'reward' | 'dpo';

export interface TrainSummary {
  runDir: string;
  steps: number;                 // steps completed (all invocations)
  resumedFrom: number | null;
  last: StepRecord | null;       // this invocation's last step
  saved: string | null;          // what was written at the end ('model → dir' or 'adapter → dir'), null = nothing
  checkpoint: string | null;     // the newest checkpoint folder
  headline: MetricChange[];      // headline metrics at the run's first and last recorded steps
  warnings: string[];            // constant reward, checkpoint fallback
}

/** Config keys that may change when a run resumes (train further, checkpoint or evaluate more often, save elsewhere, the
 * run folder moved); any other change is refused. */
const RESUMABLE_KEYS = ['steps', 'checkpointEvery', 'evalEvery', 'saveTo', 'runDir'];

const PROMPTS = [{ text: '', tokens: Int32Array.of(BOS) }];

/** The metric each subcommand's progress bar shows. */
const HEADLINE: Record<TrainKind, string[]> = {
  pg: ['rewardMean', 'kl'], sft: ['loss'], reward: ['loss', 'heldOutAccuracy'], dpo: ['loss', 'rewardAccuracy'],
};

/** A built run: the trainer, and how to write the trained model when the run ends (null: nothing to write). */
interface Built {
  trainer: LoopTrainer;
  save: (() => string) | null;
}

type ModelKeys = Pick<PgRunConfig, 'model' | 'pretrainSteps' | 'seed' | 'saveTo' | 'runDir'>;

/** The base weights (frozen) and, for a checkpoint, its tokenizer and folder. */
function baseModel(config: ModelKeys): { base: Transformer; checkpoint: CheckpointModel | null } {
  if (config.model.kind === 'checkpoint') {
    const checkpoint = loadCheckpointModel(config.model.path);
    return { base: checkpoint.base, checkpoint };
  }
  return { base: pretrainDigitPolicy(config.pretrainSteps, config.seed), checkpoint: null };
}

function saver(config: ModelKeys, checkpoint: CheckpointModel | null, policy: Transformer, extra?: () => Map<string, Tensor>): Built['save'] {
  const dir = config.saveTo ?? (checkpoint ? join(config.runDir, 'model') : null);
  if (!dir) return null;
  return () => `${saveTrainedModel(dir, policy, checkpoint?.path ?? null, extra?.())} → ${dir}`;
}

function needs<T>(value: T | null, what: string): T {
  if (value === null) throw new Error(`a checkpoint model needs \`${what}\` (the built-in synthetic sets are digit strings)`);
  return value;
}

async function pgTrainer(config: PgRunConfig): Promise<Built> {
  if (config.pretrainCoef > 0) throw new Error('pretrainCoef: `rlaif train pg` takes no pretraining text to replay; PPO-ptx runs in `rlaif run` (algorithm.pretrainCoef, algorithm.pretrainText)');
  const { base, checkpoint } = baseModel(config), policy = trainableCopy(base);
  const text = checkpoint && {
    prompts: await readTextPrompts(needs(config.prompts, 'prompts'), checkpoint.tokenizer), reward: textReward(needs(config.reward, 'reward')),
    decode: (ids: Int32Array) => checkpoint.tokenizer.decode(ids, { skipSpecialTokens: true }), stopToken: checkpoint.tokenizer.eosTokenId,
  };
  const trainer = new PolicyGradientTrainer({
    config: { ...config, maxNewTokens: text ? config.maxNewTokens : RESPONSE_DIGITS + 1, stopToken: text ? text.stopToken : EOS }, // builtin: the digit task's length and EOS
    policy, reference: frozenCopy(base), prompts: text ? text.prompts : PROMPTS, decode: text ? text.decode : decodeDigits,
    reward: text ? text.reward : programmaticReward('sorted-digits', sortedReward), lora: config.lora,
  });
  return { trainer, save: saver(config, checkpoint, policy) };
}

/**
 * Seeds of the built-in synthetic training and held-out data for a run seed, derived by label: with `seed + 1` and
 * `seed + 2`, run seed 0's held-out set was run seed 1's training set.
 */
export function syntheticDataSeeds(seed: number): { train: number; heldOut: number } {
  return { train: deriveSeed(seed, 'train-data'), heldOut: deriveSeed(seed, 'held-out-data') };
}

async function sftTrainer(config: SftRunConfig): Promise<Built> {
  const { base, checkpoint } = baseModel(config), policy = trainableCopy(base);
  const examples = checkpoint ? readTextSftExamples(needs(config.data, 'data'), checkpoint.tokenizer)
    : config.data ? readSftExamples(config.data) : syntheticSftExamples(config.syntheticExamples, syntheticDataSeeds(config.seed).train);
  return { trainer: new SftTrainer(policy, examples, config), save: saver(config, checkpoint, policy) };
}

function preferenceData(config: RewardRunConfig | DpoRunConfig, checkpoint: CheckpointModel | null): { train: TokenPreferencePair[]; heldOut: TokenPreferencePair[] } {
  if (checkpoint) {
    const train = readTextPreferencePairs(needs(config.data, 'data'), checkpoint.tokenizer);
    return { train, heldOut: config.heldOut ? readTextPreferencePairs(config.heldOut, checkpoint.tokenizer) : train };
  }
  return {
    train: config.data ? readPreferencePairs(config.data) : syntheticPreferencePairs(config.syntheticPairs, syntheticDataSeeds(config.seed).train),
    heldOut: config.heldOut ? readPreferencePairs(config.heldOut) : syntheticPreferencePairs(config.syntheticHeldOutPairs, syntheticDataSeeds(config.seed).heldOut),
  };
}

async function rewardTrainer(config: RewardRunConfig): Promise<Built> {
  const { base, checkpoint } = baseModel(config), model = trainableCopy(base);
  const trainer = new RewardModelTrainer({ config, model, ...preferenceData(config, checkpoint) });
  return { trainer, save: saver(config, checkpoint, model, () => trainer.head.parameters()) };
}

async function dpoTrainer(config: DpoRunConfig): Promise<Built> {
  const { base, checkpoint } = baseModel(config), policy = trainableCopy(base);
  if (config.mode === 'online') {
    if (checkpoint) throw new Error('dpo mode online: preferences come from the built-in sorted-digits scorer, so it needs model kind builtin');
    const trainer = new OnlineDpoTrainer({
      config: { ...config, ...config.online, maxNewTokens: RESPONSE_DIGITS + 1, stopToken: EOS }, // the digit task's length and EOS
      policy, reference: frozenCopy(base), prompts: PROMPTS, decode: decodeDigits,
      preferences: scorerPreferences('sorted-digits', sortedReward), lora: config.lora,
    });
    return { trainer, save: saver(config, checkpoint, policy) };
  }
  const trainer = new DpoTrainer({ config, policy, reference: frozenCopy(base), ...preferenceData(config, checkpoint), lora: config.lora });
  return { trainer, save: saver(config, checkpoint, policy) };
}

interface Subcommand<C> {
  schema: z.ZodType<C>;
  build: (config: C) => Promise<Built>;
  monitors: (config: C) => MonitorOptions;
}

type RunBasics = { runDir: string; steps: number; checkpointEvery: number };

/** Erases a subcommand's config type once its schema, builder and monitors are checked against each other. */
function subcommand<C extends RunBasics>(s: Subcommand<C>): Subcommand<RunBasics> {
  return s as unknown as Subcommand<RunBasics>;
}

const SUBCOMMANDS: Record<TrainKind, Subcommand<RunBasics>> = {
  pg: subcommand<PgRunConfig>({ schema: pgConfigSchema, build: pgTrainer, monitors: (c) => ({ maxKl: c.maxKl }) }),
  sft: subcommand<SftRunConfig>({ schema: sftConfigSchema, build: sftTrainer, monitors: () => ({}) }),
  reward: subcommand<RewardRunConfig>({ schema: rewardConfigSchema, build: rewardTrainer, monitors: () => ({}) }),
  dpo: subcommand<DpoRunConfig>({ schema: dpoConfigSchema, build: dpoTrainer, monitors: () => ({}) }),
};

/** `rlaif train <kind> --print-config`: the parsed config (paths resolved) with each key's description, as YAML. */
export function printTrainConfig(kind: TrainKind, configPath: string): string {
  const sub = SUBCOMMANDS[kind];
  return describeConfig(sub.schema, parseRunConfig(sub.schema, readConfigFile(configPath), configPath, dirname(resolve(configPath))));
}

/** Builds the trainer of a parsed config (what `trainCommand` runs; tests check the config reaches it unchanged). */
export async function buildTrainer(kind: TrainKind, config: RunBasics): Promise<LoopTrainer> {
  return (await SUBCOMMANDS[kind].build(config)).trainer;
}

/** Options of one `rlaif train <kind>` besides the config file. */
export interface TrainOptions {
  progress?: boolean;                 // progress bar on stderr (default true)
  fresh?: boolean;                    // move an existing run folder aside and start afresh
  log?: (line: string) => void;       // resume notice and warnings (default: nothing)
}

/**
 * Runs one `rlaif train <kind>`: parse and freeze the config, lock the run folder and check it holds this run (or
 * none), build the trainer (data, model), then write config.json and run.json, resume, train, checkpoint.
 */
export async function trainCommand(kind: TrainKind, configPath: string, options: TrainOptions = {}): Promise<TrainSummary> {
  const sub = SUBCOMMANDS[kind];
  const config = parseRunConfig(sub.schema, readConfigFile(configPath), configPath, dirname(resolve(configPath)));
  try {
    return await trainInFolder(kind, sub, config, options);
  } catch (error) {
    throw error instanceof TrainingStopped ? error : withConfigKey(error, configPath, config);
  }
}

async function trainInFolder(kind: TrainKind, sub: Subcommand<RunBasics>, config: RunBasics, options: TrainOptions): Promise<TrainSummary> {
  const opened = openRunFolder({
    dir: config.runDir, kind: `train ${kind}`, config, fresh: options.fresh, resumableKeys: RESUMABLE_KEYS,
    hasProgress: trainingRunHasProgress, progressFiles: ['metrics.jsonl'],
  });
  const bar = options.progress ?? true ? new SingleBar({ format: `${kind} {bar} {value}/{total} {headline}` }, Presets.shades_classic) : null;
  try {
    if (opened.movedAside) options.log?.(`${kind}: the previous run in ${config.runDir} was moved to ${opened.movedAside}`);
    const precision = precisionNotice((config as { precision?: MatmulPrecision }).precision);
    if (precision) options.log?.(`${kind}: ${precision}`);
    const { trainer, save } = await sub.build(config);
    opened.start();
    const run = new RunFolder(config.runDir);
    bar?.start(config.steps, 0, { headline: '' });
    const result = await runTraining(trainer, {
      run, steps: config.steps, checkpointEvery: config.checkpointEvery, monitors: sub.monitors(config),
      onWarning: (message) => { bar?.stop(); options.log?.(`${kind}: warning: ${message}`); },
      onResume: (step, checkpoint) => options.log?.(`${kind}: resuming ${config.runDir} from step ${step} of ${config.steps} (${checkpoint})`),
      onStep: (record) => {
        bar?.update(record.step, { headline: HEADLINE[kind].filter((m) => record.metrics[m] !== undefined)
          .map((m) => `${m} ${record.metrics[m].toFixed(3)}`).join(' ') });
      },
    });
    bar?.stop();
    const saved = save ? save() : null;
    return {
      runDir: config.runDir, steps: trainer.step, resumedFrom: result.resumedFrom, last: result.records.at(-1) ?? null, saved,
      checkpoint: result.lastCheckpoint, headline: headlineChange(run.metricsPath, SUMMARY_METRICS[kind]), warnings: result.warnings,
    };
  } finally {
    bar?.stop();
    opened.release();
  }
}

export function registerTrainCommand(program: Command): void {
  const train = program.command('train').description('train a policy or reward model on the built-in digit task (or your JSONL data)');
  const descriptions: Record<TrainKind, string> = {
    pg: 'policy-gradient RL (REINFORCE, RLOO, GRPO, PPO), full or LoRA',
    sft: 'supervised fine-tuning, loss on response tokens only',
    reward: 'Bradley–Terry reward model from preference pairs (hard or soft labels)',
    dpo: 'DPO/IPO/cDPO offline from pairs, or online (Self-Rewarding loop)',
  };
  for (const kind of Object.keys(descriptions) as TrainKind[]) {
    train.command(kind).description(descriptions[kind]).requiredOption('--config <file>', 'YAML config (every key optional)')
      .option('--no-progress', 'no progress bar')
      .option('--fresh', 'start afresh when the run folder holds an earlier run (it is moved aside to <runDir>.old-<time>, not deleted)')
      .option('--print-config', 'print the config (every default filled in, each key with its description) as YAML, and exit')
      .action(async (options: { config: string; progress: boolean; fresh?: boolean; printConfig?: boolean }) => {
        try {
          if (options.printConfig) {
            process.stdout.write(printTrainConfig(kind, options.config));
            return;
          }
          const summary = await trainCommand(kind, options.config, { progress: options.progress, fresh: options.fresh, log: (line) => process.stderr.write(`${line}\n`) });
          for (const line of formatTrainSummary({ kind, ...summary })) console.log(line);
        } catch (error) {
          // Config, data and monitor errors are for the user: the message names the key, file:line or checkpoint.
          process.stderr.write(`rlaif train ${kind}: ${error instanceof Error ? error.message : String(error)}\n`);
          process.exitCode = error instanceof TrainingStopped ? 2 : 1;
        }
      });
  }
}
