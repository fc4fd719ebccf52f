// The one config of `rlaif run`: a strict zod schema holding every default with its description; unknown keys are
// errors naming their path; an empty config is the embedded testbed. The same keys take a user's Hugging Face
// checkpoint as policy (full or LoRA), an in-process checkpoint or an OpenAI-compatible endpoint as labeler, and their
// prompts (JSONL / Parquet). Recipe: Lee et al. 2023 (arXiv 2309.00267).
import { readFileSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { parse as parseYaml } from 'yaml';
import { z } from 'zod';
import { createRedactor, redactDeep, redactUrl, urlSecrets } from '../feedback/secret-redaction.ts';
import { describeConfig } from './describe-config.ts';
import { PAIR_FORMATS } from './judge-run-config.ts';
import { precisionSchema } from '../algorithms/precision-config.ts';
import { GROUP_TOKENS } from '../algorithms/rollout.ts';
import { adversarialSchema } from './adversarial/adversarial-config.ts';

const lora = z.strictObject({
  rank: z.number().int().min(1).describe('LoRA rank r'),
  alpha: z.number().positive().describe('LoRA alpha (scale alpha/r)'),
  targets: z.array(z.string()).min(1).default(['c_attn', 'c_proj', 'c_fc']).describe('projection names to adapt (PEFT target_modules)'),
}).nullable().default(null).describe('train only LoRA adapters over the frozen base (the small controller); null = full fine-tuning');

/** `{ kind: 'testbed' }` (the embedded testbed's own) or `{ kind, path }` (a user's file or folder). */
function testbedOrPath<K extends string>(testbed: string, kind: K, path: string) {
  return z.discriminatedUnion('kind', [
    z.strictObject({ kind: z.literal('testbed').describe(testbed) }),
    z.strictObject({ kind: z.literal(kind), path: z.string().min(1).describe(path) }),
  ]);
}

const policySchema = z.discriminatedUnion('kind', [
  ...testbedOrPath("the embedded testbed's SFT policy, built (or taken from the cache) for the run's seed",
    'checkpoint', 'Hugging Face folder: config.json + *.safetensors + tokenizer.json with a chat template; relative to the config file').options,
  z.strictObject({
    kind: z.literal('endpoint').describe("a policy served elsewhere (vLLM, SGLang, llama.cpp, rlaif serve): rollouts are sampled over chat completions with a seed per sample; no rollout log-probs are needed, so only preference rounds (algorithm.name dpo / online-dpo) with update.kind external. The external command trains and serves the next policy, then writes $RLAIF_OUTPUT/endpoint.json = {\"baseURL\", \"model\", \"checkpoint\"?} naming the endpoint that serves it (and the folder it serves: the next round's RLAIF_BASE_MODEL): that endpoint is the round's candidate (checkpoints/round-<n>/endpoint.json), the gate keeps it or rolls back to the last kept one"),
    baseURL: z.string().url().describe('chat-completions base URL of the policy server, e.g. http://127.0.0.1:8001/v1'),
    model: z.string().min(1).describe('model name the server expects'),
    apiKeyEnvironmentVariable: z.string().default('OPENAI_API_KEY').describe('environment variable holding the key (never written to the config or the run folder)'),
    requestsPerSecond: z.number().positive().nullable().default(null).describe("at most this many requests per second to the policy's endpoint (each round's), shared by every queue worker (null = no limit)"),
    checkpoint: z.string().min(1).nullable().default(null).describe('the Hugging Face folder the server serves, handed to the external command as RLAIF_BASE_MODEL until an endpoint.json names its own (null: the command gets only RLAIF_POLICY_BASE_URL and RLAIF_POLICY_MODEL); relative to the config file'),
  }),
]).describe('the model the rounds improve');

const labelerSchema = z.discriminatedUnion('kind', [
  z.strictObject({
    kind: z.literal('testbed'),
    setup: z.enum(['self', 'separate']).default('self').describe("self: the SFT policy judges its own outputs (Self-Rewarding LMs, arXiv 2401.10020); separate: the testbed's own labeler model (by default larger than the policy, as Lee et al.'s; or a judging-tuned copy of the policy: testbed recipe labeler.init)"),
    compare: z.enum(['pairwise', 'pointwise']).default('pairwise').describe("how the labeler compares two responses (feedback pairs, the gate's win rates, the anchor check): pairwise shows both, in both orders; pointwise rates each alone 1..10 under the prompt's principle and P(A) = P(s_A > s_B) + ½·P(s_A = s_B) (direct RLAIF, Lee et al. §3.3: no position bias). `rlaif testbed audit` audits both on the same pairs"),
  }),
  z.strictObject({
    kind: z.literal('checkpoint'), path: z.string().min(1).describe('Hugging Face folder run in this process as the labeler; relative to the config file'),
    dtype: z.enum(['float32', 'bf16']).default('float32').describe('its weight matrices in float32, or in bf16 (half the memory and the bytes each token reads, float32 sums; its judgments are cached apart from float32\'s)'),
  }),
  z.strictObject({
    kind: z.literal('openai-compatible'),
    baseURL: z.string().url().describe('chat-completions base URL, e.g. http://127.0.0.1:8000/v1 (vLLM, SGLang, llama.cpp, Ollama, rlaif serve)'),
    model: z.string().min(1).describe('model name the server expects'),
    apiKeyEnvironmentVariable: z.string().default('OPENAI_API_KEY').describe('environment variable holding the key (never written to the config or the run folder)'),
    requestsPerSecond: z.number().positive().nullable().default(null).describe('at most this many requests per second to this endpoint, shared by every queue worker (null = no limit)'),
  }),
]).describe('the AI labeler');

const promptsSchema = testbedOrPath("the testbed's three applications; train / validation / test splits by entity and template",
  'file', 'prompts in the shared schema (data/prompt-record.ts): a JSONL (.jsonl, .jsonl.gz) or Parquet file, or a folder laid out as a Hugging Face dataset (data/train-00000-of-00001.parquet, test.jsonl, …: the split from the file name); rows {"id"?, "prompt" (text or a TRL message list) | "messages", "split"?, "application"?, "kind"?, "principles"?} or HH-RLHF {"chosen", "rejected"} transcripts (the prompt is their shared opening); rows without a split, in files named for none, are split by a hash of their id (80 / 10 / 10); relative to the config file',
).describe('where prompts come from');

const sourceWeight = (weight: number, what: string) => z.number().min(0).default(weight).describe(what);

const feedbackSchema = z.strictObject({
  pairwise: sourceWeight(1, "weight of pairwise AI feedback: each sample judged against the group's next sample in both orders; reward 2·P(win) − 1 averaged over its pairs"),
  pointwise: sourceWeight(0, 'weight of pointwise direct RLAIF: the labeler scores each sample 1..10, rescaled to [-1, 1] (Lee et al. §3.3)'),
  selfSupervised: sourceWeight(0, "weight of the self-supervised signal: agreement of a sample with the policy's own other samples for the prompt (self-consistency), in [-1, 1]"),
  selfCertainty: sourceWeight(0, "weight of the self-certainty signal (self-supervised, no labeler: the policy's own confidence, as in sharpening, Huang et al. 2024, arXiv 2412.01951): a sample's mean token log-probability at sampling, minus its group's mean, so the answers the policy is surest of are reinforced. It needs the rollout's log-probabilities (not policy.kind endpoint). On seed 0's test prompts the surest of 32 SFT answers wins 0.600 [0.57, 0.63] of gold comparisons with SFT's (scripts/best-of-n.ts), where the embedded labeler agrees with gold on 0.495 of pairs. Exploitable: a refusal is the answer a policy is surest of, and at learning rate 1e-3 forty iterations on it alone took benign look-alikes' gold pass from 0.32 to 0.00 (scripts/oracle-rl-steps.ts --reward certainty); the gate's refusal-creep monitor is what rolls such a round back"),
  corpusSupport: sourceWeight(0, "weight of the corpus-support signal (self-supervised: fact completion against unlabeled reference text): each sentence of a sample looked up in feedback.corpus — found verbatim supports it, a corpus sentence that opens the same way and ends differently contradicts it, a capitalised subject the text never names is unsupported; (supported − contradicted − unsupported) / sentences checked, in [-1, 1] (negations and first-person sentences are not checked)"),
  corpus: z.string().nullable().default(null).describe("the reference text of feedback.corpusSupport: a UTF-8 file, one paragraph a line; null = the testbed's pretraining corpus (prompts.kind testbed); relative to the config file"),
  labeledAnchors: sourceWeight(0, "weight of the labeled-data source: a reward model fitted once per run (rewards.rewardModel settings) on the labeled comparisons the gate does not read (testbed: its anchor set after the first anchorPairs), scoring each sample as 2·σ(r_i − r_j) − 1 averaged over its group's other distinct texts"),
  constitution: z.string().nullable().default(null).describe("constitution YAML the labeler judges under; null = the testbed's (testbed prompts) or the shipped harmlessness one; relative to the config file"),
  principleMode: z.enum(['sample-one', 'aggregate-all']).default('sample-one').describe("one principle per judgment drawn from the prompt's principles, or all of them averaged"),
  chainOfThought: z.boolean().default(true).describe('the labeler writes a short rationale, then the verdict (soft label from verdict-token log-probs)'),
}).describe('feedback sources and their weights in the reward (each source named in every record)');

const algorithmSchema = z.strictObject({
  name: z.enum(['grpo', 'rloo', 'ppo', 'dpo', 'online-dpo']).default('grpo').describe('update: policy gradient (grpo, rloo, ppo) on rewards, or DPO on the round’s judged pairs (dpo: fixed SFT reference; online-dpo: the last kept policy as reference)'),
  learningRate: z.number().positive().default(3e-4).describe('AdamW learning rate. With the gold checker as the reward on the testbed (scripts/oracle-rl-steps.ts, 20 iterations of GRPO), 3e-3 made the policy worse on held-out prompts (gold pass 0.261 → 0.203), 1e-3 and 3e-4 better (→ 0.428, 0.442)'),
  stepsPerRound: z.number().int().min(1).default(2).describe('optimizer passes over each round’s rollout (grpo/ppo: epochs; rloo: always 1, it has no importance ratio; dpo: epochs over the pairs)'),
  minibatches: z.number().int().min(1).default(2).describe('optimizer steps per pass'),
  klCoef: z.number().min(0).default(0.05).describe('β: KL penalty to the reference (pg) or DPO β'),
  clip: z.number().positive().default(0.2).describe('PPO/GRPO ratio clip ε'),
  maxGradNorm: z.number().positive().default(1).describe('global gradient-norm clip'),
  pretrainCoef: z.number().min(0).default(0).describe("γ of PPO-ptx (InstructGPT, arXiv 2203.02155 eq. 2; policy-gradient algorithms): every update step adds γ × the language-modelling loss of algorithm.pretrainBatchSize paragraphs of pretraining text (algorithm.pretrainText), so updates on the train prompts do not erode what the policy knows of everything else — as the testbed's own fine-tuning replays its corpus. 0 = off"),
  pretrainBatchSize: z.number().int().min(1).default(16).describe('pretraining paragraphs per update step when pretrainCoef > 0'),
  pretrainText: z.string().nullable().default(null).describe("the pretraining text of pretrainCoef: a UTF-8 file, one paragraph a line (each line one example, cut to the context); null = the testbed's pretraining corpus (policy.kind testbed); relative to the config file"),
  groupStdNormalization: z.boolean().default(false).describe("grpo: divide each sample's centred reward by its group's reward std (GRPO); false (the default): the centred reward alone (Dr. GRPO, arXiv 2503.20783), so a labeler that barely prefers either answer (P ≈ ½: rewards 2P − 1 near 0) does not have its noise scaled up to unit-size advantages, and the KL term keeps such a policy near its reference. Seed 0, the embedded labeler (median |reward| 0.005; median |advantage| 0.5 when divided): KL of the three rounds 0.37, 0.65, 0.23 divided, 0.07, 0.16, 0.18 not, gold win/SFT within its interval of ½ either way; the gold oracle (scripts/oracle-ceiling.ts, rewards ±1): the rounds' gold win/SFT 0.514, 0.503, 0.486 divided, 0.503, 0.510, 0.484 not"),
  groupTokens: z.number().int().min(0).default(GROUP_TOKENS).describe("the update's forwards and backwards (policy gradient: a minibatch's rows; dpo and online-dpo, and the reward models of rewards.mode reward-model and feedback.labeledAnchors: a step's pairs), and the reference's and the measurements' scoring, run over groups of similar length, each cut to its own columns, at most this many padded tokens a group: the same rows per optimizer step and the same gradient up to float rounding, without the padding of a (rows, longest prompt + maxNewTokens) batch (a testbed round is 31% real tokens there; seed 0, one round: stage_update_s 24.3 → 5.0). 0 = each minibatch whole"),
  precision: precisionSchema,
  lora,
}).describe('the update stage');

const critiqueRevisionRound = z.strictObject({
  type: z.literal('critique-revision').describe("Constitutional AI's supervised stage (arXiv 2212.08073 §3.1): the policy answers, the labeler critiques the answer against a principle drawn from the prompt's, then revises it; the policy is fine-tuned (SFT, full or LoRA as `algorithm.lora`) on (prompt, revision)"),
  samplesPerPrompt: z.number().int().min(1).default(1).describe('responses sampled, critiqued and revised per prompt'),
  learningRate: z.number().positive().default(1e-3).describe('AdamW learning rate of the SFT update (a fresh optimizer each round)'),
  epochs: z.number().int().min(1).default(2).describe("SFT passes over the round's (prompt, revision) pairs"),
  minibatches: z.number().int().min(1).default(2).describe('optimizer steps per pass'),
  maxTokens: z.number().int().min(1).default(64).describe('tokens the labeler writes at most per critique and per revision'),
  temperature: z.number().min(0).default(0).describe("labeler sampling temperature for critiques and revisions (0: greedy)"),
});

const roundSchema = z.discriminatedUnion('type', [
  z.strictObject({ type: z.literal('rl').describe('rollout → feedback → rewards or preferences → update of `algorithm`') }),
  critiqueRevisionRound,
]);

const rewardsSchema = z.strictObject({
  mode: z.enum(['direct', 'reward-model']).default('direct').describe("direct: the mixed feedback is the reward; reward-model: each RL round fits a reward model (a scalar head on a copy of the SFT policy's trunk) on the round's pairwise soft labels (Bradley-Terry, soft targets) and its scores replace the pairwise source (with its weight); the labeled anchors gate every mode"),
  rewardModel: z.strictObject({
    steps: z.number().int().min(1).default(60).describe('optimizer steps fitting the reward model each round (and the labeled-anchor source\'s model, once)'),
    batchSize: z.number().int().min(1).default(32).describe('judged pairs per step'),
    learningRate: z.number().positive().default(1e-3).describe('AdamW learning rate (trunk and head)'),
    heldOutShare: z.number().min(0).max(0.9).default(0.2).describe("share of the round's judged pairs held out (by a hash of the judgment id) to measure the fitted model's pairwise accuracy, recorded, never gated on"),
  }).prefault({}).describe('the reward model of mode reward-model'),
}).prefault({}).describe('how feedback becomes rewards');

const gateSchema = z.strictObject({
  minWinRateVsPrevious: z.number().min(0).max(1).default(0.5).describe("keep a round only if the labeler prefers the candidate over the last kept policy on at least this share of validation prompts"),
  winRateConfidence: z.number().min(0).max(0.999).default(0.8).describe("one-sided confidence with which the candidate's win rate over the last kept policy must be known to reach minWinRateVsPrevious: the Wilson lower bound of the observed rate (ties half) over the validation prompts is compared, so a round that wins by the noise of a few prompts is rolled back (at 48 prompts and 0.8, about 0.56 observed is needed); 0 compares the observed rate itself"),
  maxLengthDrift: z.number().positive().default(0.2).describe('|mean length / SFT mean length − 1| above this rolls the round back (length hacking)'),
  maxKl: z.number().positive().default(20).describe('KL to the reference per sequence (nats) above this rolls back'),
  minEntropyRatio: z.number().min(0).max(1).default(0.5).describe('mean token entropy below this share of the SFT policy’s rolls back (entropy collapse)'),
  maxEntropyRatio: z.number().min(0).default(1.25).refine((x) => x === 0 || x > 1, 'must be 0 (off) or above 1').describe('mean token entropy above this multiple of the SFT policy’s rolls back (entropy rise: updates that follow the labeler’s noise spread the policy out); 0 turns it off'),
  maxRefusalIncrease: z.number().min(0).max(1).default(0.1).describe('refusal rate above the SFT policy’s by more than this rolls back (refusal creep)'),
  minRefusalRatio: z.number().min(0).max(1).default(0.25).describe('refusal rate below this share of the SFT policy’s rolls back (refusal collapse: the policy stopped refusing what the constitution forbids); 0 turns it off'),
  minLabelerAgreement: z.number().min(0).max(1).default(0.6).describe("keep no round when the labeler prefers the labeled answer on less than this share of the anchor pairs it judged before round 1 (the labeler check): its win rates are then close to noise and cannot tell a better round from a worse one, so every round rolls back (reason labeler-untrusted) and the policy stays the last one a trusted gate kept. 0 turns it off (to study what a weak labeler's rounds do); no anchors, no check"),
  minLabelerInformative: z.number().min(0).max(1).default(0.5).describe("keep no round when the labeler leans at least 0.05 either way (|P(A) − ½| ≥ 0.05) on less than this share of the anchor pairs of its check (labeler-untrusted, as minLabelerAgreement): a labeler whose judgments sit at ½ ± 0.05 can reach any agreement by its slightest leans (on seed 1 the embedded one agreed on 0.67 with 0.05 of its judgments leaning), and the gate's win rates count the same leans. 0 turns this part off"),
  applicationRegressionConfidence: z.number().min(0).max(0.999).default(0.99).describe("roll back when, on one application's validation prompts, the labeler prefers the last kept policy with this one-sided confidence (the upper Wilson bound of the candidate's win rate there is below ½), whatever the overall win rate: a round must not buy gains in one application with losses in another. At 0.99, 16 prompts an application need 3 wins or fewer of 16 (ties half), which a labeler at chance without ties gives with probability 697/65536 ≈ 1.1% per application. 0 turns it off"),
  maxAnchorDrop: z.number().min(0).max(1).default(0.1).describe('anchor agreement falling by more than this from the last kept round while the proxy rises rolls back'),
  refusalPatterns: z.array(z.string()).default(["\\bI can(?:no|')t\\b", '\\bI (?:will not|won\'t)\\b', '\\bI refuse\\b', '\\bnot able to help\\b'])
    .describe('regular expressions (case-insensitive) that mark a response as a refusal; a real user has no gold, only these'),
}).describe('gates and reward-hacking monitors; they read validation metrics only, never gold');

const stopSchema = z.strictObject({
  maxRollbacks: z.number().int().min(1).default(3).describe('stop after this many rolled-back rounds in a row'),
  maxSeconds: z.number().positive().default(600).describe('stop starting new rounds after this much wall time'),
  convergenceRounds: z.number().int().min(1).default(2).describe('stop when this many kept rounds in a row beat their predecessor by less than minGain'),
  minGain: z.number().min(0).max(0.5).default(0.02).describe('win rate over 0.5 against the previous kept policy that counts as progress'),
}).describe('when the loop stops');

const updateSchema = z.discriminatedUnion('kind', [
  z.strictObject({ kind: z.literal('in-process').describe('the update of `algorithm`, trained in this process') }),
  z.strictObject({
    kind: z.literal('external'),
    command: z.string().min(1).describe("shell command run after each round's feedback, with RLAIF_PREFERENCES (the round's preference pairs), RLAIF_FORMAT, RLAIF_BASE_MODEL (the current policy as a Hugging Face folder), RLAIF_OUTPUT (where it must write the new Hugging Face checkpoint), RLAIF_ROUND, RLAIF_SEED; its output goes to <run>/external/round-<n>/command.log; the gate still decides"),
    format: z.enum(['trl', 'trl-standard', 'openai']).default('trl').describe('preference file format: TRL conversational (message lists), TRL standard (strings: one user turn), or OpenAI preference fine-tuning JSONL'),
  }),
]).default({ kind: 'in-process' }).describe('who trains the policy each round: this process (algorithm), or an external trainer (TRL, OpenRLHF, `rlaif train dpo`) on the exported preferences');

const queueSchema = z.strictObject({
  attempts: z.number().int().min(1).default(3).describe('tries per queued job (rlaif run --queue) before its failure is recorded as a typed failure and the run goes on'),
  backoffMs: z.number().int().min(0).default(1000).describe('delay before a failed job is tried again; doubles with each try'),
  parallelism: z.number().int().min(1).default(256).describe('judgments a stage keeps in flight on the queue at once'),
}).describe('the job queue (BullMQ on Redis) that `rlaif run --queue redis://…` sends judgments and rollouts to (a rollout job: rolloutBatchRows samples; one that fails every attempt stops the stage, the run resumes from the store); ignored without --queue');

export const runConfigSchema = z.strictObject({
  seed: z.number().int().min(0).default(0).describe('world seed (testbed) and the seed every sampling call derives from'),
  policy: policySchema.default({ kind: 'testbed' }),
  labeler: labelerSchema.prefault({ kind: 'testbed' }),
  labelerBias: z.strictObject({
    preferLonger: z.number().min(0).max(1).describe('weight w: P(A) ← (1 − w)·P(A) + w·[A is longer than B]'),
  }).nullable().default(null).describe('demonstrations only (examples/reward-hacking.yaml): make the labeler exploitable by mixing a taste for length into every judgment; null = the labeler as it is'),
  prompts: promptsSchema.default({ kind: 'testbed' }),
  rounds: z.number().int().min(1).default(4).describe('rounds at most'),
  schedule: z.array(roundSchema).min(1).default([{ type: 'rl' }]).describe('round types in order: round n takes entry n (from 1), the last entry repeating for later rounds; a rolled-back round still uses up its entry'),
  promptsPerRound: z.number().int().min(1).default(32).describe('train prompts per RL iteration'),
  iterationsPerRound: z.number().int().min(1).default(5).describe("RL iterations per round: each draws promptsPerRound fresh train prompts, samples them from the policy as it is now (on-policy), gets feedback and rewards, and updates; the round is evaluated and gated after its last. With 1, a round is a single update of ~4 optimizer steps, too small to show on the validation split: with the gold checker as the labeler (scripts/oracle-ceiling.ts) no such round beat SFT; five iterations on gold rewards at 3e-4 raised gold's pass rate on held-out prompts from 0.261 to 0.366 (BENCHMARKS.md). Critique-revision rounds and external updates (update.kind external) run once a round"),
  samplesPerPrompt: z.number().int().min(2).default(6).describe('K: samples per prompt (the GRPO/RLOO group); repeated texts are judged once'),
  rolloutBatchRows: z.number().int().min(1).default(64).describe('samples drawn in one batch; with --queue, one rollout job each (the in-process run samples in the same batches, so a queued run draws the same tokens and log-probs bit for bit)'),
  minedFailureShare: z.number().min(0).max(1).default(0.25).describe('share of each round’s prompts taken from earlier rounds’ lowest-reward prompts (failures mined by the proxy, never gold)'),
  maxNewTokens: z.number().int().min(1).default(48).describe('tokens sampled per response at most'),
  temperature: z.number().positive().default(1).describe('sampling temperature (1 keeps log-probs on-policy)'),
  feedback: feedbackSchema.prefault({}),
  rewards: rewardsSchema,
  algorithm: algorithmSchema.prefault({}),
  validationPrompts: z.number().int().min(1).default(48).describe('validation prompts the gate evaluates on'),
  anchorPairs: z.number().int().min(0).default(64).describe('labeled anchor comparisons the gate reads (testbed: the first of its gold-labeled anchor set; your own prompts: the first of `anchors`)'),
  anchors: z.strictObject({
    path: z.string().min(1).describe('a dataset of preference pairs (chosen preferred over rejected, one response each); relative to the config file'),
    format: z.enum(PAIR_FORMATS).describe("how it is stored, as `rlaif judge`'s input.format: hh-rlhf, trl, openai, parquet, duckdb-jsonl"),
  }).nullable().default(null).describe("labeled comparisons (human preferences) for a run on your own prompts, in the labeled-data role the testbed's gold-labeled anchor set plays: in an order fixed by the seed, the first anchorPairs are the gate's (the labeler check before round 1, the anchor agreement each round), the rest train feedback.labeledAnchors' reward model. Pairs whose chosen or rejected is more than one assistant message, or the same text, are left out (counted on stderr). null = none (no labeler check, no anchor monitor); the testbed brings its own"),
  testPrompts: z.number().int().min(1).default(192).describe('test prompts the gold figures are computed on, spread over the applications (testbed only; for the report, never the gate)'),
  testBestOf: z.number().int().min(0).default(6).describe("the report's baselines (testbed only, for the report, never the gate): this many more SFT answers per test prompt, of which the best by gold (what a perfect labeler's choice among a group of this size reaches with no training) and the one the SFT policy is surest of (its highest mean token log-probability) each face SFT's test answers, as a round's answers do: a round's gold win rate reads against them. Seed 0 (192 prompts): gold-best of 6 0.727 [0.69, 0.76], surest of 6 0.608 [0.57, 0.65], ~6 s. 0 = none"),
  testSamplesPerPrompt: z.number().int().min(1).default(2).describe("answers per test prompt for the gold figures, each compared by gold with the SFT policy's answer of the same index. The figures' 95% intervals resample prompts (bootstrap-interval.ts), so one prompt's answers move together: seed 0's three default rounds, the same policies measured both ways: 0.516 [0.44, 0.59], 0.542 [0.48, 0.61], 0.427 [0.35, 0.50] with 96 prompts and one answer each; 0.490 [0.45, 0.53], 0.507 [0.47, 0.54], 0.479 [0.45, 0.51] with 192 and two, at 12 s more per run"),
  gate: gateSchema.prefault({}),
  stop: stopSchema.prefault({}),
  update: updateSchema,
  queue: queueSchema.prefault({}),
  adversarial: adversarialSchema.nullable().default(null)
    .describe('adversarial rounds (issue 14): a red-team phase, then the policy phase trains on flagged attacks beside ordinary prompts; {} = every default, null = none'),
});

export type RunConfig = z.infer<typeof runConfigSchema>;
export type RoundConfig = RunConfig['schedule'][number];
export type CritiqueRevisionRoundConfig = Extract<RoundConfig, { type: 'critique-revision' }>;

/** The type of round `round` (from 1): its schedule entry, the last entry repeating. */
export function roundConfig(config: Pick<RunConfig, 'schedule'>, round: number): RoundConfig {
  return config.schedule[Math.min(Math.max(round, 1), config.schedule.length) - 1]!;
}

/** Parses a YAML config (null/empty = all defaults) into a frozen config; paths resolve against `baseDirectory`. */
export function parseRunConfig(text: string | null, options: { source?: string; baseDirectory?: string; overrides?: Partial<Pick<RunConfig, 'seed'>> } = {}): Readonly<RunConfig> {
  const source = options.source ?? 'config';
  let raw: unknown = {};
  if (text !== null) {
    try {
      raw = parseYaml(text) ?? {};
    } catch (error) {
      throw new Error(`${source}: not valid YAML: ${(error as Error).message}`);
    }
  }
  if (typeof raw !== 'object' || raw === null || Array.isArray(raw)) throw new Error(`${source}: the config must be a mapping of keys`);
  const result = runConfigSchema.safeParse({ ...(raw as object), ...options.overrides });
  if (!result.success) {
    throw new Error(result.error.issues.map((issue) => {
      const keys = issue.code === 'unrecognized_keys' ? issue.keys.map((key) => [...issue.path, key].join('.')).join(', ') : issue.path.join('.');
      return `${source}: ${keys || '(root)'}: ${issue.code === 'unrecognized_keys' ? 'unknown key' : issue.message}`;
    }).join('\n'));
  }
  const config = result.data;
  const at = (path: string) => resolve(options.baseDirectory ?? '.', path);
  if (config.policy.kind === 'checkpoint') config.policy = { ...config.policy, path: at(config.policy.path) };
  if (config.policy.kind === 'endpoint' && config.policy.checkpoint) config.policy = { ...config.policy, checkpoint: at(config.policy.checkpoint) };
  if (config.labeler.kind === 'checkpoint') config.labeler = { ...config.labeler, path: at(config.labeler.path) };
  if (config.prompts.kind === 'file') config.prompts = { ...config.prompts, path: at(config.prompts.path) };
  if (config.anchors) {
    if (config.prompts.kind === 'testbed') throw new Error(`${source}: anchors: the testbed's prompts come with their own labeled anchor set; anchors are for a run on your own prompts (prompts.kind file)`);
    config.anchors = { ...config.anchors, path: at(config.anchors.path) };
  }
  if (config.feedback.constitution) config.feedback = { ...config.feedback, constitution: at(config.feedback.constitution) };
  if (config.feedback.corpus) config.feedback = { ...config.feedback, corpus: at(config.feedback.corpus) };
  if (config.algorithm.pretrainText) config.algorithm = { ...config.algorithm, pretrainText: at(config.algorithm.pretrainText) };
  if (config.algorithm.pretrainCoef > 0) {
    if (['dpo', 'online-dpo'].includes(config.algorithm.name)) throw new Error(`${source}: algorithm.pretrainCoef is PPO-ptx, for the policy-gradient algorithms (grpo, rloo, ppo); ${config.algorithm.name} takes no pretraining loss`);
    if (!config.algorithm.pretrainText && config.policy.kind !== 'testbed') throw new Error(`${source}: algorithm.pretrainCoef needs pretraining text: set algorithm.pretrainText to a file of paragraphs, one a line (only the testbed's policy comes with its corpus)`);
  }
  if (config.feedback.selfCertainty > 0 && config.policy.kind === 'endpoint') {
    throw new Error(`${source}: feedback.selfCertainty needs the rollout's log-probabilities, which policy.kind endpoint does not give: set it to 0, or train a policy in this process`);
  }
  if (config.feedback.corpusSupport > 0 && !config.feedback.corpus && config.prompts.kind !== 'testbed') {
    throw new Error(`${source}: feedback.corpusSupport needs reference text: set feedback.corpus to a file of paragraphs, one a line (only the testbed's prompts come with a corpus)`);
  }
  for (const pattern of config.gate.refusalPatterns) {
    try { new RegExp(pattern, 'i'); } catch (error) { throw new Error(`${source}: gate.refusalPatterns: ${(error as Error).message}`); }
  }
  if (config.update.kind === 'external' && config.algorithm.lora) throw new Error(`${source}: update.kind external trains the whole model: algorithm.lora must be null`);
  if (config.update.kind === 'external' && config.feedback.pairwise === 0) throw new Error(`${source}: update.kind external trains on the round's judged pairs: feedback.pairwise must be > 0`);
  if (config.update.kind === 'external' && config.schedule.some((r) => r.type === 'critique-revision')) throw new Error(`${source}: schedule: critique-revision rounds train in this process: update.kind must be in-process`);
  if (config.feedback.labeledAnchors > 0 && config.prompts.kind !== 'testbed' && !config.anchors) throw new Error(`${source}: feedback.labeledAnchors needs labeled comparisons: set anchors to a dataset of preference pairs (only the testbed's prompts come with their own)`);
  if (config.rewards.mode === 'reward-model') {
    if (config.feedback.pairwise === 0) throw new Error(`${source}: rewards.mode reward-model is fitted on the pairwise soft labels: feedback.pairwise must be > 0`);
    if (!['grpo', 'rloo', 'ppo'].includes(config.algorithm.name) || config.update.kind === 'external') throw new Error(`${source}: rewards.mode reward-model gives rewards to a policy-gradient update: algorithm.name must be grpo, rloo or ppo, in-process`);
  }
  if (config.policy.kind === 'endpoint') {
    const refuse = (why: string) => { throw new Error(`${source}: policy.kind endpoint: ${why}`); };
    if (config.algorithm.name !== 'dpo' && config.algorithm.name !== 'online-dpo') {
      refuse(`algorithm.name ${config.algorithm.name} needs the rollout's log-probs and the policy's weights (grpo, rloo, ppo); an endpoint gives neither: set algorithm.name to dpo or online-dpo`);
    }
    if (config.update.kind !== 'external') refuse('the policy\'s weights are not in this process: set update.kind external (its command trains the policy and names the endpoint serving it)');
    if (config.algorithm.lora) refuse('algorithm.lora must be null (the external command decides how to train)');
    if (config.adversarial) refuse('adversarial rounds train an in-process attacker against the policy\'s weights: set adversarial to null');
    if (config.feedback.labeledAnchors > 0) refuse('feedback.labeledAnchors fits its reward model on the policy\'s trunk, not in this process: set it to 0');
  }
  if (config.algorithm.name === 'online-dpo' || config.algorithm.name === 'dpo') {
    if (config.feedback.pairwise === 0) throw new Error(`${source}: algorithm.name ${config.algorithm.name} learns from judged pairs: feedback.pairwise must be > 0`);
  }
  return deepFreeze(config);
}

function deepFreeze<T>(value: T): T {
  if (value && typeof value === 'object') {
    for (const item of Object.values(value)) deepFreeze(item);
    Object.freeze(value);
  }
  return value;
}

/**
 * A parsed run config as YAML, every key with its description from the schema as a comment above it (`rlaif run
 * --print-config`): what each default is and means, in a file `rlaif run --config` reads back to the same config
 * (credentials in URLs print as [redacted]: runConfigForDisk).
 */
export function describeRunConfig(config: Readonly<RunConfig>): string {
  return describeConfig(runConfigSchema, runConfigForDisk(config));
}

/**
 * The config as written into the run folder (config.json) and printed by --print-config: credentials in the policy's
 * and labeler's base URLs (user info, key-like query parameters) and anything shaped like a key anywhere (an external
 * command's `sk-…`, a `Bearer …`) replaced by [redacted]. A URL without credentials is kept as written.
 */
export function runConfigForDisk(config: Readonly<RunConfig>): RunConfig {
  const copy = structuredClone(config) as RunConfig;
  const clean = (url: string) => (urlSecrets(url).length > 0 ? redactUrl(url) : url);
  const secrets = [config.labeler.kind === 'openai-compatible' ? config.labeler.baseURL : '', config.policy.kind === 'endpoint' ? config.policy.baseURL : ''].flatMap(urlSecrets);
  if (copy.labeler.kind === 'openai-compatible') copy.labeler.baseURL = clean(copy.labeler.baseURL);
  if (copy.policy.kind === 'endpoint') copy.policy.baseURL = clean(copy.policy.baseURL);
  return redactDeep(copy, createRedactor(secrets));
}

/** The config of `rlaif run --config PATH` (null: every default), relative paths resolved against its folder. */
export function readRunConfig(path: string | null, overrides: Partial<Pick<RunConfig, 'seed'>> = {}): Readonly<RunConfig> {
  let text: string | null = null;
  if (path) {
    try { text = readFileSync(path, 'utf8'); } catch (error) { throw new Error(`${path}: cannot read the run config: ${(error as Error).message}`, { cause: error }); }
  }
  return parseRunConfig(text, { source: path ?? 'config', baseDirectory: path ? dirname(resolve(path)) : undefined, overrides });
}
