// Turns verdict-step output into soft labels: probabilities of the verdict tokens from top_logprobs, or sampled votes.
// Multi-token verdicts: only the 1-10 score's "10" (as "1","0", see scoreDistribution); other verdicts are single tokens.
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

/**
 * P(score = s) for s = 1..10 from logprobs, reading "10" whether the tokenizer keeps it whole or splits it as "1","0".
 * At the first position naming a score, the mass of "1" is split by the next position's P("0") when the model emitted
 * "1" there (that next distribution is conditioned on "1"); otherwise P("0" | "1") is unknown and "1" stays 1.
 */
export function scoreDistribution(tokens: GeneratedToken[]): number[] | null {
  const options = Array.from({ length: 10 }, (_, index) => String(index + 1));
  for (let position = 0; position < Math.min(tokens.length, positionsScanned); position++) {
    const token = tokens[position]!;
    const single = verdictDistribution([token], options);
    if (!single) continue;
    const next = tokens[position + 1];
    if (token.token.trim() === '1' && next) {
      const alternatives = next.topLogprobs.length > 0 ? next.topLogprobs : [{ token: next.token, logprob: next.logprob }];
      // "0" must be the whole next token: "05" would not make a score, and a space would end the number.
      const zero = alternatives.reduce((sum, alternative) => sum + (/^0$/.test(alternative.token) && Number.isFinite(alternative.logprob) ? Math.exp(alternative.logprob) : 0), 0);
      // P("0" | "1") as the model gives it, not renormalised over the top k: mass the top k do not show is not "0".
      const share = Math.min(1, zero);
      const moved = single[0]! * share;
      single[0]! -= moved;
      single[9]! += moved;
    }
    return single;
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
