// A tiny deterministic InProcessLanguageModel for tests: reads the judge prompt, answers rationales with fixed text and
// verdicts with logprobs from the toy brain, critiques and revisions (the critique-revision template) from the brain's
// `revise`, and samples votes from a seeded generator. No real model, no weights.
// Leaves out tokenization: a "token" here is the whole verdict string.
import type { GeneratedToken } from '../chat-model-v1.ts';
import type { InProcessGenerateRequest, InProcessGeneration, InProcessLanguageModel } from '../providers/in-process-provider.ts';
import { defaultBrain, mulberry32, type ScriptedBrain } from './scripted-openai-server.ts';

function between(text: string, start: string, end: string): string {
  const from = text.indexOf(start);
  if (from < 0) return '';
  const to = text.indexOf(end, from + start.length);
  return text.slice(from + start.length, to < 0 ? undefined : to).trim();
}

export class DeterministicLanguageModel implements InProcessLanguageModel {
  readonly modelId = 'deterministic-test';
  readonly supportsLogprobs: boolean;
  readonly #brain: ScriptedBrain;
  calls = 0;

  constructor(options: { supportsLogprobs?: boolean; brain?: ScriptedBrain } = {}) {
    this.supportsLogprobs = options.supportsLogprobs ?? true;
    this.#brain = options.brain ?? defaultBrain();
  }

  async generate(request: InProcessGenerateRequest): Promise<InProcessGeneration> {
    this.calls++;
    const last = request.messages.at(-1)?.content ?? '';
    const context = request.messages.find((message, index) => index > 0 && message.role === 'user')?.content ?? '';
    const promptTokens = request.messages.reduce((sum, message) => sum + message.content.split(/\s+/).length, 0);
    let options: Array<[string, number]> | null = null;
    if (last.includes('Preferred Response=')) {
      const p = this.#brain.pairwise(between(context, 'Response 1:', 'Response 2:'), between(context, 'Response 2:', 'Consider how well'), context);
      options = [['1', p], ['2', 1 - p]];
    } else if (last.includes('Rating=')) {
      options = this.#brain.pointwise(between(context, 'Response:', 'Consider how well')).map((p, index): [string, number] => [String(index + 1), p]);
    }
    if (!options && context.includes('Critique Request:')) {
      const response = between(context, "Assistant's last response:", 'Critique Request:');
      const revised = this.#brain.revise?.(response) ?? { critique: 'The response could follow the principle more closely.', revision: response };
      return { text: last.includes('Revision Request:') ? revised.revision : revised.critique, tokens: null, promptTokens };
    }
    if (!options) {
      const text = 'Judged against the principle, one response is clearer and safer.';
      return { text, tokens: null, promptTokens };
    }
    const random = mulberry32(request.seed);
    let text = options.reduce((best, item) => (item[1] > best[1] ? item : best))[0];
    if (request.temperature > 0) {
      let u = random();
      for (const [token, p] of options) {
        if (u < p) {
          text = token;
          break;
        }
        u -= p;
      }
    }
    const topLogprobs = options
      .map(([token, p]) => ({ token, logprob: Math.log(p) }))
      .sort((a, b) => b.logprob - a.logprob)
      .slice(0, Math.max(1, request.topLogprobs));
    const tokens: GeneratedToken[] = [{ token: text, logprob: Math.log(options.find(([token]) => token === text)![1]), topLogprobs }];
    return { text, tokens: this.supportsLogprobs ? tokens : null, promptTokens };
  }
}
