// The testbed's prompts: three applications (truthfulness, value alignment, dialogue coherence), eight kinds, each
// split train / validation / test by entity (creature, unknown name, pet name or place) AND by template, so a test
// prompt shares neither its subject nor its phrasing with any train prompt. Deterministic per seed.
// Leaves out: answers (demonstrations.ts) and judging (gold.ts). Each prompt carries a `gold` key for gold checkers only.
import { Rng } from '../engine/random.ts';
import {
  ATTRIBUTE_NOUNS, HARM_TEMPLATES, PET_OPENINGS, PET_QUESTIONS, PREMISE_TEMPLATES, PRIVACY_TEMPLATES, PRIVACY_TWIN_TEMPLATES,
  QUESTION_TEMPLATES, RECALL_FOLLOW_UPS, factSentence, fill, premiseClause,
} from './language.ts';
import { ATTRIBUTES, COLORS, KINDS, shuffled, testbedSeed, type Attribute, type World } from './world.ts';

export type Application = 'truthfulness' | 'value-alignment' | 'dialogue-coherence';
export const APPLICATIONS: readonly Application[] = ['truthfulness', 'value-alignment', 'dialogue-coherence'];
export type Split = 'train' | 'validation' | 'test';
export const SPLITS: readonly Split[] = ['train', 'validation', 'test'];
export type PromptKind = 'known-fact' | 'nonexistent-entity' | 'false-premise' | 'forbidden-harm' | 'forbidden-privacy'
  | 'benign-lookalike' | 'multi-turn-user-fact' | 'multi-turn-recall';
export const KIND_APPLICATION: Record<PromptKind, Application> = {
  'known-fact': 'truthfulness', 'nonexistent-entity': 'truthfulness', 'false-premise': 'truthfulness',
  'forbidden-harm': 'value-alignment', 'forbidden-privacy': 'value-alignment', 'benign-lookalike': 'value-alignment',
  'multi-turn-user-fact': 'dialogue-coherence', 'multi-turn-recall': 'dialogue-coherence',
};

export interface ChatMessage { role: 'system' | 'user' | 'assistant'; content: string }

/** What a gold checker needs to know about a prompt; never shown to the policy or the labeler. */
export type GoldKey =
  | { type: 'fact'; subject: string; attribute: Attribute }                          // known-fact, multi-turn-recall
  | { type: 'unknown'; subject: string; attribute: Attribute }                       // nonexistent-entity
  | { type: 'premise'; subject: string; attribute: Attribute; wrongValue: string }   // false-premise
  | { type: 'harm'; actId: string }                                                  // forbidden-harm
  | { type: 'harm-twin'; actId: string }                                             // benign look-alike of a harm request
  | { type: 'privacy'; subject: string }                                             // forbidden-privacy
  | { type: 'privacy-twin'; subject: string }                                        // benign look-alike of a privacy request
  | { type: 'pet'; pet: string; petKind: string; petColor: string; asked: 'color' | 'kind' | 'name' };

export interface TestbedPrompt {
  id: string;                 // stable for a seed: '<kind>-<split>-<index>'
  application: Application;
  kind: PromptKind;
  split: Split;
  messages: ChatMessage[];    // the conversation so far; the policy writes the next assistant turn
  principleIds: string[];     // constitution principles that apply (testbedConstitution ids)
  template: string;           // the template id ('<family>:<index>'), for the split-disjointness checks
  paraphraseGroup?: string;   // prompts asking the same question in other words share it (self-supervised agreement)
  entity: string;             // the subject the split is drawn by (creature, unknown name, pet or place)
  gold: GoldKey;              // for gold checkers only
}

export interface PromptOptions {
  perKind?: Partial<Record<Split, number>>; // at most this many prompts per kind in each split (default: train 400, validation 60, test 60)
}

/** Split items 60/20/20 after a seeded shuffle (at least one per split). */
export function splitItems<T>(items: readonly T[], rng: Rng): Record<Split, T[]> {
  const order = shuffled(items, rng);
  const test = Math.max(1, Math.round(order.length * 0.2)), validation = Math.max(1, Math.round(order.length * 0.2));
  return { test: order.slice(0, test), validation: order.slice(test, test + validation), train: order.slice(test + validation) };
}

/** Template indices 0..n-1 of a family: one each for validation and test, the rest for train, drawn per seed. */
function splitTemplates(rng: Rng, count: number): Record<Split, number[]> {
  const order = shuffled(Array.from({ length: count }, (_, i) => i), rng);
  return { validation: [order[0]!], test: [order[1]!], train: order.slice(2) };
}

function otherValue(values: readonly string[], not: string, rng: Rng): string {
  const rest = values.filter((v) => v !== not);
  return rest[rng.int(rest.length)]!;
}

/** All prompts of the world, every split; the same seed always gives the same list. */
export function makePrompts(world: World, options: PromptOptions = {}): TestbedPrompt[] {
  const caps: Record<Split, number> = { train: 400, validation: 60, test: 60, ...options.perKind };
  const rng = new Rng(testbedSeed(world.seed, 'prompts'));
  const creatures = splitItems(world.creatures, rng);
  const unknown = splitItems(world.unknownNames, rng);
  const pets = splitItems(world.petNames, rng);
  const acts = splitItems(world.acts, rng);
  const templates = {
    // Each attribute's questions are split on their own, so no phrasing style is held out whole.
    question: Object.fromEntries(ATTRIBUTES.map((a) => [a, splitTemplates(rng, QUESTION_TEMPLATES[a].length)])) as Record<Attribute, Record<Split, number[]>>,
    premise: splitTemplates(rng, PREMISE_TEMPLATES.length), harm: splitTemplates(rng, HARM_TEMPLATES.length),
    privacy: splitTemplates(rng, PRIVACY_TEMPLATES.length), pet: splitTemplates(rng, PET_OPENINGS.length),
    recall: splitTemplates(rng, RECALL_FOLLOW_UPS.length),
  };
  const out: TestbedPrompt[] = [];
  for (const split of SPLITS) {
    const byKind = new Map<PromptKind, Omit<TestbedPrompt, 'id' | 'split'>[]>();
    const add = (kind: PromptKind, p: Omit<TestbedPrompt, 'id' | 'split' | 'kind' | 'application'>) => {
      if (!byKind.has(kind)) byKind.set(kind, []);
      byKind.get(kind)!.push({ kind, application: KIND_APPLICATION[kind], ...p });
    };
    const user = (content: string): ChatMessage => ({ role: 'user', content });
    const assistant = (content: string): ChatMessage => ({ role: 'assistant', content });
    for (const attribute of ATTRIBUTES) {
      for (const t of templates.question[attribute][split]) {
        const template = QUESTION_TEMPLATES[attribute][t]!;
        for (const c of creatures[split]) {
          add('known-fact', { messages: [user(fill(template, { n: c.name }))], principleIds: ['truthful'], template: `question:${attribute}:${t}`, entity: c.name, paraphraseGroup: `ask:${c.name}:${attribute}`, gold: { type: 'fact', subject: c.name, attribute } });
        }
        for (const name of unknown[split]) {
          add('nonexistent-entity', { messages: [user(fill(template, { n: name }))], principleIds: ['truthful'], template: `question:${attribute}:${t}`, entity: name, paraphraseGroup: `ask:${name}:${attribute}`, gold: { type: 'unknown', subject: name, attribute } });
        }
      }
    }
    for (const t of templates.premise[split]) {
      for (const c of creatures[split]) {
        for (const attribute of ATTRIBUTES) {
          // A wrong friend is drawn from the same split, so no prompt names another split's creature.
          const values = attribute === 'friend' ? creatures[split].map((x) => x.name).filter((n) => n !== c.name) : world.vocabulary[attribute];
          const wrongValue = otherValue(values, c[attribute], rng);
          const text = fill(PREMISE_TEMPLATES[t]!, { p: premiseClause(c.name, attribute, wrongValue) });
          add('false-premise', { messages: [user(text)], principleIds: ['truthful'], template: `premise:${t}`, entity: c.name, gold: { type: 'premise', subject: c.name, attribute, wrongValue } });
        }
      }
    }
    for (const t of templates.harm[split]) {
      for (const act of acts[split]) {
        add('forbidden-harm', { messages: [user(fill(HARM_TEMPLATES[t]!, { r: act.request }))], principleIds: ['no-harm'], template: `harm:${t}`, entity: act.id, gold: { type: 'harm', actId: act.id } });
        add('benign-lookalike', { messages: [user(fill(HARM_TEMPLATES[t]!, { r: act.benignRequest }))], principleIds: ['helpful', 'no-harm'], template: `harm:${t}`, entity: act.id, gold: { type: 'harm-twin', actId: act.id } });
      }
    }
    for (const t of templates.privacy[split]) {
      for (const c of creatures[split]) {
        add('forbidden-privacy', { messages: [user(fill(PRIVACY_TEMPLATES[t]!, { n: c.name }))], principleIds: ['privacy'], template: `privacy:${t}`, entity: c.name, gold: { type: 'privacy', subject: c.name } });
        add('benign-lookalike', { messages: [user(fill(PRIVACY_TWIN_TEMPLATES[t]!, { n: c.name }))], principleIds: ['helpful', 'privacy'], template: `privacy:${t}`, entity: c.name, gold: { type: 'privacy-twin', subject: c.name } });
      }
    }
    for (const t of templates.pet[split]) {
      for (const pet of pets[split]) {
        const petKind = KINDS[rng.int(KINDS.length)]!, petColor = COLORS[rng.int(COLORS.length)]!;
        const values = { c: petColor, k: petKind, p: pet };
        for (const question of PET_QUESTIONS) {
          // A world fact in between, so the pet's facts must be kept across a turn.
          const filler = creatures[split][rng.int(creatures[split].length)]!, attribute = ATTRIBUTES[rng.int(ATTRIBUTES.length)]!;
          add('multi-turn-user-fact', {
            messages: [user(fill(PET_OPENINGS[t]!, values)), assistant(`A ${petColor} ${petKind} called ${pet} sounds lovely.`),
              user(fill(QUESTION_TEMPLATES[attribute][templates.question[attribute][split][0]!]!, { n: filler.name })), assistant(factSentence(filler.name, attribute, filler[attribute])),
              user(fill(question.text, values))],
            principleIds: ['coherent'], template: `pet:${t}`, entity: pet, gold: { type: 'pet', pet, petKind, petColor, asked: question.attribute },
          });
        }
      }
    }
    for (const t of templates.recall[split]) {
      for (const c of creatures[split]) {
        for (const attribute of ATTRIBUTES) {
          const other = creatures[split][rng.int(creatures[split].length)]!, otherAttribute = ATTRIBUTES[rng.int(ATTRIBUTES.length)]!;
          const q = (a: Attribute) => QUESTION_TEMPLATES[a][templates.question[a][split][0]!]!;
          add('multi-turn-recall', {
            messages: [user(fill(q(attribute), { n: c.name })), assistant(factSentence(c.name, attribute, c[attribute])),
              user(fill(q(otherAttribute), { n: other.name })), assistant(factSentence(other.name, otherAttribute, other[otherAttribute])),
              user(fill(RECALL_FOLLOW_UPS[t]!, { a: ATTRIBUTE_NOUNS[attribute], n: c.name }))],
            principleIds: ['coherent', 'truthful'], template: `recall:${t}`, entity: c.name, gold: { type: 'fact', subject: c.name, attribute },
          });
        }
      }
    }
    for (const [kind, prompts] of byKind) {
      const chosen = prompts.length > caps[split] ? shuffled(prompts, rng).slice(0, caps[split]) : prompts;
      chosen.forEach((p, i) => out.push({ ...p, id: `${kind}-${split}-${String(i).padStart(4, '0')}`, split }));
    }
  }
  return out;
}
