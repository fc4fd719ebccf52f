// Config schemas of `rlaif train pg|sft|reward|dpo`: one strict zod schema per run type, the single source of
// defaults, descriptions and checks; unknown keys are errors naming the key path; parsed configs are frozen.
// `model` picks the built-in digit-task policy (pretrained in-process from `seed`) or a Hugging Face checkpoint folder.
// Leaves out: remote models (OpenAI-compatible endpoints train nothing here), tokenizer overrides.
import { parse } from 'yaml';
import { resolve } from 'node:path';
import { z } from 'zod';
import { checkPolicyGradient, policyGradientShape, resolveAlgorithmDefaults } from '../algorithms/policy-gradient-config.ts';
import { precisionSchema } from '../algorithms/precision-config.ts';
import { GROUP_TOKENS } from '../algorithms/rollout.ts';

const common = {
  steps: z.number().int().min(1).describe('optimizer steps (pg, online dpo: iterations)'),
  checkpointEvery: z.number().int().min(1).default(10).describe('steps between checkpoints (the last step always checkpoints)'),
  pretrainSteps: z.number().int().min(1).default(80).describe('SFT steps of the built-in digit-task policy before training'),
  maxGradNorm: z.number().positive().default(1).describe('global gradient-norm clip'),
  seed: z.number().int().default(7).describe('seed of pretraining, data order, sampling'),
  precision: precisionSchema,
  model: z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('builtin') }),
    z.strictObject({ kind: z.literal('checkpoint'), path: z.string().min(1).describe('Hugging Face folder: config.json + *.safetensors, tokenizer.json (or none for a vocab-96 character model)') }),
  ]).default({ kind: 'builtin' }).describe('builtin: the digit-task policy (digit-string data); checkpoint: a GPT-2/Llama folder, text data through its tokenizer'),
  saveTo: z.string().nullable().default(null).describe('where the trained model is written when the run ends (HF folder; PEFT adapter with LoRA); null = <runDir>/model for checkpoint models, nothing for builtin'),
};

const lora = z.strictObject({
  rank: z.number().int().min(1).describe('LoRA rank r'),
  alpha: z.number().positive().describe('LoRA alpha (scale alpha/r)'),
  targets: z.array(z.string()).min(1).default(['c_attn', 'c_proj', 'c_fc']).describe('projection names to adapt (PEFT target_modules)'),
}).nullable().default(null).describe('train only LoRA adapters (base frozen); null = full fine-tuning');

const { stopToken: _stopToken, ...policyGradientKnobs } = policyGradientShape; // the stop token is the model's EOS

/** The trainer's knobs (algorithms/policy-gradient-config.ts: defaults and descriptions) plus the run's own keys. */
export const pgConfigSchema = z.strictObject({
  runDir: z.string().default('runs/pg').describe('run folder: config.json, metrics.jsonl, checkpoint/ (relative paths in this config resolve against the config file)'),
  ...common,
  ...policyGradientKnobs,
  seed: common.seed,
  steps: common.steps.default(40),
  maxKl: z.number().positive().default(25).describe('stop the run when KL to the reference exceeds this'),
  prompts: z.string().nullable().default(null).describe('checkpoint models: prompts in the shared schema (data/prompt-record.ts: JSONL, Parquet or a Hugging Face-style dataset folder; {"prompt"} or {"messages"} rendered with the chat template)'),
  reward: z.discriminatedUnion('name', [
    z.strictObject({ name: z.literal('length-window'), min: z.number().int().min(0), max: z.number().int().min(0) }),
    z.strictObject({ name: z.literal('contains'), text: z.string().min(1) }),
    z.strictObject({ name: z.literal('regex'), pattern: z.string().min(1), flags: z.string().optional() }),
  ]).nullable().default(null).describe('checkpoint models: programmatic text reward (length-window {min,max} chars, contains {text}, regex {pattern,flags})'),
  maxNewTokens: policyGradientKnobs.maxNewTokens.describe('checkpoint models: tokens sampled per response at most (builtin: the digit task\'s 6 digits + EOS)'),
  lora,
}).superRefine(checkPolicyGradient).transform(resolveAlgorithmDefaults);

export const sftConfigSchema = z.strictObject({
  runDir: z.string().default('runs/sft').describe('run folder: config.json, metrics.jsonl, checkpoint/ (relative paths in this config resolve against the config file)'),
  ...common,
  steps: common.steps.default(50),
  data: z.string().nullable().default(null).describe('SFT JSONL ({"prompt", "response"}: digit strings for builtin, text for checkpoint; or {"messages"} via the chat template); null = built-in sorted-digit set'),
  syntheticExamples: z.number().int().min(1).default(512).describe('size of the built-in set when data is null'),
  learningRate: z.number().positive().default(3e-3).describe('AdamW learning rate'),
  batchSize: z.number().int().min(1).default(32).describe('examples per step'),
});

export const rewardConfigSchema = z.strictObject({
  runDir: z.string().default('runs/reward').describe('run folder: config.json, metrics.jsonl, checkpoint/ (relative paths in this config resolve against the config file)'),
  ...common,
  steps: common.steps.default(200),
  data: z.string().nullable().default(null).describe('preference JSONL ({"prompt", "chosen", "rejected", "label"?}); null = built-in sorted-digit pairs'),
  heldOut: z.string().nullable().default(null).describe('held-out preference JSONL; null = built-in held-out pairs'),
  syntheticPairs: z.number().int().min(1).default(4096).describe('size of the built-in training set when data is null'),
  syntheticHeldOutPairs: z.number().int().min(1).default(200).describe('size of the built-in held-out set when heldOut is null'),
  learningRate: z.number().positive().default(3e-3).describe('AdamW learning rate'),
  batchSize: z.number().int().min(1).default(32).describe('pairs per step'),
  groupTokens: z.number().int().min(0).default(GROUP_TOKENS).describe("a step's pairs run in groups of similar length, at most this many padded tokens a group (chosen and rejected together): the same pairs and the same gradient up to float rounding, without padding every sequence to the batch's longest; 0 = the batch at once"),
  margin: z.number().min(0).default(0).describe('Bradley–Terry margin'),
  evalEvery: z.number().int().min(0).default(20).describe('steps between held-out accuracy evaluations (0 = never)'),
});

export const dpoConfigSchema = z.strictObject({
  runDir: z.string().default('runs/dpo').describe('run folder: config.json, metrics.jsonl, checkpoint/ (relative paths in this config resolve against the config file)'),
  ...common,
  steps: common.steps.default(60),
  mode: z.enum(['offline', 'online']).default('offline').describe('offline: from a preference dataset; online: Self-Rewarding loop on fresh samples'),
  data: z.string().nullable().default(null).describe('offline preference JSONL; null = built-in sorted-digit pairs'),
  heldOut: z.string().nullable().default(null).describe('held-out preference JSONL; null = built-in held-out pairs'),
  syntheticPairs: z.number().int().min(1).default(1024).describe('size of the built-in training set when data is null'),
  syntheticHeldOutPairs: z.number().int().min(1).default(200).describe('size of the built-in held-out set when heldOut is null'),
  loss: z.enum(['dpo', 'ipo', 'cdpo']).default('dpo').describe('preference loss'),
  beta: z.number().positive().default(0.1).describe('β (IPO: target gap 1/(2β))'),
  labelSmoothing: z.number().min(0).max(0.49).default(0.1).describe('cDPO ε (loss = cdpo)'),
  learningRate: z.number().positive().default(3e-3).describe('AdamW learning rate'),
  batchSize: z.number().int().min(1).default(32).describe('pairs per optimizer step'),
  groupTokens: z.number().int().min(0).default(GROUP_TOKENS).describe("a step's pairs (and the reference's scoring) run in groups of similar length, at most this many padded tokens a group (chosen and rejected together): the same pairs and the same gradient up to float rounding, without padding every sequence to the batch's longest; 0 = the batch at once"),
  evalEvery: z.number().int().min(0).default(20).describe('steps between held-out evaluations (offline; 0 = never)'),
  online: z.strictObject({
    promptsPerIteration: z.number().int().min(1).default(16).describe('prompts per iteration'),
    samplesPerPrompt: z.number().int().min(2).default(4).describe('responses sampled per prompt (K)'),
    epochsPerIteration: z.number().int().min(1).default(2).describe('DPO passes over each iteration\'s pairs'),
    refreshReference: z.boolean().default(true).describe('Self-Rewarding: the reference becomes the current policy each iteration'),
    temperature: z.number().positive().default(1).describe('sampling temperature of the responses'),
  }).prefault({}).describe('online mode (preferences from the built-in sorted-digits scorer)'),
  lora,
});

export type PgRunConfig = z.infer<typeof pgConfigSchema>;
export type SftRunConfig = z.infer<typeof sftConfigSchema>;
export type RewardRunConfig = z.infer<typeof rewardConfigSchema>;
export type DpoRunConfig = z.infer<typeof dpoConfigSchema>;

/** Parses YAML text with a schema into a frozen config; unknown or invalid keys are errors naming the key path. */
/**
 * Parses, resolves relative paths (runDir, saveTo, data, heldOut, prompts, model.path) against `baseDirectory` (the
 * config file's folder, as `rlaif judge` does), and freezes.
 */
export function parseRunConfig<T>(schema: z.ZodType<T>, text: string, source = 'config', baseDirectory?: string): Readonly<T> {
  let raw: unknown;
  try {
    raw = parse(text) ?? {};
  } catch (error) {
    throw new Error(`${source}: not valid YAML: ${(error as Error).message}`);
  }
  const result = schema.safeParse(raw);
  if (!result.success) {
    throw new Error(result.error.issues.map((i) => {
      const keys = i.code === 'unrecognized_keys' ? i.keys.map((k) => [...i.path, k].join('.')).join(', ') : i.path.join('.');
      return `${source}: ${keys || '(root)'}: ${i.message}`;
    }).join('\n'));
  }
  if (baseDirectory === undefined) return Object.freeze(result.data);
  const data = { ...(result.data as Record<string, unknown>) };
  for (const key of ['runDir', 'saveTo', 'data', 'heldOut', 'prompts']) {
    if (typeof data[key] === 'string') data[key] = resolve(baseDirectory, data[key] as string);
  }
  const model = data.model as { kind: string; path?: string } | undefined;
  if (model?.kind === 'checkpoint' && model.path) data.model = { ...model, path: resolve(baseDirectory, model.path) };
  return Object.freeze(data as T);
}
