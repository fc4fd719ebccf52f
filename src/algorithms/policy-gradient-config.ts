// The policy-gradient trainer's config as one strict zod schema: every knob's default and description lives here and
// nowhere else (the CLI's `rlaif train pg` schema extends this shape; the trainer takes the parsed type).
// Epochs: PPO and GRPO reuse a rollout through the importance ratio π_θ/π_old; REINFORCE and RLOO have no ratio, so
// a second pass would be an off-policy update with an on-policy estimator — the schema rejects epochs > 1 for them.
import { z } from 'zod';
import { precisionSchema } from './precision-config.ts';
import { TOKEN_AGGREGATIONS, type TokenAggregation } from './token-aggregation.ts';
import { GROUP_TOKENS } from './rollout.ts';

export const POLICY_GRADIENT_ALGORITHMS = ['reinforce', 'rloo', 'grpo', 'ppo'] as const;
export type PolicyGradientAlgorithm = (typeof POLICY_GRADIENT_ALGORITHMS)[number];

/** Algorithms whose loss has no importance ratio: exactly one pass over each rollout. */
export const RATIO_FREE: ReadonlySet<PolicyGradientAlgorithm> = new Set(['reinforce', 'rloo']);

/** What `epochs: null` and `aggregation: null` mean, per algorithm (the schema's descriptions say the same). */
const ALGORITHM_DEFAULTS: Record<PolicyGradientAlgorithm, { epochs: number; aggregation: TokenAggregation }> = {
  reinforce: { epochs: 1, aggregation: 'seq-mean-token-sum' },   // −mean_b A_b·log π(y_b|x_b), the papers' form
  rloo: { epochs: 1, aggregation: 'seq-mean-token-sum' },
  grpo: { epochs: 2, aggregation: 'seq-mean-token-mean' },       // DeepSeekMath
  ppo: { epochs: 2, aggregation: 'token-mean' },
};

export const policyGradientShape = {
  algorithm: z.enum(POLICY_GRADIENT_ALGORITHMS).default('grpo').describe('policy-gradient algorithm'),
  promptsPerStep: z.number().int().min(1).default(4).describe('distinct prompts per step'),
  groupSize: z.number().int().min(1).default(8).describe('completions sampled per prompt (G); rloo and grpo need ≥ 2'),
  maxNewTokens: z.number().int().min(1).default(32).describe('tokens sampled per response at most'),
  temperature: z.number().positive().default(1).describe('sampling temperature (1 keeps the sampler\'s log-probs exactly π_old)'),
  stopToken: z.number().int().min(0).nullable().default(null).describe('token id that ends a response (the model\'s EOS); null = none'),
  learningRate: z.number().positive().default(5e-3).describe('AdamW learning rate'),
  maxGradNorm: z.number().positive().default(1).describe('global gradient-norm clip'),
  epochs: z.number().int().min(1).nullable().default(null)
    .describe('passes over each rollout; null = 2 for ppo/grpo, 1 for reinforce/rloo (no importance ratio: more than 1 is an error)'),
  minibatches: z.number().int().min(1).default(2).describe('optimizer steps per pass (each sample used once per pass)'),
  clipLow: z.number().positive().default(0.2).describe('ppo/grpo ratio clip ε_low: ratio floor 1 − ε_low'),
  clipHigh: z.number().positive().default(0.2).describe('ppo/grpo ratio clip ε_high: ratio ceiling 1 + ε_high (DAPO clip-higher sets it above ε_low)'),
  groupStdNormalization: z.boolean().default(true).describe('grpo: divide each advantage by its group\'s reward std (GRPO, arXiv 2402.03300); false keeps the centred reward, Dr. GRPO (arXiv 2503.20783), so a reward source with no opinion (rewards all near one value) moves the policy little instead of having its noise scaled up to unit size'),
  aggregation: z.enum(TOKEN_AGGREGATIONS).nullable().default(null)
    .describe('how token losses are averaged; null = the algorithm\'s own (reinforce/rloo: seq-mean-token-sum, grpo: seq-mean-token-mean, ppo: token-mean)'),
  klCoef: z.number().min(0).default(0.05).describe('β of the KL penalty: reward shaping (reinforce/rloo/ppo, k1) or KL loss term (grpo, k3)'),
  klTarget: z.number().positive().nullable().default(null).describe('adaptive β toward this KL per sequence (Ziegler et al. 2019); null = fixed β'),
  klHorizon: z.number().positive().default(1000).describe('adaptive β: horizon in samples of the proportional controller'),
  entropyCoef: z.number().min(0).default(0).describe('weight of the entropy bonus in the loss (0 = off)'),
  pretrainCoef: z.number().min(0).default(0).describe("γ: weight of a language-modelling loss on pretraining text added to every update step (InstructGPT's PPO-ptx, Ouyang et al. 2022, arXiv 2203.02155 eq. 2), so updates on some prompts do not erode what the policy knows for others; each step draws pretrainBatchSize of the trainer's pretraining examples. 0 = off"),
  pretrainBatchSize: z.number().int().min(1).default(16).describe('pretraining examples per update step when pretrainCoef > 0'),
  valueCoef: z.number().min(0).default(0.5).describe('ppo: weight of the value loss'),
  valueClip: z.number().positive().default(0.5).describe('ppo: value clip range ε_v (v_old ± ε_v)'),
  gamma: z.number().min(0).max(1).default(1).describe('ppo: GAE discount γ per token'),
  lambda: z.number().min(0).max(1).default(0.95).describe('ppo: GAE λ (bias–variance trade-off of the advantage)'),
  groupTokens: z.number().int().min(0).default(GROUP_TOKENS).describe("the update's forwards and backwards run over groups of a minibatch's rows of similar length, each cut to the columns its rows use and at most this many padded tokens (rows × columns; HF's group_by_length within one optimizer step: the same rows, the same gradient up to float rounding, a fraction of the padding); 0 = the minibatch as one (B, P + maxNewTokens) batch. An `rlaif run` round on the testbed is 31% real tokens in that layout. PPO's update runs each minibatch whole (its value head reads the minibatch's hidden states)"),
  seed: z.number().int().default(7).describe('seed of sampling and minibatch order'),
  precision: precisionSchema,
};

type Knobs = { algorithm: PolicyGradientAlgorithm; groupSize: number; epochs: number | null };

/** The cross-key checks of the schema: a group for rloo/grpo, one pass for the ratio-free losses. */
export function checkPolicyGradient(config: Knobs, context: z.RefinementCtx): void {
  if ((config.algorithm === 'rloo' || config.algorithm === 'grpo') && config.groupSize < 2) {
    context.addIssue({ code: 'custom', path: ['groupSize'], message: `${config.algorithm} needs groupSize ≥ 2 (a baseline from the group)` });
  }
  if (RATIO_FREE.has(config.algorithm) && config.epochs !== null && config.epochs > 1) {
    context.addIssue({ code: 'custom', path: ['epochs'],
      message: `${config.algorithm} has no importance ratio: one pass per rollout (epochs 1 or null), got ${config.epochs}` });
  }
}

/**
 * Resolves `epochs: null` to the algorithm's own passes at parse time (a config spread into another algorithm keeps
 * its number: more than 1 for reinforce/rloo is then an error, never silent). `aggregation: null` stays null in the
 * parsed config and is resolved where the loss is built (aggregationOf), so it follows the algorithm.
 */
export function resolveAlgorithmDefaults<C extends Knobs>(config: C): Omit<C, 'epochs'> & { epochs: number } {
  return { ...config, epochs: config.epochs ?? ALGORITHM_DEFAULTS[config.algorithm].epochs };
}

/** The token aggregation a config's loss uses: its own, or the algorithm's when null. */
export function aggregationOf(config: { algorithm: PolicyGradientAlgorithm; aggregation: TokenAggregation | null }): TokenAggregation {
  return config.aggregation ?? ALGORITHM_DEFAULTS[config.algorithm].aggregation;
}

export const policyGradientConfigSchema = z.strictObject(policyGradientShape).superRefine(checkPolicyGradient).transform(resolveAlgorithmDefaults);

/** The parsed config the trainer takes (epochs resolved). */
export type PolicyGradientConfig = z.output<typeof policyGradientConfigSchema>;
/** What a caller may write: every key optional. */
export type PolicyGradientConfigInput = z.input<typeof policyGradientConfigSchema>;

/** Parses a config object; an invalid key is an error naming it. */
export function policyGradientConfig(input: PolicyGradientConfigInput = {}): PolicyGradientConfig {
  const result = policyGradientConfigSchema.safeParse(input);
  if (!result.success) throw new Error(`policy-gradient config: ${result.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; ')}`);
  return result.data;
}
