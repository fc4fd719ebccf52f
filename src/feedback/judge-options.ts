// What every principle-driven judge (pairwise, pointwise) takes, and the defaults they share: the shipped template
// (its '-direct' form without chain-of-thought), the shipped constitution, the default step options and seed 0.
// Leaves out each judge's own options (both orders, few-shot, clamping for pairwise) and their defaults.
import { loadConstitution, type Constitution } from './constitution.ts';
import { defaultStepOptions, type StepOptions } from './judge-steps.ts';
import { loadTemplate, type PromptTemplate } from './prompt-template.ts';

export interface JudgeOptions {
  template: PromptTemplate;
  constitution: Constitution;
  chainOfThought?: boolean; // default true: rationale, then verdict; false: the verdict directly (a '-direct' template)
  steps: StepOptions;
  seed: number;
}

/**
 * A judge's full options: the shared defaults, then the judge's own `defaults`, then whatever the caller set (keys
 * set to undefined count as left out). `kind` names the shipped template ('pairwise' or 'pointwise').
 */
export function withJudgeDefaults<T extends JudgeOptions>(kind: 'pairwise' | 'pointwise',
  defaults: Omit<T, keyof JudgeOptions>, options: Partial<T>): T {
  return {
    template: options.template ?? loadTemplate(options.chainOfThought === false ? `${kind}-direct` : kind),
    constitution: options.constitution ?? loadConstitution(),
    steps: defaultStepOptions, seed: 0, ...defaults,
    ...Object.fromEntries(Object.entries(options).filter(([, value]) => value !== undefined)),
  } as T;
}

/**
 * Everything besides the input that changes a judge's answer: part of the cache key. `chainOfThought` appears only
 * when false, so keys of two-step runs stay as they were; the constitution's name@version only where `named` (the
 * pairwise judge's keys have always held it, the pointwise judge's never, and cached judgments stay valid).
 */
export function judgeIdentity(judge: 'pairwise' | 'pointwise', model: { provider: string; modelId: string }, options: JudgeOptions,
  named: boolean): Record<string, unknown> {
  const { template, constitution, chainOfThought, ...rest } = options;
  return {
    judge,
    provider: model.provider,
    model: model.modelId,
    templateVersion: template.version,
    templateHash: template.contentHash,
    ...(named ? { constitution: `${constitution.name}@${constitution.version}` } : {}),
    principles: constitution.principles,
    ...rest,
    ...(chainOfThought === false ? { chainOfThought: false } : {}),
  };
}
