// The `rlaif judge` config: one zod schema holding every default, description and check; unknown keys are errors
// naming their path; the parsed config is frozen and written into the run folder.
// Pairs come from a dataset (`input`) or are sampled from a policy (`sample`). Recipe: Lee et al. 2023 (arXiv 2309.00267).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';

const messageSchema = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

/** The project's own model, run in this process: as the policy pairs are sampled from, or as the labeler. */
const inProcessModelSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('checkpoint'), path: z.string().min(1).describe('Hugging Face checkpoint folder (config.json + safetensors, tokenizer.json or the character tokenizer); relative to the config file') }),
  z.strictObject({ kind: z.literal('embedded'), preset: z.literal('tiny-gpt').default('tiny-gpt'), seed: z.number().int().default(0).describe('initialisation seed of the embedded tiny GPT') }),
]);

export type InProcessModelSource = z.infer<typeof inProcessModelSchema>;

const providerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('openai-compatible'),
    baseURL: z.string().url().describe('chat-completions base URL, e.g. http://127.0.0.1:8000/v1 for vLLM'),
    model: z.string().min(1).describe('model name the server expects'),
    apiKeyEnvironmentVariable: z.string().default('OPENAI_API_KEY').describe('name of the environment variable holding the API key (the key never goes into the config)'),
    client: z.enum(['direct', 'openai-sdk']).default('direct').describe("direct: the protocol on node:http keep-alive (cheapest per request); openai-sdk: through the 'openai' package"),
  }),
  z.strictObject({
    kind: z.literal('in-process'),
    model: z
      .union([z.literal('deterministic-test'), inProcessModelSchema], { error: "expected 'deterministic-test', {kind: checkpoint, path} or {kind: embedded, seed}" })
      .describe("the labeler: {kind: checkpoint, path} or {kind: embedded, seed} (the project's Transformer, soft labels from its logprobs), or 'deterministic-test' (a scripted toy for tests)"),
    supportsLogprobs: z.boolean().default(true).describe("deterministic-test only: false makes it answer without logprobs (vote fallback)"),
  }),
]);

const sampleSchema = z.strictObject({
  policy: inProcessModelSchema.describe('the model pairs are sampled from'),
  prompts: z.string().min(1).describe('JSONL of {"id"?, "prompt"} or {"id"?, "messages"}; relative to the config file'),
  samplesPerPrompt: z.number().int().min(2).default(2).describe('samples per prompt; consecutive samples (0,1), (2,3), ... become pairs'),
  maxTokens: z.number().int().positive().default(64).describe('tokens sampled per response at most'),
  temperature: z.number().min(0).default(1),
  seed: z.number().int().default(0).describe('seeds every sample (with the prompt id and sample index)'),
  limit: z.number().int().positive().optional().describe('judge only the first N sampled pairs'),
});

export const judgeRunConfigSchema = z.strictObject({
  input: z
    .strictObject({
      path: z.string().min(1).describe('dataset of pairs; relative paths resolve against the config file'),
      format: z.enum(['hh-rlhf', 'trl', 'openai', 'parquet', 'duckdb-jsonl']).describe('how the dataset is stored'),
      limit: z.number().int().positive().optional().describe('judge only the first N pairs'),
    })
    .optional()
    .describe('a dataset of pairs to judge (give this or sample)'),
  sample: sampleSchema.optional().describe('sample pairs from a policy instead of reading a dataset (give this or input)'),
  provider: providerSchema,
  judge: z
    .strictObject({
      templatesDirectory: z.string().optional().describe('directory whose <name>.yaml files override the shipped templates'),
      constitution: z.string().optional().describe('constitution YAML; the shipped harmlessness one when absent'),
      principleMode: z.enum(['sample-one', 'aggregate-all']).default('sample-one').describe('one principle drawn per pair, or all averaged'),
      bothOrders: z.boolean().default(true).describe('judge (A,B) and (B,A) and average, cancelling position bias'),
      clamp: z.strictObject({ min: z.number().min(0).max(0.5), max: z.number().min(0.5).max(1) }).nullable().default(null).describe('clamp soft labels, e.g. {min: 0.4, max: 0.6} as in Constitutional AI'),
      tieMargin: z.number().min(0).max(0.5).default(0).describe('|P(A) - 0.5| at or below this is a tie'),
      fewShot: z
        .array(z.strictObject({ conversation: z.array(messageSchema).min(1), response1: z.string(), response2: z.string(), rationale: z.string(), preferred: z.union([z.literal(1), z.literal(2)]) }))
        .default([])
        .describe('worked examples shown before each pair'),
      chainOfThought: z.boolean().default(true).describe('two-step: a rationale first, then the verdict asked for separately; false asks for the verdict directly (one request per order; Lee et al. ablation)'),
      topLogprobs: z.number().int().min(1).default(5).describe('alternatives read at the verdict token; at most 20 for openai-compatible providers (the OpenAI limit), up to the vocabulary in-process'),
      votes: z.number().int().min(1).default(5).describe('samples when the provider gives no logprobs'),
      voteTemperature: z.number().min(0).default(1),
      rationaleMaxTokens: z.number().int().positive().default(512),
      rationaleTemperature: z.number().min(0).default(0),
      verdictMaxTokens: z.number().int().positive().default(2),
      maxParseAttempts: z.number().int().min(1).default(3).describe('verdict attempts before a typed unparseable-verdict failure'),
      seed: z.number().int().default(0).describe('seeds principle draws, candidate order and every sampling call'),
    })
    .prefault({}),
  requests: z
    .strictObject({
      concurrency: z.number().int().min(1).max(1024).default(8).describe('requests in flight at most'),
      timeoutMs: z.number().int().positive().default(60_000).describe('per-request limit'),
      maxAttempts: z.number().int().min(1).default(6).describe('tries per request on 429/5xx/timeouts/garbled responses'),
      baseDelayMs: z.number().int().min(0).default(500).describe('first backoff ceiling; doubles per retry, full jitter'),
      maxDelayMs: z.number().int().min(0).default(30_000),
      maxRetryAfterMs: z.number().int().min(0).default(120_000).describe('longest Retry-After honoured'),
    })
    .prefault({}),
  cost: z
    .strictObject({
      inputPerMillionTokens: z.number().min(0).default(0).describe('price per million prompt tokens'),
      outputPerMillionTokens: z.number().min(0).default(0).describe('price per million completion tokens'),
    })
    .prefault({}),
  output: z
    .strictObject({
      runDirectory: z.string().default('runs/judge').describe('where the cache, dataset, failures and audit go; relative to the config file'),
      parquet: z.boolean().default(true).describe('also write preferences.parquet'),
    })
    .prefault({}),
  retryFailed: z.boolean().default(false).describe('judge again pairs whose cached result is a typed failure'),
}).superRefine((config, context) => {
  if ((config.input === undefined) === (config.sample === undefined)) context.addIssue({ code: 'custom', path: [], message: "give exactly one of 'input' (a dataset of pairs) or 'sample' (pairs sampled from a policy)" });
  if (config.provider.kind === 'openai-compatible' && config.judge.topLogprobs > 20) context.addIssue({ code: 'custom', path: ['judge', 'topLogprobs'], message: 'at most 20 with an openai-compatible provider' });
  if (config.provider.kind === 'in-process' && config.provider.model !== 'deterministic-test' && !config.provider.supportsLogprobs) context.addIssue({ code: 'custom', path: ['provider', 'supportsLogprobs'], message: 'only the deterministic-test model can be told to hide its logprobs' });
});

export type JudgeRunConfig = z.infer<typeof judgeRunConfigSchema>;

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

type Issue = z.core.$ZodIssue;

/**
 * The issue to report: inside a union, the branch that got furthest (an unknown key first, then any issue below the
 * union's own level), its path made absolute; a plain type mismatch of every branch stays the union's own issue.
 */
function reportedIssue(issue: Issue): Issue {
  if (issue.code !== 'invalid_union') return issue;
  const branches = issue.errors.map((errors) => errors.map((inner) => ({ ...inner, path: [...issue.path, ...inner.path] }) as Issue));
  const flat = branches.flat();
  const unknownKey = flat.find((inner) => inner.code === 'unrecognized_keys');
  if (unknownKey) return unknownKey;
  const deeper = flat.find((inner) => inner.path.length > issue.path.length || (inner.code !== 'invalid_type' && inner.code !== 'invalid_value' && inner.code !== 'invalid_union'));
  return deeper ? reportedIssue(deeper) : issue;
}

export function parseJudgeRunConfig(raw: unknown, source: string): JudgeRunConfig {
  const parsed = judgeRunConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    const issue = reportedIssue(parsed.error.issues[0]!);
    if (issue.code === 'unrecognized_keys') throw new Error(`${source}: unknown key '${[...issue.path, issue.keys[0]].join('.')}'`);
    throw new Error(`${source}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return deepFreeze(parsed.data);
}

export function loadJudgeRunConfig(path: string): JudgeRunConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new Error(`${path}: cannot read config: ${(error as Error).message}`);
  }
  return parseJudgeRunConfig(raw, path);
}
