// On-policy judging examples (Self-Rewarding LMs, arXiv 2401.10020, "EFT": evaluation fine-tuning on the model's own
// responses with human labels): the policy being trained answers train prompts, and a small labeled set of those
// answers, each pair labeled with which is better and each answer with right or wrong, becomes judging
// conversations in the judges' own format. The labels play human annotators: they come from the gold checker with a
// configured share flipped (label noise), they are counted in the labeled-data budget, and they are drawn on train
// prompts only (the audit and `rlaif run` read test and validation prompts). This is the "labeled data" feedback
// source of the seed, spent on teaching the labeler the answers it will actually judge: the generator's planted flaws
// alone left it at chance on real policy samples (audit: 0.54 on pairs where exactly one answer is right).
// Leaves out: training (embedded-model.ts).
import { Rng } from '../engine/random.ts';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import type { PromptTemplate } from '../feedback/prompt-template.ts';
import { testbedPrinciple } from './constitution.ts';
import { goldCheck, type GoldVerdict } from './gold.ts';
import { decidingFact } from './judging-examples.ts';
import { pairwiseRequest, pointwiseRequest } from './labeler-format.ts';
import { lookupNotes, type NotesIndex } from './notes.ts';
import type { TestbedPrompt } from './prompts.ts';
import type { PolicySampler } from './policy-sampler.ts';
import type { World } from './world.ts';

/** One answer with its (possibly noisy) human-style label. */
export interface LabeledAnswer { text: string; right: boolean; score: number }

export interface OnPolicyLabels {
  pairs: { prompt: TestbedPrompt; first: LabeledAnswer; second: LabeledAnswer; better: 1 | 2 }[];
  singles: { prompt: TestbedPrompt; answer: LabeledAnswer }[];
  flipped: number;      // labels flipped by the configured noise
  skipped: number;      // answer pairs left out: identical, or equal under the labels (no preference to learn)
}

export interface OnPolicyLabelOptions { pairs: number; singles: number; noise: number; seed: number }

const label = (verdict: GoldVerdict, text: string): LabeledAnswer => ({ text, right: verdict.pass, score: verdict.score });

/**
 * Labels answers sampled from the policy (two per prompt, `answers[i]` for `prompts[i]`, train prompts only) for
 * the labeled-data budget: up to `pairs` preferences and `singles` right/wrong ratings, each flipped with probability
 * `noise` (a flipped pair swaps the two answers' labels, so its rationale stays consistent with its preference).
 */
export function labelOnPolicyAnswers(world: World, prompts: readonly TestbedPrompt[], answers: readonly (readonly string[])[], options: OnPolicyLabelOptions): OnPolicyLabels {
  if (prompts.some((p) => p.split !== 'train')) throw new Error('on-policy judging: labels are drawn on train prompts only');
  const rng = new Rng(options.seed);
  const out: OnPolicyLabels = { pairs: [], singles: [], flipped: 0, skipped: 0 };
  const flip = () => rng.uniform() < options.noise && (out.flipped++, true);
  prompts.forEach((prompt, i) => {
    const [a, b] = answers[i]!;
    if (a === undefined || b === undefined) throw new Error(`on-policy judging: prompt ${prompt.id} has ${answers[i]!.length} answers, needs 2`);
    const first = label(goldCheck(world, prompt, a), a), second = label(goldCheck(world, prompt, b), b);
    for (const answer of [first, second]) {
      if (out.singles.length >= options.singles) break;
      out.singles.push({ prompt, answer: flip() ? { ...answer, right: !answer.right } : answer });
    }
    if (out.pairs.length >= options.pairs) return;
    if (a === b || Math.abs(first.score - second.score) < 1e-9) { out.skipped++; return; }
    const better: 1 | 2 = first.score > second.score ? 1 : 2;
    out.pairs.push(flip() ? { prompt, first: { ...first, right: second.right }, second: { ...second, right: first.right }, better: better === 1 ? 2 : 1 }
      : { prompt, first, second, better });
  });
  return out;
}

/**
 * The rating a labeled answer gets, graded as the labels grade it: a right answer of lower quality (padding, off point,
 * an unnamed refusal) below a clean one; a wrong one with a single fault on point above one that is also off point or
 * padded, and that above one with several faults. Ratings avoid 1 and 10 (judging-examples.ts).
 */
export function ratingOf(answer: LabeledAnswer): number {
  if (answer.right) return answer.score >= 0.9 ? 9 : 7;
  return answer.score >= -1.1 ? 4 : answer.score >= -2 ? 3 : 2;
}
const words = (answer: LabeledAnswer) => (answer.right ? 'right' : 'wrong');

/** The labeled answers as judging conversations: [request..., rationale, verdict request, verdict]. */
export function onPolicyJudgingExamples(world: World, labels: OnPolicyLabels, templates: { pairwise: PromptTemplate; pointwise: PromptTemplate }, notes?: NotesIndex): ChatMessage[][] {
  const notesFor = (prompt: TestbedPrompt) => (notes ? lookupNotes(notes, prompt.messages) : '');
  const out: ChatMessage[][] = [];
  for (const { prompt, first, second, better } of labels.pairs) {
    const request = pairwiseRequest(templates.pairwise, testbedPrinciple(prompt.principleIds[0]!).text, prompt.messages, first.text, second.text, notesFor(prompt));
    const rationale = `${decidingFact(world, prompt)} Answer 1 is ${words(first)}. Answer 2 is ${words(second)}, so answer ${better} is better.`;
    out.push([...request, { role: 'assistant', content: rationale }, { role: 'user', content: templates.pairwise.verdictRequest! }, { role: 'assistant', content: String(better) }]);
  }
  for (const { prompt, answer } of labels.singles) {
    const request = pointwiseRequest(templates.pointwise, testbedPrinciple(prompt.principleIds[0]!).text, prompt.messages, answer.text, notesFor(prompt));
    const rationale = `${decidingFact(world, prompt)} The answer is ${words(answer)}.`;
    out.push([...request, { role: 'assistant', content: rationale }, { role: 'user', content: templates.pointwise.verdictRequest! }, { role: 'assistant', content: String(ratingOf(answer)) }]);
  }
  return out;
}

/** Where on-policy answers are drawn: a world, its train prompts, the notes the labeler reads there. */
export interface OnPolicySource { world: World; prompts: readonly TestbedPrompt[]; notes?: NotesIndex; share: number }

export interface OnPolicyOptions { prompts: number; pairs: number; singles: number; noise: number; seed: number; temperature?: number }

export interface OnPolicyExamples { examples: ChatMessage[][]; pairs: number; singles: number; flipped: number; seconds: number }

/**
 * Samples two answers per drawn train prompt from `sampler` (the policy as it is now), labels them (labelOnPolicyAnswers)
 * and renders them as judging conversations; each source gets its `share` of the prompts and of the budget.
 */
export function makeOnPolicyExamples(sampler: PolicySampler, sources: readonly OnPolicySource[], templates: { pairwise: PromptTemplate; pointwise: PromptTemplate }, options: OnPolicyOptions,
  onProgress?: (done: number, total: number) => void): OnPolicyExamples {
  const started = performance.now();
  const rng = new Rng(options.seed);
  const out: OnPolicyExamples = { examples: [], pairs: 0, singles: 0, flipped: 0, seconds: 0 };
  const total = sources.reduce((s, x) => s + x.share, 0);
  for (const [n, source] of sources.entries()) {
    const train = source.prompts.filter((p) => p.split === 'train');
    if (train.length === 0) throw new Error('on-policy judging: a source has no train prompts');
    const part = (count: number) => Math.round((count * source.share) / total);
    const chosen = Array.from({ length: part(options.prompts) }, () => train[rng.int(train.length)]!);
    const answers = sampler.sample(chosen, { samples: 2, temperature: options.temperature ?? 1, seed: options.seed + n, onProgress });
    const labels = labelOnPolicyAnswers(source.world, chosen, answers, { pairs: part(options.pairs), singles: part(options.singles), noise: options.noise, seed: options.seed + 7 * (n + 1) });
    out.examples.push(...onPolicyJudgingExamples(source.world, labels, templates, source.notes));
    out.pairs += labels.pairs.length; out.singles += labels.singles.length; out.flipped += labels.flipped;
  }
  out.seconds = (performance.now() - started) / 1000;
  return out;
}
