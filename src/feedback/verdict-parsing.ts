// Turns verdict-step output into soft labels: probabilities of the verdict tokens from top_logprobs, or sampled votes.
// Leaves out multi-token verdicts ("10" split as "1","0" reads as "1"): verdict tokens should be single tokens.
// Soft labels from verdict-token probabilities follow Lee et al. 2023 (arXiv 2309.00267), section 2.1.
import type { ChatChoice, GeneratedToken } from './chat-model-v1.ts';

const positionsScanned = 3; // a model may emit whitespace or a word before the verdict token

/**
 * Probabilities of each verdict option, renormalised over the options found among the top alternatives of the first
 * position (within the first few) that contains any of them. Null when no position does.
 */
export function verdictDistribution(tokens: GeneratedToken[], options: string[]): number[] | null {
  for (const token of tokens.slice(0, positionsScanned)) {
    const mass = options.map(() => 0);
    let found = false;
    const alternatives = token.topLogprobs.length > 0 ? token.topLogprobs : [{ token: token.token, logprob: token.logprob }];
    for (const alternative of alternatives) {
      const index = options.indexOf(alternative.token.trim());
      if (index >= 0 && Number.isFinite(alternative.logprob)) {
        mass[index]! += Math.exp(alternative.logprob);
        found = true;
      }
    }
    if (found) {
      const total = mass.reduce((sum, value) => sum + value, 0);
      if (total > 0) return mass.map((value) => value / total);
    }
  }
  return null;
}

/** The option a sampled text names: its first word, stripped of punctuation; null when it names none. */
export function parseVerdictText(text: string, options: string[]): number | null {
  const match = /^[\s"'*([]*([A-Za-z0-9]+)/.exec(text);
  if (!match) return null;
  const index = options.indexOf(match[1]!);
  return index >= 0 ? index : null;
}

/** Counts of each option over sampled choices, and how many named no option. */
export function countVotes(choices: ChatChoice[], options: string[]): { counts: number[]; unparsed: number } {
  const counts = options.map(() => 0);
  let unparsed = 0;
  for (const choice of choices) {
    const index = parseVerdictText(choice.text, options);
    if (index === null) unparsed++;
    else counts[index]!++;
  }
  return { counts, unparsed };
}

/** Clamp a probability into [min, max] (Constitutional AI clamps chain-of-thought labels to 40-60%). */
export function clampProbability(probability: number, clamp: { min: number; max: number } | null): number {
  if (!clamp) return probability;
  return Math.min(clamp.max, Math.max(clamp.min, probability));
}

/** The last "Score: <number>" in a text (the additive rubric's required ending). */
export function parseRubricScore(text: string, maximum: number): number | null {
  const matches = [...text.matchAll(/Score:\s*\**\s*(\d+(?:\.\d+)?)/gi)];
  const last = matches.at(-1);
  if (!last) return null;
  const score = Number(last[1]);
  return Number.isFinite(score) && score >= 0 && score <= maximum ? score : null;
}
