// The testbed's AI labeler: the embedded labeler model (the policy itself when self-judging) behind the in-process
// provider, judging through the feedback layer's PairwiseJudge and PointwiseJudge with the testbed templates and the
// principle the prompt names; a short rationale, then the verdict's soft label from token log-probabilities, both
// orders averaged (Lee et al. 2023, arXiv 2309.00267). It reads text only: it never sees gold or `prompt.gold`.
import { readFileSync } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { ChatMessage } from '../feedback/chat-model-v1.ts';
import { createHash } from 'node:crypto';
import type { Constitution } from '../feedback/constitution.ts';
import { defaultStepOptions, type StepOptions } from '../feedback/judge-steps.ts';
import type { PairwiseResult, PointwiseResult } from '../feedback/judgment-types.ts';
import { PairwiseJudge } from '../feedback/pairwise-judge.ts';
import { PointwiseJudge } from '../feedback/pointwise-judge.ts';
import { ScoredPairJudge, type ScoredPairResult } from '../feedback/scored-pair-judge.ts';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { TransformerLanguageModel } from '../feedback/providers/transformer-language-model.ts';
import { defaultRetry, RequestExecutor } from '../feedback/request-executor.ts';
import { loadPretrained } from '../models/checkpoint.ts';
import { HfTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { testbedConstitution, testbedPrinciple } from './constitution.ts';
import { testbedTemplates } from './labeler-format.ts';
import { buildNotesIndex, lookupNotes } from './notes.ts';
import type { TestbedPrompt } from './prompts.ts';

export interface TestbedJudgeOptions {
  seed?: number;                 // judge seed (principle draws, sampling), default 0
  kind?: 'pointwise' | 'pairwise'; // comparePair: each answer rated alone, P(A) from the two ratings (direct RLAIF, the default), or both shown at once
  steps?: Partial<StepOptions>;  // default: rationale ≤ 72 tokens greedy, verdict from top-5 log-probs
  bothOrders?: boolean;          // default true
  shareWork?: boolean;           // batch concurrent requests, reuse cached prompt prefixes (default true; false for comparisons)
}

export interface TestbedJudge {
  modelId: string;
  /** The pairwise judge for a prompt: its first principle, the testbed template. */
  pairwiseFor(prompt: TestbedPrompt): PairwiseJudge;
  pointwiseFor(prompt: TestbedPrompt): PointwiseJudge;
  /** A pair compared from two ratings by the prompt's principle's pointwise judge (what comparePair uses for kind pointwise). */
  scoredFor(prompt: TestbedPrompt): ScoredPairJudge;
  /** Judge two responses to a prompt (A = a, B = b) with the judge `kind` names. */
  comparePair(prompt: TestbedPrompt, a: string, b: string, signal?: AbortSignal): Promise<PairwiseResult | ScoredPairResult>;
  /** The notes the labeler's retriever gives it for a conversation ('' without a corpus). */
  notesFor(conversation: readonly ChatMessage[]): string;
  /** Score one response (1-10 expected rating). */
  score(prompt: TestbedPrompt, response: string, signal?: AbortSignal): Promise<PointwiseResult>;
  executor: RequestExecutor;
  /** Prompts, prompt tokens and tokens taken from cached prefixes so far (null without prefix caching). */
  prefixCacheStats(): { prompts: number; promptTokens: number; reusedTokens: number } | null;
  /** Hands the labeler's cached key/value buffers back to the process (TransformerLanguageModel.close); refused mid-request. */
  close(): void;
}

/** The labeler model of a Hugging Face folder as an in-process language model. */
export function loadLabelerModel(directory: string, options: { shareWork?: boolean } = {}): TransformerLanguageModel {
  const pretrained = loadPretrained(directory);
  const modelId = `testbed:${basename(dirname(directory))}/${basename(directory)}`;
  return new TransformerLanguageModel({ model: new Transformer(pretrained.config, pretrained.parameters), tokenizer: HfTokenizer.load(directory), modelId, shareWork: options.shareWork });
}

const shortHash = (text: string) => createHash('sha256').update(text).digest('hex').slice(0, 12);

/** A judge over the labeler in `labelerDirectory` (BuiltTestbed.labelerDirectory), reading notes retrieved from the
 * corpus at `corpusPath` (BuiltTestbed.corpusPath) when given. */
export function testbedJudge(testbed: { labelerDirectory: string; corpusPath?: string }, options: TestbedJudgeOptions = {}): TestbedJudge {
  const model = loadLabelerModel(testbed.labelerDirectory, { shareWork: options.shareWork });
  const notes = testbed.corpusPath ? buildNotesIndex(readFileSync(testbed.corpusPath, 'utf8').split('\n').filter((line) => line.trim() !== '')) : null;
  const notesFor = (conversation: readonly ChatMessage[]) => (notes ? lookupNotes(notes, conversation) : '');
  // Requests in flight together decode in one batch when the model shares work; computed one at a time otherwise.
  const executor = new RequestExecutor(new InProcessProvider(model), { concurrency: options.shareWork === false ? 1 : 16, timeoutMs: 600_000, retry: { ...defaultRetry, maxAttempts: 1 } });
  const templates = testbedTemplates();
  const steps: StepOptions = { ...defaultStepOptions, rationaleMaxTokens: 72, ...options.steps };
  const base = testbedConstitution();
  const single = (id: string): Constitution => Object.freeze({ ...base, version: `${base.version}/${id}`, principles: [testbedPrinciple(id)] });
  const pairwise = new Map<string, PairwiseJudge>(), pointwise = new Map<string, PointwiseJudge>();
  const principleOf = (prompt: TestbedPrompt) => {
    const id = prompt.principleIds[0];
    if (!id) throw new Error(`testbed judge: prompt ${prompt.id} names no principle`);
    return id;
  };
  const pairwiseFor = (prompt: TestbedPrompt) => {
    const id = principleOf(prompt);
    if (!pairwise.has(id)) {
      pairwise.set(id, new PairwiseJudge(executor, { template: templates.pairwise, constitution: single(id), principleMode: 'sample-one', bothOrders: options.bothOrders ?? true, steps, seed: options.seed ?? 0 }));
    }
    return pairwise.get(id)!;
  };
  const pointwiseFor = (prompt: TestbedPrompt) => {
    const id = principleOf(prompt);
    if (!pointwise.has(id)) pointwise.set(id, new PointwiseJudge(executor, { template: templates.pointwise, constitution: single(id), principleMode: 'sample-one', steps, seed: options.seed ?? 0 }));
    return pointwise.get(id)!;
  };
  const scored = new Map<string, ScoredPairJudge>(); // a pair from two ratings by the prompt's principle's pointwise judge
  const scoredFor = (prompt: TestbedPrompt) => {
    const id = principleOf(prompt);
    if (!scored.has(id)) scored.set(id, new ScoredPairJudge({ scorer: { kind: 'pointwise', judge: pointwiseFor(prompt) }, clamp: null, tieMargin: 0 }));
    return scored.get(id)!;
  };
  return {
    modelId: model.modelId, executor, pairwiseFor, pointwiseFor, scoredFor, prefixCacheStats: () => model.prefixCacheStats, close: () => model.close(),
    notesFor,
    comparePair: (prompt, a, b, signal) => {
      const input = { id: `${prompt.id}|${shortHash(a)}|${shortHash(b)}`, conversation: prompt.messages, candidates: [a, b] as [string, string], reference: notesFor(prompt.messages) };
      if ((options.kind ?? 'pointwise') === 'pairwise') return pairwiseFor(prompt).judge(input, signal);
      return scoredFor(prompt).judge(input, signal);
    },
    score: (prompt, response, signal) => pointwiseFor(prompt).judge({ id: `${prompt.id}|${shortHash(response)}`, conversation: prompt.messages, response, reference: notesFor(prompt.messages) }, signal),
  };
}
