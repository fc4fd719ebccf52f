// A synthetic task a tiny GPT learns in seconds: the built-in task of `rlaif train` and the trainers' learning tests: after BOS the
// model writes digits then EOS. Pretraining on uniform random digits gives a policy whose outputs are rarely sorted;
// the programmatic reward is how sorted the digits are. Leaves out: anything a real tokenizer would do.
import { AdamW, Rng } from '../engine/index.ts';
import { configFromHf } from '../models/config.ts';
import { initParameters } from '../models/parameters.ts';
import { Transformer } from '../models/transformer.ts';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import { sftStep, type SftExample } from '../algorithms/sft-trainer.ts';

export const BOS = 1, EOS = 2, DIGIT0 = 3; // id 0: unused by the task
export const VOCAB = 13;
export const RESPONSE_DIGITS = 6;

export function decodeDigits(ids: Int32Array): string {
  let text = '';
  for (const id of ids) { if (id === EOS) break; text += id >= DIGIT0 && id < DIGIT0 + 10 ? String(id - DIGIT0) : '?'; }
  return text;
}

export function encodeDigits(text: string): Int32Array {
  return Int32Array.from([...text].map((ch) => DIGIT0 + Number(ch)));
}

/** Share of adjacent pairs in non-decreasing order among exactly RESPONSE_DIGITS digits; malformed output scores less. */
export function sortedReward(_prompt: string, response: string): number {
  const digits = response.slice(0, RESPONSE_DIGITS);
  if (!/^[0-9]*$/.test(digits)) return 0;
  let good = 0;
  for (let i = 1; i < digits.length; i++) if (digits[i] >= digits[i - 1]) good++;
  return good / (RESPONSE_DIGITS - 1);
}

export function randomDigits(rng: Rng, n = RESPONSE_DIGITS): string {
  return Array.from({ length: n }, () => String(rng.int(10))).join('');
}

/**
 * A tiny GPT-2 pretrained by SFT on BOS → 6 uniform random digits → EOS (a few hundred milliseconds a step). With
 * `sortedShare` > 0 that share of the strings is sorted: the trunk then carries a "sorted so far" feature that adapters
 * on the projections can amplify (a base trained on uniform digits alone learns only embeddings and the LM head).
 */
export function pretrainDigitPolicy(steps = 150, seed = 1, options: { sortedShare?: number } = {}): Transformer {
  const config = configFromHf({ model_type: 'gpt2', vocab_size: VOCAB, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 16 }, 'digit-task');
  const model = new Transformer(config, initParameters(config, seed));
  const optimizer = new AdamW([...model.parameters().values()], { lr: 3e-3, weightDecay: 0 });
  const rng = new Rng(seed);
  for (let step = 0; step < steps; step++) {
    const examples: SftExample[] = Array.from({ length: 32 }, () => ({
      prompt: Int32Array.of(BOS), response: Int32Array.from([...encodeDigits(pretrainingDigits(rng, options.sortedShare ?? 0)), EOS]),
    }));
    sftStep(model, optimizer, examples);
  }
  return model;
}

function pretrainingDigits(rng: Rng, sortedShare: number): string {
  const digits = randomDigits(rng);
  return sortedShare > 0 && rng.uniform() < sortedShare ? [...digits].sort().join('') : digits;
}

/**
 * Separable synthetic preferences on the digit task: two random digit strings after BOS, the more sorted one chosen.
 * Pairs whose sortedness differs by less than `minGap` are dropped; `soft` labels are σ(8·gap) instead of 1.
 */
export function digitPreferencePairs(count: number, seed: number, options: { minGap?: number; soft?: boolean } = {}): TokenPreferencePair[] {
  const rng = new Rng(seed), minGap = options.minGap ?? 0.4, pairs: TokenPreferencePair[] = [];
  while (pairs.length < count) {
    const a = randomDigits(rng), b = randomDigits(rng);
    const gap = sortedReward('', a) - sortedReward('', b);
    if (Math.abs(gap) < minGap) continue;
    const [chosen, rejected] = gap > 0 ? [a, b] : [b, a];
    pairs.push({ prompt: Int32Array.of(BOS), chosen: Int32Array.from([...encodeDigits(chosen), EOS]),
      rejected: Int32Array.from([...encodeDigits(rejected), EOS]), label: options.soft ? 1 / (1 + Math.exp(-8 * Math.abs(gap))) : undefined });
  }
  return pairs;
}
