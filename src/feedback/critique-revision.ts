// Critique and revision against a constitutional principle: the model critiques a response, then rewrites it given its
// own critique. Leaves out the repeated rounds with freshly sampled principles (call it again to iterate).
// Follows Constitutional AI's supervised stage (Bai et al. 2022, arXiv 2212.08073), section 3.1.
import type { ChatMessage } from './chat-model-v1.ts';
import { selectPrinciples, type Constitution } from './constitution.ts';
import { deriveSeed } from '../engine/random.ts';
import { JudgeFailureError, toFailure } from './judge-steps.ts';
import { emptyUsage, renderConversation, type CritiqueRevisionResult, type PointwiseInput } from './judgment-types.ts';
import { renderTemplate, type PromptTemplate } from './prompt-template.ts';
import type { RequestExecutor } from './request-executor.ts';

export interface CritiqueRevisionOptions {
  template: PromptTemplate;
  constitution: Constitution;
  maxTokens: number;
  temperature: number;
  seed: number;
}

export class CritiqueReviser {
  readonly #executor: RequestExecutor;
  readonly #options: CritiqueRevisionOptions;

  constructor(executor: RequestExecutor, options: CritiqueRevisionOptions) {
    if (!options.template.verdictRequest) throw new Error(`${options.template.path}: field 'verdictRequest' (the revision request) is required`);
    for (const [index, principle] of options.constitution.principles.entries()) {
      if (!principle.critique || !principle.revision) throw new Error(`constitution ${options.constitution.name}: field 'principles.${index}' needs 'critique' and 'revision' for critique-revision`);
    }
    this.#executor = executor;
    this.#options = options;
  }

  identity(): Record<string, unknown> {
    const { template, constitution, ...rest } = this.#options;
    return { judge: 'critique-revision', provider: this.#executor.model.provider, model: this.#executor.model.modelId, templateVersion: template.version, templateHash: template.contentHash, principles: constitution.principles, ...rest };
  }

  async revise(input: PointwiseInput, signal?: AbortSignal): Promise<CritiqueRevisionResult> {
    const usage = emptyUsage();
    try {
      const principle = selectPrinciples(this.#options.constitution, 'sample-one', input.id, this.#options.seed)[0]!;
      const template = this.#options.template;
      const values = { conversation: renderConversation(input.conversation), response: input.response, critiqueRequest: principle.critique!, revisionRequest: principle.revision! };
      const messages: ChatMessage[] = [
        { role: 'system', content: template.preamble },
        { role: 'user', content: renderTemplate(template.context, values, template.path) },
      ];
      const seed = deriveSeed(this.#options.seed, `${input.id}|${principle.id}`);
      const generateOptions = { maxTokens: this.#options.maxTokens, temperature: this.#options.temperature, signal };
      const critique = (await this.#executor.generate({ ...generateOptions, messages, seed: deriveSeed(seed, 'critique') }, usage)).choices[0]?.text.trim() ?? '';
      if (critique === '') throw new JudgeFailureError('empty-response', critique, 'empty critique');
      const revisionMessages: ChatMessage[] = [...messages, { role: 'assistant', content: critique }, { role: 'user', content: renderTemplate(template.verdictRequest!, values, template.path) }];
      const revision = (await this.#executor.generate({ ...generateOptions, messages: revisionMessages, seed: deriveSeed(seed, 'revision') }, usage)).choices[0]?.text.trim() ?? '';
      if (revision === '') throw new JudgeFailureError('empty-response', revision, 'empty revision');
      return { kind: 'ok', critique, revision, principle: { id: principle.id, text: principle.text }, usage };
    } catch (error) {
      return toFailure(error, usage, signal);
    }
  }
}
