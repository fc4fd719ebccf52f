// Advantage estimators picked by name from one registry (verl's register_adv_est): 'gae' (PPO with a critic),
// 'grpo' (group-normalised), 'rloo' (leave-one-out), 'reinforce' (moving-average baseline). Plain numbers, no graph.
// Leaves out: REINFORCE++ / ReMax / OPO variants (register them). GAE: arXiv 1506.02438; GRPO: 2402.03300; RLOO: 2402.14740.

export interface AdvantageInput {
  rewards: Float32Array;        // (B,) sequence reward (from the reward source), used by grpo / rloo / reinforce / gae
  mask: Float32Array;           // (B, T) 1 on response tokens, 0 on prompt and padding
  T: number;                    // tokens per row of mask
  groupSize?: number;           // samples per prompt, consecutive in the batch (grpo, rloo)
  normalizeByStd?: boolean;     // grpo: divide by the group std (default true; Dr. GRPO arXiv 2503.20783 turns it off)
  epsilon?: number;             // grpo: std floor added to the divisor (default 1e-6)
  baseline?: number;            // reinforce: current moving-average baseline; undefined = first step (batch mean)
  baselineMomentum?: number;    // reinforce: b ← m·b + (1 − m)·mean(R) (default 0.9)
  tokenRewards?: Float32Array;  // (B, T) gae: per-token rewards (e.g. −β·KL); the sequence reward is added at the last response token
  values?: Float32Array;        // (B, T) gae: V(s_t) from the value head
  gamma?: number;               // gae: discount (default 1)
  lambda?: number;              // gae: λ (default 0.95)
}

export interface AdvantageOutput {
  advantages: Float32Array;     // (B, T) per-token advantage, 0 off the mask
  returns: Float32Array;        // (B, T) value targets (gae: A + V; others: the advantage itself)
  baseline?: number;            // reinforce: the updated moving-average baseline to pass next step
}

export type AdvantageEstimator = (input: AdvantageInput) => AdvantageOutput;
export type AdvantageEstimatorName = 'gae' | 'grpo' | 'rloo' | 'reinforce';

const registry = new Map<string, AdvantageEstimator>();

/** Adds (or replaces) an estimator under a name. */
export function registerAdvantageEstimator(name: string, estimator: AdvantageEstimator): void {
  registry.set(name, estimator);
}

export function advantageEstimatorNames(): string[] {
  return [...registry.keys()];
}

/** Runs the estimator registered under name; an unknown name is an error listing the known ones. */
export function computeAdvantages(name: AdvantageEstimatorName | (string & {}), input: AdvantageInput): AdvantageOutput {
  const estimator = registry.get(name);
  if (!estimator) throw new Error(`unknown advantage estimator '${name}' (known: ${advantageEstimatorNames().join(', ')})`);
  return estimator(input);
}

/** Spreads a sequence value over each row's response tokens: (B,) → (B, T). */
export function broadcastOverResponse(perSequence: ArrayLike<number>, mask: Float32Array, T: number): Float32Array {
  const out = new Float32Array(mask.length);
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) out[i] = perSequence[Math.floor(i / T)];
  return out;
}

function checkGroups(rewards: Float32Array, groupSize: number | undefined, name: string): number {
  if (!groupSize || groupSize < 1 || rewards.length % groupSize !== 0) {
    throw new Error(`${name}: batch of ${rewards.length} is not a whole number of groups of ${groupSize}`);
  }
  return groupSize;
}

/** GRPO outcome advantage: Â_i = (R_i − mean_g R) / (std_g R + ε); a group of equal rewards gets 0. */
function grpoAdvantages(input: AdvantageInput): AdvantageOutput {
  const { rewards } = input;
  const G = checkGroups(rewards, input.groupSize, 'grpo');
  const epsilon = input.epsilon ?? 1e-6;
  const perSequence = new Float64Array(rewards.length); // (B,)
  for (let g = 0; g < rewards.length; g += G) {
    let mean = 0;
    for (let i = 0; i < G; i++) mean += rewards[g + i] / G;
    let squares = 0;
    for (let i = 0; i < G; i++) squares += (rewards[g + i] - mean) ** 2;
    const std = G > 1 ? Math.sqrt(squares / (G - 1)) : 0; // unbiased, as torch.std in verl
    for (let i = 0; i < G; i++) {
      const centred = rewards[g + i] - mean;
      perSequence[g + i] = input.normalizeByStd === false ? centred : centred / (std + epsilon);
    }
  }
  const advantages = broadcastOverResponse(perSequence, input.mask, input.T);
  return { advantages, returns: advantages };
}

/** RLOO: A_i = R_i − mean of the other k − 1 rewards in its group. */
function rlooAdvantages(input: AdvantageInput): AdvantageOutput {
  const { rewards } = input;
  const k = checkGroups(rewards, input.groupSize, 'rloo');
  if (k < 2) throw new Error('rloo: groupSize must be at least 2');
  const perSequence = new Float64Array(rewards.length); // (B,)
  for (let g = 0; g < rewards.length; g += k) {
    let total = 0;
    for (let i = 0; i < k; i++) total += rewards[g + i];
    for (let i = 0; i < k; i++) perSequence[g + i] = rewards[g + i] - (total - rewards[g + i]) / (k - 1);
  }
  const advantages = broadcastOverResponse(perSequence, input.mask, input.T);
  return { advantages, returns: advantages };
}

/** REINFORCE with a moving-average baseline: A_i = R_i − b, then b ← m·b + (1 − m)·mean(R). */
function reinforceAdvantages(input: AdvantageInput): AdvantageOutput {
  const { rewards } = input;
  let mean = 0;
  for (const r of rewards) mean += r / rewards.length;
  const baseline = input.baseline ?? mean;
  const momentum = input.baselineMomentum ?? 0.9;
  const advantages = broadcastOverResponse(rewards.map((r) => r - baseline), input.mask, input.T);
  return { advantages, returns: advantages, baseline: momentum * baseline + (1 - momentum) * mean };
}

/**
 * GAE (arXiv 1506.02438) over each row's response tokens in order, V = 0 after the last one:
 *   δ_t = r_t + γ·V_{t+1} − V_t;  A_t = δ_t + γλ·A_{t+1};  returns_t = A_t + V_t.
 * r_t = tokenRewards_t, plus the sequence reward at the row's last response token.
 */
function gaeAdvantages(input: AdvantageInput): AdvantageOutput {
  const { rewards, mask, T } = input;
  const gamma = input.gamma ?? 1, lambda = input.lambda ?? 0.95;
  const values = input.values ?? new Float32Array(mask.length);
  const advantages = new Float32Array(mask.length), returns = new Float32Array(mask.length);
  for (let b = 0; b < rewards.length; b++) {
    let nextValue = 0, nextAdvantage = 0, last = true;
    for (let t = T - 1; t >= 0; t--) {
      const i = b * T + t;
      if (mask[i] === 0) continue;
      const reward = (input.tokenRewards?.[i] ?? 0) + (last ? rewards[b] : 0);
      last = false;
      const delta = reward + gamma * nextValue - values[i];
      nextAdvantage = delta + gamma * lambda * nextAdvantage;
      advantages[i] = nextAdvantage;
      returns[i] = nextAdvantage + values[i];
      nextValue = values[i];
    }
  }
  return { advantages, returns };
}

/** Whitens advantages over the mask to mean 0, std 1 (PPO practice); masked positions stay 0. */
export function whitenAdvantages(advantages: Float32Array, mask: Float32Array, shiftMean = true): Float32Array {
  let n = 0, mean = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) { n++; mean += advantages[i]; }
  if (n === 0) return advantages.slice();
  mean /= n;
  let variance = 0;
  for (let i = 0; i < mask.length; i++) if (mask[i] !== 0) variance += (advantages[i] - mean) ** 2;
  const scale = 1 / Math.sqrt(variance / n + 1e-8);
  return advantages.map((a, i) => (mask[i] !== 0 ? (shiftMean ? a - mean : a) * scale : 0));
}

registerAdvantageEstimator('gae', gaeAdvantages);
registerAdvantageEstimator('grpo', grpoAdvantages);
registerAdvantageEstimator('rloo', rlooAdvantages);
registerAdvantageEstimator('reinforce', reinforceAdvantages);
