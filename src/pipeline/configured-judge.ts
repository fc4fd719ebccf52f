// The pair judge a `rlaif judge` config asks for (judge.kind): the pairwise judge, or the pointwise (1-10) or additive
// rubric (0-5) judge scoring each candidate alone, the pair's preference taken from the two scores (scored-pair-judge.ts).
// Leaves out the critique-revision judge (it revises, it does not label pairs). Lee et al. 2023 (arXiv 2309.00267).
import { readdirSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { loadConstitution, type Constitution } from '../feedback/constitution.ts';
import type { StepOptions } from '../feedback/judge-steps.ts';
import type { PairwiseInput, PairwiseResult } from '../feedback/judgment-types.ts';
import { PairwiseJudge } from '../feedback/pairwise-judge.ts';
import { PointwiseJudge } from '../feedback/pointwise-judge.ts';
import { loadTemplate, templateNames, type PromptTemplate, type TemplateName } from '../feedback/prompt-template.ts';
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
  warnings: string[]; // e.g. a templates directory that overrides nothing this judge uses
}

/**
 * judge.templatesDirectory must be a directory whose YAML files are all named after a template (a misnamed file would
 * otherwise be ignored and the shipped template used in silence). Returns a warning when it does not override `used`.
 */
export function checkTemplatesDirectory(directory: string, used: TemplateName): string[] {
  let entries: string[];
  try {
    if (!statSync(directory).isDirectory()) throw new Error('is not a directory');
    entries = readdirSync(directory);
  } catch (error) {
    const reason = (error as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such directory' : (error as Error).message;
    throw new Error(`judge.templatesDirectory: ${directory}: ${reason}`);
  }
  const yaml = entries.filter((name) => /\.ya?ml$/i.test(name));
  for (const name of yaml) {
    const stem = name.replace(/\.ya?ml$/i, '');
    if (!name.endsWith('.yaml') || !(templateNames as readonly string[]).includes(stem)) {
      throw new Error(`judge.templatesDirectory: ${join(directory, name)}: not a template file name; expected one of ${templateNames.map((known) => `${known}.yaml`).join(', ')}`);
    }
  }
  return yaml.includes(`${used}.yaml`) ? [] : [`judge.templatesDirectory ${directory} has no ${used}.yaml: the shipped '${used}' template is used`];
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
  const used: TemplateName = settings.kind === 'rubric' ? 'rubric' : settings.chainOfThought ? settings.kind : `${settings.kind}-direct`;
  const warnings = templatesDirectory ? checkTemplatesDirectory(templatesDirectory, used) : [];
  if (settings.kind === 'rubric') {
    const template = loadTemplate('rubric', templatesDirectory);
    const rubric = new RubricJudge(executor, { template, maxTokens: settings.rationaleMaxTokens, temperature: settings.rationaleTemperature, samples: settings.samples, maxParseAttempts: settings.maxParseAttempts, seed: settings.seed });
    return scored({ kind: 'rubric', judge: rubric }, settings, template, null, warnings);
  }
  let constitution: Constitution;
  try {
    constitution = loadConstitution(settings.constitution ? at(settings.constitution) : undefined);
  } catch (error) {
    throw settings.constitution ? new Error(`judge.constitution: ${(error as Error).message}`, { cause: error }) : error;
  }
  if (settings.kind === 'pointwise') {
    const template = loadTemplate(used, templatesDirectory);
    const pointwise = new PointwiseJudge(executor, { template, constitution, principleMode: settings.principleMode, chainOfThought: settings.chainOfThought, steps: stepOptions(settings), seed: settings.seed });
    return scored({ kind: 'pointwise', judge: pointwise }, settings, template, constitution, warnings);
  }
  const template = loadTemplate(used, templatesDirectory);
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
  return { kind: 'pairwise', judge: (input, signal) => pairwise.judge(input, signal), identity: pairwise.identity(), template, constitution, warnings };
}

function scored(scorer: PairScorer, settings: JudgeSettings, template: PromptTemplate, constitution: Constitution | null, warnings: string[]): ConfiguredJudge {
  const judge = new ScoredPairJudge({ scorer, clamp: settings.clamp, tieMargin: settings.tieMargin });
  return { kind: scorer.kind, judge: (input, signal) => judge.judge(input, signal), identity: judge.identity(), template, constitution, warnings };
}
