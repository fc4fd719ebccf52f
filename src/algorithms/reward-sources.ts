// Reward sources behind one interface: a programmatic function, an AI judge called directly (direct RLAIF, Lee et al.
// arXiv 2309.00267 §3.3), a reward model, or a weighted sum of them. Each returns one scalar reward per response.
// Leaves out: caching and fan-out of judge calls (the feedback layer's runner does that), per-token rewards.
import type { PointwiseInput, PointwiseResult } from '../feedback/judgment-types.ts';

export interface RewardBatch {
  prompts: string[];           // (B,) prompt text
  responses: string[];         // (B,) sampled response text
  promptTokens: Int32Array[];  // (B,) each (P_b,) prompt token ids
  responseTokens: Int32Array[]; // (B,) each (R_b,) response token ids
  ids?: string[];              // (B,) stable ids (judge cache keys, seeds)
}

export interface RewardOutcome {
  rewards: Float32Array;       // (B,) one reward per response
  failures: number;            // responses whose source could not score them (reward 0, counted here)
  components?: Record<string, Float32Array>; // (B,) per named part of a weighted sum
}

export interface RewardSource {
  readonly name: string;
  score(batch: RewardBatch, signal?: AbortSignal): Promise<RewardOutcome>;
}

/** A programmatic reward (format check, sorted digits, length window...): fn(prompt, response) → number. */
export function programmaticReward(name: string, fn: (prompt: string, response: string) => number): RewardSource {
  return {
    name,
    async score(batch) {
      const rewards = Float32Array.from(batch.responses, (response, b) => fn(batch.prompts[b], response));
      return { rewards, failures: 0 };
    },
  };
}

/** Anything that judges one response: src/feedback's PointwiseJudge fits. */
export interface PointwiseJudgeLike {
  judge(input: PointwiseInput, signal?: AbortSignal): Promise<PointwiseResult>;
}

/**
 * Direct RLAIF: a pointwise judge scores every response; its reward in [-1, 1] is the RL reward. An invalid
 * judgment gives `invalidReward` (default 0) and is counted, never silently mixed in as a magic value.
 */
export function judgeReward(judge: PointwiseJudgeLike, options: { invalidReward?: number; concurrency?: number } = {}): RewardSource {
  const concurrency = options.concurrency ?? 4;
  return {
    name: 'judge',
    async score(batch, signal) {
      const rewards = new Float32Array(batch.responses.length);
      let failures = 0, next = 0;
      const worker = async (): Promise<void> => {
        while (next < batch.responses.length) {
          const b = next++;
          const result = await judge.judge({
            id: batch.ids?.[b] ?? `${b}`,
            conversation: [{ role: 'user', content: batch.prompts[b] }],
            response: batch.responses[b],
          }, signal);
          if (result.kind === 'ok') rewards[b] = result.reward;
          else { rewards[b] = options.invalidReward ?? 0; failures++; }
        }
      };
      await Promise.all(Array.from({ length: Math.min(concurrency, batch.responses.length) }, worker));
      return { rewards, failures };
    },
  };
}

/** A reward model: scoreSequences(prompt + response token ids) → (B,) scalar rewards (RewardModelTrainer.scoreSequences fits). */
export function rewardModelReward(name: string, scoreSequences: (sequences: Int32Array[]) => Float32Array): RewardSource {
  return {
    name,
    async score(batch) {
      const sequences = batch.promptTokens.map((p, b) => {
        const joined = new Int32Array(p.length + batch.responseTokens[b].length);
        joined.set(p);
        joined.set(batch.responseTokens[b], p.length);
        return joined;
      });
      return { rewards: scoreSequences(sequences), failures: 0 };
    },
  };
}

/** Σ_k w_k · source_k; components keep each source's own rewards for the metrics. */
export function weightedReward(parts: { source: RewardSource; weight: number }[]): RewardSource {
  const names = parts.map((p) => p.source.name);
  const repeated = names.find((name, i) => names.indexOf(name) !== i);
  if (repeated !== undefined) throw new Error(`weightedReward: two reward sources named '${repeated}' (components are keyed by name)`);
  return {
    name: parts.map((p) => `${p.weight}·${p.source.name}`).join(' + '),
    async score(batch, signal) {
      const B = batch.responses.length;
      const rewards = new Float32Array(B);
      const components: Record<string, Float32Array> = {};
      let failures = 0;
      for (const part of parts) {
        const outcome = await part.source.score(batch, signal);
        for (let b = 0; b < B; b++) rewards[b] += part.weight * outcome.rewards[b];
        components[part.source.name] = outcome.rewards;
        failures += outcome.failures;
      }
      return { rewards, failures, components };
    },
  };
}
