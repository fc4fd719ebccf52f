// Where online preference pairs come from: given K sampled responses to one prompt, choose (chosen, rejected) — by a
// programmatic scorer (best vs worst, as Self-Rewarding's LLM-as-judge scores; arXiv 2401.10020 §2.2) or by a
// pairwise AI judge from src/feedback (round robin, Copeland-style totals). Leaves out: caching (the feedback runner).
import type { PairwiseInput, PairwiseResult } from '../feedback/judgment-types.ts';

export interface PreferenceQuery {
  id: string;             // stable id (judge cache key and principle sampling seed)
  prompt: string;         // prompt text
  responses: string[];    // (K,) decoded responses sampled for this prompt
}

export interface PreferenceChoice {
  chosen: number;         // index into responses
  rejected: number;
  probability: number;    // P(chosen ≻ rejected) as the source sees it, in [0.5, 1]
}

export interface PreferenceAnswer {
  choice: PreferenceChoice | null; // null: no usable pair (all scores equal, all ties, or judge failures)
  scores: Float32Array | null;     // (K,) per-response scores when the source has them (for metrics)
  failures: number;                // judgments that came back invalid
}

export interface PreferenceSource {
  readonly name: string;
  prefer(query: PreferenceQuery, signal?: AbortSignal): Promise<PreferenceAnswer>;
}

/** Best versus worst response by a programmatic score; no pair when every score is equal. */
export function scorerPreferences(name: string, score: (prompt: string, response: string) => number): PreferenceSource {
  const prefer = async (query: PreferenceQuery): Promise<PreferenceAnswer> => {
    const scores = Float32Array.from(query.responses, (r) => score(query.prompt, r)), { best, worst } = extremes(scores);
    return { choice: scores[best] > scores[worst] ? { chosen: best, rejected: worst, probability: 1 } : null, scores, failures: 0 };
  };
  return { name, prefer };
}

/** Indices of the highest and the lowest value (the first of equals). */
function extremes(values: Float32Array): { best: number; worst: number } {
  let best = 0, worst = 0;
  values.forEach((s, k) => { if (s > values[best]) best = k; if (s < values[worst]) worst = k; });
  return { best, worst };
}

/** Anything that judges a pair: src/feedback's PairwiseJudge fits. */
export interface PairwiseJudgeLike {
  judge(input: PairwiseInput, signal?: AbortSignal): Promise<PairwiseResult>;
}

/**
 * A pairwise judge compares every pair of distinct responses (K(K−1)/2 judgments); each response's total is the sum
 * of its win probabilities. Chosen = highest total, rejected = lowest; the pair is dropped when the judge called
 * their direct comparison a tie or it failed.
 */
export function pairwiseJudgePreferences(judge: PairwiseJudgeLike): PreferenceSource {
  return {
    name: 'pairwise-judge',
    async prefer(query, signal) {
      const K = query.responses.length, totals = new Float32Array(K), direct = new Map<string, number>();
      let failures = 0;
      const jobs: Promise<void>[] = [];
      for (let i = 0; i < K; i++) for (let j = i + 1; j < K; j++) {
        if (query.responses[i] === query.responses[j]) { direct.set(`${i},${j}`, 0.5); totals[i] += 0.5; totals[j] += 0.5; continue; }
        jobs.push(judge.judge({ id: `${query.id}:${i}:${j}`, conversation: [{ role: 'user', content: query.prompt }],
          candidates: [query.responses[i], query.responses[j]] }, signal).then((result) => {
          if (result.kind !== 'ok') { failures++; return; }
          const p = result.preferred === 'tie' ? 0.5 : result.probability;  // P(response i ≻ response j)
          direct.set(`${i},${j}`, p);
          totals[i] += p;
          totals[j] += 1 - p;
        }));
      }
      await Promise.all(jobs);
      const { best, worst } = extremes(totals);
      const key = best < worst ? `${best},${worst}` : `${worst},${best}`, p = direct.get(key);
      const probabilityBest = p === undefined ? undefined : best < worst ? p : 1 - p;
      const choice = best !== worst && probabilityBest !== undefined && probabilityBest > 0.5
        ? { chosen: best, rejected: worst, probability: probabilityBest } : null;
      return { choice, scores: null, failures };
    },
  };
}
