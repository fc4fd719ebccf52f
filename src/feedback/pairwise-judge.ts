// Pairwise preference judge: preamble, optional few-shot, two-step chain-of-thought (or the verdict asked for directly),
// soft labels, both orders averaged, principles from a constitution (one sampled or all aggregated), optional clamping.
// Returns a typed result. Leaves out "tie" as a verdict token. Follows Lee et al. 2023 (arXiv 2309.00267).
import { FanoutAbortController, onAbort } from './abort-fanout.ts';
import type { ChatMessage } from './chat-model-v1.ts';
import { selectPrinciples, type Principle, type PrincipleMode } from './constitution.ts';
import { deriveSeed } from '../engine/random.ts';
import { checkTemplateMode, rationaleStep, toFailure, verdictStep } from './judge-steps.ts';
import {
  emptyUsage,
  renderConversation,
  type OrderVerdict,
  type PairwiseInput,
  type PairwiseResult,
  type PrincipleVerdict,
} from './judgment-types.ts';
import { compileTemplate, renderTemplate } from './prompt-template.ts';
import { judgeIdentity, withJudgeDefaults, type JudgeOptions } from './judge-options.ts';
import type { RequestExecutor } from './request-executor.ts';
import { clampProbability } from './verdict-parsing.ts';

export interface FewShotExample {
  conversation: ChatMessage[];
  response1: string;
  response2: string;
  rationale: string;
  preferred: 1 | 2;
}

export interface PairwiseJudgeOptions extends JudgeOptions {
  principleMode: PrincipleMode;
  bothOrders: boolean; // judge (A, B) and (B, A) and average, cancelling position bias
  fewShot: FewShotExample[];
  clamp: { min: number; max: number } | null; // e.g. { min: 0.4, max: 0.6 } as in Constitutional AI
  tieMargin: number; // |P(A) - 0.5| <= tieMargin is a tie
}

/**
 * The recipe's defaults, for whatever a caller leaves out: the shipped template (the '-direct' one without
 * chain-of-thought) and constitution, one principle sampled per pair, both orders, no few-shot, no clamping, no tie
 * margin, the default step options, seed 0.
 */
export function pairwiseJudgeOptions(options: Partial<PairwiseJudgeOptions> = {}): PairwiseJudgeOptions {
  return withJudgeDefaults<PairwiseJudgeOptions>('pairwise', { principleMode: 'sample-one', bothOrders: true, fewShot: [], clamp: null, tieMargin: 0 }, options);
}

export class PairwiseJudge {
  readonly #executor: RequestExecutor;
  readonly #options: PairwiseJudgeOptions;
  readonly #verdictTokens: string[];
  readonly #chainOfThought: boolean;
  readonly #renderPreamble: (values: Record<string, string>) => string;
  readonly #renderContext: (values: Record<string, string>) => string;
  // Frozen messages the provider may serialise once and reuse: one system prompt per principle, one verdict request.
  readonly #systemMessages = new Map<string, ChatMessage>(); // principle text -> system message
  readonly #verdictRequest: ChatMessage | null;

  constructor(executor: RequestExecutor, settings: Partial<PairwiseJudgeOptions> = {}) {
    const options = pairwiseJudgeOptions(settings);
    this.#chainOfThought = options.chainOfThought ?? true;
    checkTemplateMode(options.template, 'pairwise', this.#chainOfThought);
    this.#verdictTokens = options.template.verdictTokens ?? ['1', '2'];
    if (this.#verdictTokens.length !== 2) throw new Error(`${options.template.path}: field 'verdictTokens' must list exactly 2 tokens`);
    this.#executor = executor;
    this.#options = options;
    this.#renderPreamble = compileTemplate(options.template.preamble, options.template.path);
    this.#renderContext = compileTemplate(options.template.context, options.template.path);
    this.#verdictRequest = options.template.verdictRequest ? Object.freeze({ role: 'user', content: options.template.verdictRequest }) : null;
  }

  /** Everything besides the input that changes the answer; part of the cache key. */
  identity(): Record<string, unknown> {
    return judgeIdentity('pairwise', this.#executor.model, this.#options, true);
  }

  /** A typed result, ok or a failure; an abort of `signal`, before or during the judgment, rejects instead (an interrupt). */
  async judge(input: PairwiseInput, signal?: AbortSignal): Promise<PairwiseResult> {
    signal?.throwIfAborted(); // an interrupt, not a failure: nothing is sent and nothing partial is recorded
    const usage = emptyUsage();
    // Orders and principles run in parallel; the first failure stops its siblings so nothing runs after the result.
    const siblings = new FanoutAbortController();
    const unsubscribe = onAbort(signal, () => siblings.abort());
    try {
      const principles = selectPrinciples(this.#options.constitution, this.#options.principleMode, input.id, this.#options.seed);
      const positions = await Promise.all(principles.map((principle) => this.#judgeUnderPrinciple(input, principle, usage, siblings.signal)));
      const mean = positions.reduce((sum, verdict) => sum + verdict.probabilityA, 0) / positions.length;
      const probability = clampProbability(mean, this.#options.clamp);
      const preferred = Math.abs(mean - 0.5) <= this.#options.tieMargin ? 'tie' : mean > 0.5 ? 'A' : 'B';
      const rationale = !this.#chainOfThought ? null : positions.length === 1 ? positions[0]!.forward.rationale : positions.map((verdict) => `[${verdict.principle.id}] ${verdict.forward.rationale}`).join('\n\n');
      return {
        kind: 'ok',
        preferred,
        probability,
        rationale,
        principles: principles.map(({ id, text }) => ({ id, text })),
        positions,
        usage: { ...usage },
      };
    } catch (error) {
      siblings.abort();
      return toFailure(error, { ...usage }, signal);
    } finally {
      unsubscribe();
    }
  }

  async #judgeUnderPrinciple(input: PairwiseInput, principle: Principle, usage: ReturnType<typeof emptyUsage>, signal?: AbortSignal): Promise<PrincipleVerdict> {
    const orders: Array<'A-first' | 'B-first'> = this.#options.bothOrders ? ['A-first', 'B-first'] : ['A-first'];
    const verdicts = await Promise.all(orders.map((order) => this.#judgeOneOrder(input, principle, order, usage, signal)));
    const probabilityA = verdicts.reduce((sum, verdict) => sum + verdict.probabilityA, 0) / verdicts.length;
    return { principle: { id: principle.id, text: principle.text }, forward: verdicts[0]!, reversed: verdicts[1] ?? null, probabilityA };
  }

  async #judgeOneOrder(
    input: PairwiseInput,
    principle: Principle,
    order: 'A-first' | 'B-first',
    usage: ReturnType<typeof emptyUsage>,
    signal?: AbortSignal,
  ): Promise<OrderVerdict> {
    const [first, second] = order === 'A-first' ? input.candidates : [input.candidates[1], input.candidates[0]];
    const messages = this.#promptMessages(input, principle, first, second);
    const seed = deriveSeed(this.#options.seed, `${input.id}|${principle.id}|${order}`);
    let rationale: string | null = null;
    let verdictMessages = messages; // without chain-of-thought the context itself asks for the verdict
    if (this.#chainOfThought) {
      rationale = await rationaleStep({ executor: this.#executor, messages, steps: this.#options.steps, seed, usage, signal });
      verdictMessages = [...messages, { role: 'assistant', content: rationale }, this.#verdictRequest!];
    }
    const reading = await verdictStep({ executor: this.#executor, messages: verdictMessages, verdictOptions: this.#verdictTokens, steps: this.#options.steps, seed, usage, signal });
    const probabilityFirst = reading.distribution[0]!;
    return {
      order,
      probabilityFirst,
      probabilityA: order === 'A-first' ? probabilityFirst : 1 - probabilityFirst,
      rationale,
      labelSource: reading.labelSource,
      votes: reading.votes ? [reading.votes[0]!, reading.votes[1]!] : null,
      verdictRaw: reading.raw,
    };
  }

  #promptMessages(input: PairwiseInput, principle: Principle, first: string, second: string): ChatMessage[] {
    const template = this.#options.template;
    const source = template.path;
    const fewShot = this.#options.fewShot
      .map((example) =>
        renderTemplate(
          template.fewShotExample ?? '',
          {
            conversation: renderConversation(example.conversation),
            response1: example.response1,
            response2: example.response2,
            rationale: example.rationale,
            verdict: this.#verdictTokens[example.preferred - 1]!,
          },
          source,
        ),
      )
      .join('\n');
    const reference = input.reference ? `\n\n${template.referenceLabel}: ${input.reference}` : '';
    let system = this.#systemMessages.get(principle.text);
    if (!system) {
      system = Object.freeze({ role: 'system', content: this.#renderPreamble({ principle: principle.text }) });
      this.#systemMessages.set(principle.text, system);
    }
    const context = this.#renderContext({ fewShot: fewShot ? `${fewShot}\n` : '', conversation: renderConversation(input.conversation) + reference, response1: first, response2: second });
    return [system, Object.freeze({ role: 'user', content: context })]; // the context is sent again with the verdict request
  }
}
