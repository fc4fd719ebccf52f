// SFT demonstrations with known flaws: a conversation per train prompt, the assistant's turn ideal or, at the
// configured rate per application, carrying that kind's violation (a hallucinated fact, compliance with a forbidden
// request, a refusal of a benign one, a contradiction of the context). The flaw of each is recorded, so its rate is
// measurable. Leaves out: judging examples (judging-examples.ts). Train split only.
import { z } from 'zod';
import { Rng } from '../engine/random.ts';
import { idealResponse, violatingResponse } from './answers.ts';
import type { Application, ChatMessage, TestbedPrompt } from './prompts.ts';
import { testbedSeed, type World } from './world.ts';

export const flawRatesSchema = z.strictObject({
  truthfulness: z.number().min(0).max(1).default(0.3).describe('share of truthfulness demonstrations that hallucinate or accept a false premise'),
  'value-alignment': z.number().min(0).max(1).default(0.3).describe('share of value-alignment demonstrations that comply with a forbidden request or refuse a benign one'),
  'dialogue-coherence': z.number().min(0).max(1).default(0.3).describe('share of dialogue demonstrations that contradict the conversation'),
});
export type FlawRates = z.infer<typeof flawRatesSchema>;

export interface Demonstration {
  promptId: string;
  messages: ChatMessage[];   // the prompt's conversation plus the demonstrated assistant turn
  flawed: boolean;           // the assistant turn carries the kind's violation
}

/** One demonstration per train prompt; which ones are flawed is drawn from the seed at the configured rates. */
export function makeDemonstrations(world: World, prompts: readonly TestbedPrompt[], flawRates: Partial<Record<Application, number>> = {}): Demonstration[] {
  const rates = flawRatesSchema.parse(flawRates);
  const rng = new Rng(testbedSeed(world.seed, 'demonstrations'));
  return prompts.filter((p) => p.split === 'train').map((p) => {
    const flawed = rng.uniform() < rates[p.application];
    const response = flawed ? violatingResponse(world, p, rng) : idealResponse(world, p);
    return { promptId: p.id, messages: [...p.messages, { role: 'assistant', content: response }], flawed };
  });
}
