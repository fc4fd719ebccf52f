// Testbed mode of `rlaif run`: build (or take from the cache) the embedded testbed for the run's seed, and adapt its
// SFT policy, its labeler (testbedJudge: the testbed templates, the prompt's principle, both orders) and its
// gold-labeled anchor set to the loop's interfaces. The loop sees prompts without their gold key. Leaves out the
// gold report (testbed-report.ts). Self-Rewarding LMs (arXiv 2401.10020); Lee et al. 2023 (arXiv 2309.00267).
import { buildTestbed, testbedConstitution, testbedJudge, testbedPrinciple, testbedTemplates, type BuildEvent, type BuiltTestbed, type TestbedPrompt } from '../testbed/index.ts';
import type { Message } from '../feedback/judgment-types.ts';
import { pairwiseFromScores } from '../feedback/scored-pair-judge.ts';
import { reviserOver, type LoopLabeler } from './loop-labeler.ts';
import type { AnchorPair } from './round-context.ts';
import { loopPrompt } from './testbed-report.ts';

export async function loadTestbed(options: { seed: number; labeler: 'self' | 'separate'; config?: unknown; cacheDirectory?: string; onProgress?: (event: BuildEvent) => void }): Promise<BuiltTestbed> {
  return buildTestbed(options);
}

/**
 * The testbed's judge behind the LoopLabeler interface (the prompt's first principle, as the testbed judges), comparing
 * two responses side by side (`compare` pairwise) or from a rating of each (pointwise). Its critique → revision uses
 * the same model and principle with the shipped critique-revision template; the embedded labeler was never trained to
 * write critiques, so in testbed mode the gate decides whether its revisions helped.
 */
export function testbedLabeler(testbed: BuiltTestbed, seed: number, compare: 'pairwise' | 'pointwise' = 'pairwise'): LoopLabeler {
  const judge = testbedJudge(testbed, { seed });
  // The judge reads a prompt's id (for errors) and principle ids only; the loop passes both.
  const promptFor = (id: string, principleIds: readonly string[]) => ({ id, principleIds: [...principleIds] }) as unknown as TestbedPrompt;
  const critiqueRevision = testbedTemplates().critiqueRevision;
  const probe = { id: 'probe', principleIds: ['truthful'] } as unknown as TestbedPrompt;
  const version = String((compare === 'pairwise' ? judge.pairwiseFor(probe) : judge.pointwiseFor(probe)).identity().templateVersion);
  // The labeler reads the notes its retriever finds for the conversation (testbed/notes.ts), as in the audit.
  const withNotes = <T extends { conversation: Message[] }>(input: T): T & { reference: string } => ({ ...input, reference: judge.notesFor(input.conversation) });
  return {
    model: judge.modelId,
    templateVersion: version,
    pairwise: compare === 'pairwise'
      ? (input, ids) => judge.pairwiseFor(promptFor(input.id, ids)).judge(withNotes(input))
      : async (input, ids) => pairwiseFromScores(await judge.scoredFor(promptFor(input.id, ids)).judge(withNotes(input))),
    pointwise: (input, ids) => judge.pointwiseFor(promptFor(input.id, ids)).judge(withNotes(input)),
    revise: reviserOver(judge.executor, (ids) => {
      if (!ids[0]) throw new Error('testbed labeler: a prompt to revise names no principle');
      const base = testbedConstitution();
      return { ...base, version: `${base.version}/${ids[0]}`, principles: [testbedPrinciple(ids[0])] };
    }, seed, critiqueRevision),
    reviseTemplateVersion: critiqueRevision.version,
  };
}

/** The gold-labeled anchor comparisons (with their configured label noise) as the loop's labeled-data source. */
export function testbedAnchors(testbed: BuiltTestbed): AnchorPair[] {
  const byId = new Map(testbed.prompts.map((p) => [p.id, p]));
  return testbed.anchorSet.map((a) => ({ prompt: loopPrompt(byId.get(a.promptId)!), preferred: a.preferred === 'a' ? a.a : a.b, other: a.preferred === 'a' ? a.b : a.a }));
}
