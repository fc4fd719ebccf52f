// Self-supervised feedback: signals made from unlabeled data, no labels and no gold. (1) Corpus support: each
// sentence of a response is looked up in the pretraining corpus — found verbatim is support, a corpus sentence that
// starts the same way and ends differently is a contradiction, a subject the corpus never mentions is unsupported.
// (2) Paraphrase agreement: how often the model gives the same answer when the question is asked in other words.
// Leaves out: negated sentences and refusals (no evidence either way: 0).

/** supported / contradicted / unsupported (an unknown subject) count as the score says; unverified: checked (in the
 * denominator) and neither found nor contradicted; skipped: a negation or a first-person turn, not checked. */
export type SentenceVerdict = 'supported' | 'contradicted' | 'unsupported' | 'unverified' | 'skipped';

export interface CorpusSupport {
  supported: number;     // sentences found in the corpus
  contradicted: number;  // sentences whose opening the corpus continues differently
  unsupported: number;   // sentences about a subject the corpus never names
  sentences: number;     // sentences checked
  score: number;         // (supported − contradicted − unsupported) / sentences, in [−1, 1]; 0 when none
  verdicts: { sentence: string; verdict: SentenceVerdict }[]; // every sentence of the response, in order (a rationale)
}

const normalize = (sentence: string) => sentence.trim().replace(/\s+/g, ' ').replace(/[.?!]+$/, '').toLowerCase();

function sentencesOf(text: string): string[] {
  return text.split(/(?<=[.?!])\s+/).map((s) => s.trim()).filter((s) => s.length > 0);
}

/** A checker of responses against the corpus lines (built once, called per response). */
export function corpusSupport(corpus: readonly string[]): (response: string) => CorpusSupport {
  const known = new Set<string>();
  const openings = new Set<string>();   // every prefix of ≥ 2 words of a corpus sentence
  const subjects = new Set<string>();   // capitalised first words (names) the corpus uses
  for (const line of corpus) {
    for (const sentence of sentencesOf(line)) {
      const words = normalize(sentence).split(' ');
      known.add(words.join(' '));
      for (let k = 2; k < words.length; k++) openings.add(words.slice(0, k).join(' '));
      const first = sentence.split(' ')[0]!;
      if (/^[A-Z]/.test(first)) subjects.add(first);
    }
    for (const name of line.match(/\b[A-Z][a-z]+\b/g) ?? []) subjects.add(name);
  }
  const verdictOf = (sentence: string): SentenceVerdict => {
    const text = normalize(sentence);
    if (/\b(not|never|no)\b/.test(text) || /^i\b/.test(text)) return 'skipped'; // negations and first-person turns: no evidence
    const words = text.split(' ');
    const subject = sentence.split(' ')[0]!;
    if (known.has(text)) return 'supported';
    if (/^[A-Z][a-z]+$/.test(subject) && !subjects.has(subject) && !['The', 'To', 'Your', 'It', 'A', 'An', 'Yes'].includes(subject)) return 'unsupported';
    if (words.some((_, k) => k >= 2 && k < words.length && openings.has(words.slice(0, k).join(' ')))) return 'contradicted';
    return 'unverified';
  };
  return (response: string) => {
    const verdicts = sentencesOf(response).map((sentence) => ({ sentence, verdict: verdictOf(sentence) }));
    const count = (verdict: SentenceVerdict) => verdicts.filter((v) => v.verdict === verdict).length;
    const supported = count('supported'), contradicted = count('contradicted'), unsupported = count('unsupported');
    const sentences = verdicts.length - count('skipped');
    return { supported, contradicted, unsupported, sentences, score: sentences === 0 ? 0 : (supported - contradicted - unsupported) / sentences, verdicts };
  };
}

/**
 * Agreement of a response with the model's answers to paraphrases of the same question (prompts sharing a
 * `paraphraseGroup`): the share of those answers that say the same thing once the wording of the question is gone.
 * Null without paraphrase answers.
 */
export function paraphraseAgreement(response: string, paraphraseAnswers: readonly string[]): number | null {
  if (paraphraseAnswers.length === 0) return null;
  const target = normalize(response);
  return paraphraseAnswers.filter((answer) => normalize(answer) === target).length / paraphraseAnswers.length;
}
