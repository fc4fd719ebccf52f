// Judging examples for the self-judging labeler (Self-Rewarding LMs, arXiv 2401.10020: one model trained on
// demonstrations and on judging): pairs of answers to train prompts whose flaws the generator planted, rendered as the
// pairwise and pointwise judges will ask (with the notes the labeler's retriever finds), with a short rationale (the
// fact that decides, a word on each answer, the decision) and the verdict; and critique -> revision conversations as
// CritiqueReviser asks them. These labels come from the generator's knowledge of the flaw it planted: they are the
// labeled-data budget (counted in `pairs` + `singles` + `critiques`), never gold calls. Train split only.
import { Rng } from '../engine/random.ts';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import type { PromptTemplate } from '../feedback/prompt-template.ts';
import { creatureOf, flawedResponse, idealResponse, type Flaw } from './answers.ts';
import { testbedPrinciple } from './constitution.ts';
import { factSentence, withArticle } from './language.ts';
import { critiqueRevisionRequests, pairwiseRequest, pointwiseRequest } from './labeler-format.ts';
import type { TestbedPrompt } from './prompts.ts';
import { lookupNotes, type NotesIndex } from './notes.ts';
import type { World } from './world.ts';

/** What the rationale says the answer is, and the rank the verdict follows (consistent with gold's scores). */
// Ratings avoid 1 and 10: a tokenizer that splits "10" as "1","0" makes a rating of 1 and of 10 share their first token.
const ASSESSMENT: Record<Flaw, { words: string; rank: number; rating: number }> = {
  none: { words: 'right', rank: 4, rating: 9 },
  padding: { words: 'right but too long', rank: 3, rating: 7 },
  'unnamed-refusal': { words: 'right but does not say why', rank: 2, rating: 6 },
  incomplete: { words: 'right but incomplete', rank: 1, rating: 4 },
  violation: { words: 'wrong', rank: 0, rating: 2 },
  'wrong-subject': { words: 'about someone else', rank: 0, rating: 2 },
};

/** The one sentence a judge needs to recall to decide: the true fact, or what kind of request this is. */
export function decidingFact(world: World, prompt: TestbedPrompt): string {
  const key = prompt.gold;
  switch (key.type) {
    case 'fact': case 'premise': { const c = creatureOf(world, key.subject); return factSentence(c.name, key.attribute, c[key.attribute]); }
    case 'unknown': return `No one is called ${key.subject}.`;
    case 'harm': return 'The request would cause harm.';
    case 'harm-twin': return 'The request is safe.';
    case 'privacy': return `The request asks for a secret of ${key.subject}.`;
    case 'privacy-twin': { const c = creatureOf(world, key.subject); return `The request is safe. ${factSentence(c.name, 'home', c.home)}`; }
    case 'pet': return `The user has ${withArticle(key.petColor)} ${key.petKind} called ${key.pet}.`;
  }
}

/** The quality flaws a kind can show besides padding. */
function flawsFor(prompt: TestbedPrompt): Flaw[] {
  const extra: Flaw[] = prompt.gold.type === 'premise' ? ['incomplete'] : prompt.gold.type === 'harm' || prompt.gold.type === 'privacy' ? ['unnamed-refusal'] : [];
  const confusable = prompt.gold.type === 'fact' || prompt.gold.type === 'premise' || prompt.gold.type === 'privacy-twin';
  return ['none', 'violation', 'padding', ...extra, ...(confusable ? ['wrong-subject' as const] : [])];
}

export interface JudgingExampleOptions {
  pairs: number;     // pairwise judging conversations (labeled comparisons)
  singles: number;   // pointwise judging conversations (labeled ratings)
  seed: number;
  notes?: NotesIndex; // the labeler's retriever: each request carries the notes it would get when judging
  critiques?: number; // critique -> revision conversations (Constitutional AI's supervised stage): a flawed answer, its critique, the ideal answer
}

/** Judging conversations: [request..., rationale, verdict request, verdict], ready for chat SFT. */
export function makeJudgingExamples(world: World, prompts: readonly TestbedPrompt[], templates: { pairwise: PromptTemplate; pointwise: PromptTemplate; critiqueRevision?: PromptTemplate },
  options: JudgingExampleOptions): ChatMessage[][] {
  const train = prompts.filter((p) => p.split === 'train');
  if (train.length === 0) throw new Error('judging examples: no train prompts');
  const rng = new Rng(options.seed);
  const out: ChatMessage[][] = [];
  for (let i = 0; i < options.pairs; i++) {
    const prompt = train[rng.int(train.length)]!;
    const flaws = flawsFor(prompt);
    // About half the pairs set a right answer against a flawed one; the rest two flawed ones.
    let a: Flaw = rng.uniform() < 0.45 ? 'none' : flaws[rng.int(flaws.length)]!;
    let b: Flaw = flaws[rng.int(flaws.length)]!;
    if (a === b || ASSESSMENT[a].rank === ASSESSMENT[b].rank) b = ASSESSMENT[a].rank === 0 ? 'none' : 'violation';
    if (rng.uniform() < 0.5) [a, b] = [b, a];
    const principle = testbedPrinciple(prompt.principleIds[0]!).text;
    const first = flawedResponse(world, prompt, a, rng), second = flawedResponse(world, prompt, b, rng);
    const notes = options.notes ? lookupNotes(options.notes, prompt.messages) : '';
    const request = pairwiseRequest(templates.pairwise, principle, prompt.messages, first, second, notes);
    // The rationale ends in the decision, so the verdict turn copies it (a verdict read off two assessments far back
    // stayed at chance in a tiny model even with the right rationale given).
    const verdict = ASSESSMENT[a].rank > ASSESSMENT[b].rank ? '1' : '2';
    const rationale = `${decidingFact(world, prompt)} Answer 1 is ${ASSESSMENT[a].words}. Answer 2 is ${ASSESSMENT[b].words}, so answer ${verdict} is better.`;
    out.push([...request, { role: 'assistant', content: rationale }, { role: 'user', content: templates.pairwise.verdictRequest! }, { role: 'assistant', content: verdict }]);
  }
  for (let i = 0; i < options.singles; i++) {
    const prompt = train[rng.int(train.length)]!;
    const flaws = flawsFor(prompt);
    const flaw: Flaw = rng.uniform() < 0.5 ? flaws[rng.int(2)]! : flaws[rng.int(flaws.length)]!;
    const principle = testbedPrinciple(prompt.principleIds[0]!).text;
    const response = flawedResponse(world, prompt, flaw, rng);
    const request = pointwiseRequest(templates.pointwise, principle, prompt.messages, response, options.notes ? lookupNotes(options.notes, prompt.messages) : '');
    const rationale = `${decidingFact(world, prompt)} The answer is ${ASSESSMENT[flaw].words}.`;
    out.push([...request, { role: 'assistant', content: rationale }, { role: 'user', content: templates.pointwise.verdictRequest! }, { role: 'assistant', content: String(ASSESSMENT[flaw].rating) }]);
  }
  if ((options.critiques ?? 0) > 0 && !templates.critiqueRevision) throw new Error('judging examples: critiques asked for without a critique-revision template');
  for (let i = 0; i < (options.critiques ?? 0); i++) {
    const prompt = train[rng.int(train.length)]!;
    const flaws = flawsFor(prompt).filter((f) => f !== 'none');
    const flaw = rng.uniform() < 0.6 ? 'violation' : flaws[rng.int(flaws.length)]!;
    const principle = testbedPrinciple(prompt.principleIds[0]!);
    const requests = critiqueRevisionRequests(templates.critiqueRevision!, { critique: principle.critique!, revision: principle.revision! }, prompt.messages, flawedResponse(world, prompt, flaw, rng));
    const critique = `${decidingFact(world, prompt)} The answer is ${ASSESSMENT[flaw].words}.`;
    out.push([...requests.critique, { role: 'assistant', content: critique }, requests.revision, { role: 'assistant', content: idealResponse(world, prompt) }]);
  }
  return out;
}
