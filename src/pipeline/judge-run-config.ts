// The `rlaif judge` config: one zod schema holding every default, description and check; unknown keys are errors
// naming their path; the parsed config is frozen and written into the run folder. Pairs come from a dataset (`input`)
// or are sampled from a policy (`sample`); `judge.kind` picks pairwise, pointwise or rubric labeling, each with its own
// keys. Recipe: Lee et al. 2023 (arXiv 2309.00267).
import { readFileSync } from 'node:fs';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { redactSecrets } from '../feedback/secret-redaction.ts';

const messageSchema = z.strictObject({ role: z.enum(['system', 'user', 'assistant']), content: z.string() });

/** The project's own model, run in this process: as the policy pairs are sampled from, or as the labeler. */
const inProcessModelSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('checkpoint'), path: z.string().min(1).describe('Hugging Face checkpoint folder (config.json + safetensors, tokenizer.json or the character tokenizer); relative to the config file'),
    dtype: z.enum(['float32', 'bf16']).default('float32').describe('its weight matrices in float32, or in bf16 (half the memory and the bytes each token reads, float32 sums; its model id, and so its cached judgments and samples, are its own)'),
  }),
  z.strictObject({ kind: z.literal('embedded'), preset: z.literal('tiny-gpt').default('tiny-gpt'), seed: z.number().int().default(0).describe('initialisation seed of the embedded tiny GPT') }),
]);

/** As written or parsed: the defaults (dtype float32, seed 0) hold where a caller leaves them out. */
export type InProcessModelSource = z.input<typeof inProcessModelSchema>;

const providerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('openai-compatible'),
    baseURL: z.string().url().describe('chat-completions base URL, e.g. http://127.0.0.1:8000/v1 for vLLM'),
    model: z.string().min(1).describe('model name the server expects'),
    apiKeyEnvironmentVariable: z.string().default('OPENAI_API_KEY').describe('name of the environment variable holding the API key (the key never goes into the config)'),
  }),
  z.strictObject({
    kind: z.literal('in-process'),
    model: inProcessModelSchema.describe("the labeler: {kind: checkpoint, path} or {kind: embedded, seed} (the project's Transformer, soft labels from its logprobs)"),
  }),
]);

const sampleSchema = z.strictObject({
  policy: inProcessModelSchema.describe('the model pairs are sampled from'),
  prompts: z.string().min(1).describe('prompts in the shared schema (data/prompt-record.ts): JSONL or Parquet of {"id"?, "prompt"} or {"id"?, "messages"} (TRL conversational and HH-RLHF rows too), or a Hugging Face–style dataset folder; relative to the config file'),
  samplesPerPrompt: z.number().int().min(2).default(2).describe('samples per prompt; consecutive samples (0,1), (2,3), ... become pairs'),
  maxTokens: z.number().int().positive().default(64).describe('tokens sampled per response at most'),
  temperature: z.number().min(0).default(1),
  seed: z.number().int().default(0).describe('seeds every sample (with the prompt id and sample index)'),
  limit: z.number().int().positive().optional().describe('judge only the first N sampled pairs'),
});

// The judge section: one branch per judge.kind, sharing the fields below; a key of another kind is an error naming it.
const judgeCommonFields = {
  templatesDirectory: z.string().optional().describe('directory whose <name>.yaml files override the shipped templates'),
  clamp: z.strictObject({ min: z.number().min(0).max(0.5), max: z.number().min(0.5).max(1) }).nullable().default(null).describe("clamp the pair's P(A), e.g. {min: 0.4, max: 0.6} as in Constitutional AI"),
  tieMargin: z.number().min(0).max(0.5).default(0).describe("|P(A) - 0.5| at or below this is a tie; pointwise/rubric: equal scores give P(A) = 0.5 exactly, so margin 0 ties exactly equal scores"),
  maxParseAttempts: z.number().int().min(1).default(3).describe('verdict/score attempts before a typed unparseable-verdict failure'),
  seed: z.number().int().default(0).describe('seeds principle draws, candidate order and every sampling call'),
  rationaleMaxTokens: z.number().int().positive().default(512).describe("pairwise/pointwise: the step-one rationale; rubric: the justification ending 'Score: N'"),
  rationaleTemperature: z.number().min(0).default(0).describe('sampling temperature of the rationale (rubric: of the justification)'),
};

// Fields of the judges that read a verdict token (pairwise, pointwise), under principles from a constitution.
const verdictTokenFields = {
  constitution: z.string().optional().describe('constitution YAML; the shipped harmlessness one when absent'),
  chainOfThought: z.boolean().default(true).describe('two-step: a rationale first, then the verdict asked for separately; false asks for the verdict directly (one request per order or response; Lee et al. ablation)'),
  topLogprobs: z.number().int().min(1).default(5).describe('alternatives read at the verdict token; at most 20 for openai-compatible providers (the OpenAI limit), up to the vocabulary in-process; pointwise needs 10 to see every score'),
  votes: z.number().int().min(1).default(5).describe('samples when the provider gives no logprobs'),
  voteTemperature: z.number().min(0).default(1),
  verdictMaxTokens: z.number().int().positive().default(2).describe('tokens read for the verdict (pointwise: 2 reads a "10" split into "1","0")'),
};

const kindDescription =
  "pairwise (default): both responses in one prompt, soft label from the verdict token, both orders averaged (Lee et al. 2023, arXiv 2309.00267); " +
  'pointwise: each response rated 1-10 alone (probability-weighted mean, direct RLAIF); rubric: each response given 0-5 additive points alone (Self-Rewarding LMs, arXiv 2401.10020). ' +
  "For pointwise and rubric, P(A preferred) = P(score_A > score_B) + P(equal)/2 from the two score distributions (pointwise: the 1-10 probabilities; rubric: the sampled scores, so one sample gives a hard 1, 0 or 0.5); the higher-scored response is chosen";

const pairwiseJudgeSchema = z.strictObject({
  kind: z.literal('pairwise').describe(kindDescription),
  ...judgeCommonFields,
  ...verdictTokenFields,
  principleMode: z.enum(['sample-one', 'aggregate-all']).default('sample-one').describe('one principle drawn per pair, or all averaged'),
  bothOrders: z.boolean().default(true).describe('pairwise only: judge (A,B) and (B,A) and average, cancelling position bias'),
  fewShot: z
    .array(z.strictObject({ conversation: z.array(messageSchema).min(1), response1: z.string(), response2: z.string(), rationale: z.string(), preferred: z.union([z.literal(1), z.literal(2)]) }))
    .default([])
    .describe('pairwise only: worked examples shown before each pair'),
});

const pointwiseJudgeSchema = z.strictObject({
  kind: z.literal('pointwise').describe(kindDescription),
  ...judgeCommonFields,
  ...verdictTokenFields,
  principleMode: z
    .literal('sample-one', { error: "judge.kind 'pointwise' scores both responses under one principle drawn per pair; 'aggregate-all' is for judge.kind 'pairwise'" })
    .default('sample-one')
    .describe('one principle drawn per pair; both responses are scored under it'),
});

const rubricJudgeSchema = z.strictObject({
  kind: z.literal('rubric').describe(kindDescription),
  ...judgeCommonFields,
  samples: z.number().int().min(1).default(1).describe('rubric only: judgments sampled per response; the score is their mean and P(A) compares them sample by sample (Yuan et al. sample 3); above 1 needs rationaleTemperature > 0'),
});

/** The judge kinds and the keys each accepts, for errors that name the kind a misplaced key belongs to. */
const judgeKeysByKind = { pairwise: Object.keys(pairwiseJudgeSchema.shape), pointwise: Object.keys(pointwiseJudgeSchema.shape), rubric: Object.keys(rubricJudgeSchema.shape) };

const judgeSchema = z
  .preprocess(
    (value) => (value && typeof value === 'object' && !Array.isArray(value) && !('kind' in value) ? { ...value, kind: 'pairwise' } : value),
    z.discriminatedUnion('kind', [pairwiseJudgeSchema, pointwiseJudgeSchema, rubricJudgeSchema], { error: (issue) => (issue.code === 'invalid_union' ? "expected 'pairwise', 'pointwise' or 'rubric'" : undefined) }),
  )
  .prefault({})
  .describe("the AI labeler; judge.kind picks how (default 'pairwise'); a key that only another kind uses is an error naming that kind");

export type JudgeSettings = z.infer<typeof pairwiseJudgeSchema> | z.infer<typeof pointwiseJudgeSchema> | z.infer<typeof rubricJudgeSchema>;

/** The formats a dataset of preference pairs is read in (judge-inputs.ts readPairs): `input.format`, and `rlaif run`'s `anchors.format`. */
export const PAIR_FORMATS = ['hh-rlhf', 'trl', 'openai', 'parquet', 'duckdb-jsonl'] as const;

export const judgeRunConfigSchema = z.strictObject({
  input: z
    .strictObject({
      path: z.string().min(1).describe('dataset of pairs; relative paths resolve against the config file'),
      format: z.enum(PAIR_FORMATS).describe('how the dataset is stored'),
      limit: z.number().int().positive().optional().describe('judge only the first N pairs'),
    })
    .optional()
    .describe('a dataset of pairs to judge (give this or sample)'),
  sample: sampleSchema.optional().describe('sample pairs from a policy instead of reading a dataset (give this or input)'),
  provider: providerSchema,
  judge: judgeSchema,
  requests: z
    .strictObject({
      concurrency: z.number().int().min(1).max(1024).default(8).describe('requests in flight at most'),
      timeoutMs: z.number().int().positive().default(60_000).describe('per-request limit'),
      maxAttempts: z.number().int().min(1).default(6).describe('tries per request on 429/5xx/timeouts/garbled responses'),
      baseDelayMs: z.number().int().min(0).default(500).describe('first backoff ceiling; doubles per retry, full jitter'),
      maxDelayMs: z.number().int().min(0).default(30_000),
      maxRetryAfterMs: z.number().int().min(0).default(120_000).describe('longest Retry-After honoured'),
      maxConsecutiveFailures: z.number().int().min(1).default(32).describe('stop the run once this many pairs in a row failed with provider errors (server down, key refused, after their retries): more would repeat the same error; what was judged stays cached and the summary says what to check'),
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
  retryFailed: z.boolean().default(false).describe('judge again pairs whose cached result is a typed failure (an unparseable verdict); provider failures are never cached, a re-run always retries them'),
  maxFailureShare: z.number().min(0).max(1).default(0.1).describe('a run whose typed failures (provider errors and unparseable verdicts) exceed this share of its pairs exits non-zero with a summary of what failed and what to do; outputs are still written'),
  maxPairCharacters: z.number().int().positive().default(100_000).describe("a pair whose prompt and two responses together exceed this many characters is left out with a warning naming it (about 25k tokens: far beyond a judge prompt; raise it for a long-context labeler)"),
}).superRefine((config, context) => {
  if ((config.input === undefined) === (config.sample === undefined)) context.addIssue({ code: 'custom', path: [], message: "give exactly one of 'input' (a dataset of pairs) or 'sample' (pairs sampled from a policy)" });
  if (config.provider.kind === 'openai-compatible' && config.judge.kind !== 'rubric' && config.judge.topLogprobs > 20) context.addIssue({ code: 'custom', path: ['judge', 'topLogprobs'], message: 'at most 20 with an openai-compatible provider' });
  if (config.judge.kind === 'rubric' && config.judge.samples > 1 && config.judge.rationaleTemperature === 0) context.addIssue({ code: 'custom', path: ['judge', 'samples'], message: 'samples above 1 at rationaleTemperature 0 would all be the same judgment; raise judge.rationaleTemperature' });
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

const otherKindReasons: Record<string, string> = {
  bothOrders: 'pointwise and rubric judges score each response alone, so there is no order to swap',
  fewShot: 'its worked examples compare two responses side by side',
  samples: 'pairwise and pointwise judges sample votes only without logprobs (judge.votes)',
};

/** An unknown key under `judge` that another judge.kind uses: say which kind, and why it does not apply here. */
function misplacedJudgeKey(raw: unknown, key: string): string | null {
  const judge = (raw as { judge?: { kind?: unknown } } | null)?.judge;
  const kind = typeof judge?.kind === 'string' ? judge.kind : 'pairwise';
  const owners = Object.entries(judgeKeysByKind).filter(([, keys]) => keys.includes(key)).map(([owner]) => `'${owner}'`);
  if (owners.length === 0) return null;
  const reason = otherKindReasons[key] ?? (kind === 'rubric' ? "the rubric judge reads its score from the 'Score: N' it writes, under the fixed criteria of its template (no principles, no verdict token)" : null);
  return `key 'judge.${key}' is for judge.kind ${owners.join(' or ')}, not '${kind}'${reason ? `: ${reason}` : ''}`;
}

export function parseJudgeRunConfig(raw: unknown, source: string): JudgeRunConfig {
  const parsed = judgeRunConfigSchema.safeParse(raw ?? {});
  if (!parsed.success) {
    // An unknown key first: it is usually the cause of a missing one next to it ('pathh' for 'path').
    const issue = reportedIssue(parsed.error.issues.find((candidate) => candidate.code === 'unrecognized_keys') ?? parsed.error.issues[0]!);
    if (issue.code === 'unrecognized_keys') {
      const misplaced = issue.path.length === 1 && issue.path[0] === 'judge' ? misplacedJudgeKey(raw, String(issue.keys[0])) : null;
      throw new Error(`${source}: ${misplaced ?? `unknown key '${[...issue.path, issue.keys[0]].join('.')}'`}`);
    }
    throw new Error(`${source}: field '${issue.path.join('.') || '(root)'}': ${issue.message}`);
  }
  return deepFreeze(parsed.data);
}

export function loadJudgeRunConfig(path: string): JudgeRunConfig {
  let raw: unknown;
  try {
    raw = parseYaml(readFileSync(path, 'utf8'));
  } catch (error) {
    // A YAML error quotes the offending line, which may hold a base URL with credentials.
    throw new Error(`${path}: cannot read config: ${redactSecrets((error as Error).message)}`);
  }
  return parseJudgeRunConfig(raw, path);
}
