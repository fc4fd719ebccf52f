// The pair judge a `rlaif judge` config asks for (judge.kind): the pairwise judge, or the pointwise (1-10) or additive
// rubric (0-5) judge scoring each candidate alone, the pair's preference taken from the two scores (scored-pair-judge.ts).
// Leaves out the critique-revision judge (it revises, it does not label pairs). Lee et al. 2023 (arXiv 2309.00267).
import { loadConstitution, type Constitution } from '../feedback/constitution.ts';
import type { StepOptions } from '../feedback/judge-steps.ts';
import type { PairwiseInput, PairwiseResult } from '../feedback/judgment-types.ts';
import { PairwiseJudge } from '../feedback/pairwise-judge.ts';
import { PointwiseJudge } from '../feedback/pointwise-judge.ts';
import { loadTemplate, type PromptTemplate } from '../feedback/prompt-template.ts';
import type { RequestExecutor } from '../feedback/request-executor.ts';
import { RubricJudge } from '../feedback/rubric-judge.ts';
import { ScoredPairJudge, type JudgeKind, type PairScorer, type ScoredPairResult } from '../feedback/scored-pair-judge.ts';
import type { JudgeSettings } from './judge-run-config.ts';

export type PairResult = PairwiseResult | ScoredPairResult;

export interface ConfiguredJudge {
  kind: JudgeKind;
  judge: (input: PairwiseInput, signal?: AbortSignal) => Promise<PairResult>;
  identity: Record<string, unknown>; // with the pair, the cache key; differs between kinds
  template: PromptTemplate;
  constitution: Constitution | null; // null for the rubric: its criteria are fixed in its template
}

function stepOptions(settings: Extract<JudgeSettings, { kind: 'pairwise' | 'pointwise' }>): StepOptions {
  return {
    rationaleMaxTokens: settings.rationaleMaxTokens,
    rationaleTemperature: settings.rationaleTemperature,
    verdictMaxTokens: settings.verdictMaxTokens,
    topLogprobs: settings.topLogprobs,
    votes: settings.votes,
    voteTemperature: settings.voteTemperature,
    maxParseAttempts: settings.maxParseAttempts,
  };
}

/** Build the judge `settings` describe; relative paths (templates, constitution) resolve with `at`. */
export function configuredJudge(settings: JudgeSettings, executor: RequestExecutor, at: (path: string) => string): ConfiguredJudge {
  const templatesDirectory = settings.templatesDirectory ? at(settings.templatesDirectory) : undefined;
  if (settings.kind === 'rubric') {
    const template = loadTemplate('rubric', templatesDirectory);
    const rubric = new RubricJudge(executor, { template, maxTokens: settings.rationaleMaxTokens, temperature: settings.rationaleTemperature, samples: settings.samples, maxParseAttempts: settings.maxParseAttempts, seed: settings.seed });
    return scored({ kind: 'rubric', judge: rubric }, settings, template, null);
  }
  const constitution = loadConstitution(settings.constitution ? at(settings.constitution) : undefined);
  if (settings.kind === 'pointwise') {
    const template = loadTemplate(settings.chainOfThought ? 'pointwise' : 'pointwise-direct', templatesDirectory);
    const pointwise = new PointwiseJudge(executor, { template, constitution, principleMode: settings.principleMode, chainOfThought: settings.chainOfThought, steps: stepOptions(settings), seed: settings.seed });
    return scored({ kind: 'pointwise', judge: pointwise }, settings, template, constitution);
  }
  const template = loadTemplate(settings.chainOfThought ? 'pairwise' : 'pairwise-direct', templatesDirectory);
  const pairwise = new PairwiseJudge(executor, {
    template,
    constitution,
    principleMode: settings.principleMode,
    bothOrders: settings.bothOrders,
    chainOfThought: settings.chainOfThought,
    fewShot: settings.fewShot.map((example) => ({ ...example, conversation: [...example.conversation] })),
    clamp: settings.clamp,
    tieMargin: settings.tieMargin,
    steps: stepOptions(settings),
    seed: settings.seed,
  });
  // The pairwise identity is the judge's own, unchanged by judge kinds: caches of earlier pairwise runs stay valid.
  return { kind: 'pairwise', judge: (input, signal) => pairwise.judge(input, signal), identity: pairwise.identity(), template, constitution };
}

function scored(scorer: PairScorer, settings: JudgeSettings, template: PromptTemplate, constitution: Constitution | null): ConfiguredJudge {
  const judge = new ScoredPairJudge({ scorer, clamp: settings.clamp, tieMargin: settings.tieMargin });
  return { kind: scorer.kind, judge: (input, signal) => judge.judge(input, signal), identity: judge.identity(), template, constitution };
}
