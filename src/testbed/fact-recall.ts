// What a model knows of the world: for every creature and attribute, the corpus's own sentence with each value of the
// attribute ("Tavur eats seeds.", "Tavur eats nuts.", ...) scored by the model after their shared opening ("Tavur
// eats"); the fact counts as known when the true value scores above every other. Reported per split of the creatures: train
// creatures are also in the demonstrations, validation and test ones only in the pretraining corpus, so the test
// figure is what the policy can know when a test prompt asks about a fact. A yardstick like gold: it reads the
// world's truth and feeds no training signal. Leaves out the other phrasings of the corpus ("The food of Tavur is ...").
import { noGrad } from '../engine/tensor.ts';
import { scoreResponses } from '../models/score.ts';
import type { HfTokenizer } from '../models/tokenizer.ts';
import type { Transformer } from '../models/transformer.ts';
import { factSentence } from './language.ts';
import { SPLITS, type Split, type TestbedPrompt } from './prompts.ts';
import { ATTRIBUTES, type Attribute, type World } from './world.ts';

/** Log-probabilities of each continuation after the prefix (any monotone score will do). */
export type ContinuationScorer = (prefix: string, continuations: readonly string[]) => number[];

export interface RecallTally { known: number; total: number; rate: number | null }

export interface FactRecall {
  bySplit: Record<Split, RecallTally>;        // creatures by the split of their known-fact prompts
  byAttribute: Record<Attribute, RecallTally>; // all creatures
  chance: number;                              // the rate of a scorer that picks a value at random (mean of 1 / values)
}

const tally = (known: number, total: number): RecallTally => ({ known, total, rate: total > 0 ? known / total : null });

/** The longest common opening of the sentences, cut back to a word boundary ("Tavur is" for "Tavur is red." and "Tavur is a fox."). */
export function sharedOpening(sentences: readonly string[]): string {
  let k = 0;
  while (k < sentences[0]!.length && sentences.every((s) => s[k] === sentences[0]![k])) k++;
  return sentences[0]!.slice(0, sentences[0]!.lastIndexOf(' ', k) + 1).trimEnd();
}

/** Whether the true value's score is strictly above every other's (a tie is no knowledge). */
export const isKnown = (scores: readonly number[], truth: number): boolean => scores.every((score, i) => i === truth || score < scores[truth]!);

/** Each creature's split: that of the known-fact prompts about it. */
export function creatureSplits(prompts: readonly TestbedPrompt[]): Map<string, Split> {
  const splitOf = new Map<string, Split>();
  for (const p of prompts) if (p.kind === 'known-fact' && p.gold.type === 'fact') splitOf.set(p.gold.subject, p.split);
  return splitOf;
}

/**
 * Every creature's facts against the scorer. A creature's split is that of its known-fact prompts; creatures no such
 * prompt asks about count in byAttribute only.
 */
export function factRecall(world: World, prompts: readonly TestbedPrompt[], score: ContinuationScorer): FactRecall {
  const splitOf = creatureSplits(prompts);
  const bySplit = Object.fromEntries(SPLITS.map((s) => [s, { known: 0, total: 0 }])) as Record<Split, { known: number; total: number }>;
  const byAttribute = Object.fromEntries(ATTRIBUTES.map((a) => [a, { known: 0, total: 0 }])) as Record<Attribute, { known: number; total: number }>;
  let chance = 0, items = 0;
  for (const creature of world.creatures) {
    for (const attribute of ATTRIBUTES) {
      const values = world.vocabulary[attribute];
      if (!values.includes(creature[attribute])) throw new Error(`factRecall: ${creature.name}'s ${attribute} '${creature[attribute]}' is not in the world's vocabulary`);
      const sentences = values.map((v) => factSentence(creature.name, attribute, v));
      const opening = sharedOpening(sentences);
      const scores = score(opening, sentences.map((s) => s.slice(opening.length)));
      const truth = values.indexOf(creature[attribute]);
      const known = isKnown(scores, truth) ? 1 : 0;
      byAttribute[attribute].known += known; byAttribute[attribute].total++;
      const split = splitOf.get(creature.name);
      if (split) { bySplit[split].known += known; bySplit[split].total++; }
      chance += 1 / values.length; items++;
    }
  }
  return {
    bySplit: Object.fromEntries(SPLITS.map((s) => [s, tally(bySplit[s].known, bySplit[s].total)])) as Record<Split, RecallTally>,
    byAttribute: Object.fromEntries(ATTRIBUTES.map((a) => [a, tally(byAttribute[a].known, byAttribute[a].total)])) as Record<Attribute, RecallTally>,
    chance: items > 0 ? chance / items : 0,
  };
}

/** The model's summed log-probability of each continuation's tokens after the prefix's (the tokenizer's plain encoding). */
export function modelScorer(model: Transformer, tokenizer: HfTokenizer): ContinuationScorer {
  return (prefix, continuations) => noGrad(() => {
    const prompt = tokenizer.encode(prefix);
    const result = scoreResponses(model, { prompts: continuations.map(() => prompt), responses: continuations.map((c) => tokenizer.encode(c)) }, { entropies: false });
    const logprobs = result.logprobs.data, width = result.responseWidth;
    return continuations.map((_, b) => {
      let total = 0;
      for (let j = 0; j < width; j++) total += logprobs[b * width + j]!;   // 0 on padding
      return total;
    });
  });
}
