// The two stages of a critique-revision round that differ from an RL round (Constitutional AI's supervised stage,
// Bai et al. 2022, arXiv 2212.08073 §3.1): feedback — the labeler critiques each of the policy's responses against a
// principle drawn from the prompt's, then revises it, one revision record per sample holding the original, the
// critique, the principle and the revision — and update — SFT of the policy on (prompt, revision). Prompts, rollout,
// evaluation and the gate are an RL round's (round.ts). Leaves out several critique passes per response and mixing in
// helpfulness data.
import type { SftExample } from '../algorithms/sft-trainer.ts';
import { loadTemplate } from '../feedback/prompt-template.ts';
import type { CritiqueRevisionRoundConfig } from './run-config.ts';
import { inProcessPolicy, seedFor, type RoundContext } from './round-context.ts';
import { inOrder, type RoundSamples } from './round-stages.ts';
import { recordId, type RevisionRecord } from './run-records.ts';

export function revisionId(sampleId: string): string {
  return recordId('revision', { sample: sampleId });
}

/** A critique and a revision of every sample; a revision already in the store (a resumed run) is not asked again. */
export async function reviseStage(context: RoundContext, round: number, rollout: RoundSamples, settings: CritiqueRevisionRoundConfig): Promise<RevisionRecord[]> {
  const { store, labeler } = context;
  if (!labeler.revise) throw new Error(`schedule: round ${round} is a critique-revision round, but the labeler ${labeler.model} cannot critique and revise`);
  const templateVersion = labeler.reviseTemplateVersion ?? loadTemplate('critique-revision').version, perPrompt = rollout.samples.length / rollout.prompts.length;
  let done = 0;
  return inOrder(rollout.samples.map((sample, b) => async () => {
    const id = revisionId(sample.id), prompt = rollout.prompts[Math.floor(b / perPrompt)]!;
    let record = store.get('revision', id);
    if (!record) {
      const result = await labeler.revise!({ id, conversation: prompt.messages, response: sample.text, maxTokens: settings.maxTokens, temperature: settings.temperature },
        prompt.principleIds, { round, stage: 'feedback' });
      const common = { id, kind: 'revision' as const, round, parents: [sample.id], original: sample.text, labelerModel: labeler.model, templateVersion };
      store.put(result.kind === 'ok'
        ? { ...common, ok: true, failure: null, principle: result.principle, critique: result.critique, revision: result.revision }
        : { ...common, ok: false, failure: `${result.reason}: ${result.detail}`, principle: null, critique: null, revision: null });
      record = store.get('revision', id)!;   // the first record under this id, should two asks have raced
    }
    context.onProgress?.({ stage: 'feedback', round, done: ++done, total: rollout.samples.length });
    return record;
  }), labeler.parallelism ?? 1);
}

/**
 * SFT on (prompt, revision) for every revision that succeeded; the revision is cut to maxNewTokens (the policy never
 * writes longer), with the stop token when it fits.
 */
export async function reviseUpdateStage(context: RoundContext, round: number, revisions: RevisionRecord[], settings: CritiqueRevisionRoundConfig): Promise<Record<string, number>> {
  const { store, config } = context, policy = inProcessPolicy(context.policy, 'critique-revision rounds');
  const examples: SftExample[] = [];
  let changed = 0;
  for (const revision of revisions) {
    if (!revision.ok) continue;
    const ids = policy.tokenizer.encode(revision.revision!);
    const response = ids.length < config.maxNewTokens && policy.stopToken !== null ? [...ids, policy.stopToken] : ids.slice(0, config.maxNewTokens);
    if (response.length === 0) continue;
    const prompt = store.get('prompt', store.get('sample', revision.parents[0]!)!.parents[0]!)!;
    examples.push({ prompt: policy.promptTokens(prompt.messages, response.length), response: Int32Array.from(response) });
    if (revision.revision !== revision.original) changed++;
  }
  const metrics = await policy.learnSft(examples, { learningRate: settings.learningRate, epochs: settings.epochs, minibatches: settings.minibatches, seed: seedFor(context, `sft|${round}`) });
  return { ...metrics, revisionFailures: revisions.filter((r) => !r.ok).length, changedFraction: examples.length > 0 ? changed / examples.length : 0 };
}
