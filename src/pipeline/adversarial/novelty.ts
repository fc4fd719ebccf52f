// The red team's novelty bonus: word-bigram sets and the distance of an attack to an archive of earlier attacks,
// 1 − max Jaccard similarity, in [0, 1] (1 = shares no bigram with any archived attack; an empty archive gives 1).
// Leaves out embedding distances. Curiosity-driven red teaming: Hong et al. 2024 (arXiv 2402.19464).

/** Lower-cased word bigrams of a text (a one-word text gives its single word). */
export function bigrams(text: string): Set<string> {
  const words = text.toLowerCase().match(/[a-z0-9']+/g) ?? [];
  if (words.length === 1) return new Set(words);
  return new Set(words.slice(1).map((w, i) => `${words[i]} ${w}`));
}

export function jaccard(a: ReadonlySet<string>, b: ReadonlySet<string>): number {
  if (a.size === 0 && b.size === 0) return 1;
  let shared = 0;
  for (const x of a) if (b.has(x)) shared++;
  return shared / (a.size + b.size - shared);
}

/** 1 − the largest bigram Jaccard similarity of `text` to any archived text. */
export function noveltyAgainst(text: string, archive: readonly ReadonlySet<string>[]): number {
  const mine = bigrams(text);
  let best = 0;
  for (const other of archive) best = Math.max(best, jaccard(mine, other));
  return 1 - best;
}
