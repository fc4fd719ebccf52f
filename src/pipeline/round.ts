// One round of `rlaif run` as named, timed stages — prompts → rollout → feedback → rewards → update → evaluate → gate —
// the same shape as PolicyGradientTrainer.trainStep one level up. A critique-revision round (schedule) has no rewards
// stage: its feedback is a critique and revision of each sample and its update SFT on the revisions. Each stage writes its records, then a stage record
// with its time, then fsyncs (the commit point). A stage whose work is in the store is not redone. Leaves out the
// loop around rounds (run-loop.ts). Lee et al. 2023 (arXiv 2309.00267); Constitutional AI (arXiv 2212.08073).
import { StageTimer } from '../algorithms/training-run.ts';
import type { ProxyMetrics } from './gates.ts';
import { evaluateStage, gateStage } from './round-evaluate.ts';
import { choosePrompts, feedbackStage, rewardStage, sampleStage, updateStage } from './round-stages.ts';
import { reviseStage, reviseUpdateStage } from './critique-revision-round.ts';
import { rewardModelStage } from './reward-model-reward.ts';
import { roundConfig } from './run-config.ts';
import { promptRecord, type RoundContext } from './round-context.ts';
import { recordId, type GateRecord } from './run-records.ts';

export const STAGES = ['redteam', 'prompts', 'rollout', 'feedback', 'rewards', 'update', 'evaluate', 'gate'] as const;
export type StageName = (typeof STAGES)[number];

export interface RoundResult {
  round: number;
  gate: GateRecord;
  metrics: ProxyMetrics;
  update: Record<string, number>;
  stagesMs: Partial<Record<StageName, number>>;
}

/** Runs `name`, then records its time and commits the store; on a resume the first complete attempt's time stays. */
async function stage<T>(context: RoundContext, timer: StageTimer, round: number, name: StageName, fn: () => T | Promise<T>, detail: (value: T) => Record<string, number> = () => ({})): Promise<T> {
  context.onProgress?.({ stage: name, round, done: 0, total: 1 });
  const value = await timer.run(name, fn);
  context.store.put({ id: recordId('stage', { round, stage: name }), kind: 'stage', round, parents: [], stage: name, ms: timer.stages[name]!.ms, detail: detail(value) });
  context.store.commit();
  context.onProgress?.({ stage: name, round, done: 1, total: 1 });
  return value;
}

/**
 * Round `round` from the policy of round `keptRound` (already loaded into context.policy). The candidate is saved to
 * checkpoints/round-<round>; the gate decides whether the next round starts from it or from `keptRound` again.
 */
export async function runRound(context: RoundContext, round: number, keptRound: number): Promise<RoundResult> {
  const { config, store, policy } = context, timer = new StageTimer();
  const candidate = store.checkpointDir(round), updated = store.get('stage', recordId('stage', { round, stage: 'update' }));
  if (context.adversary) await stage(context, timer, round, 'redteam', () => context.adversary!.redTeam(context, round, keptRound), (r) => r);
  const prompts = await stage(context, timer, round, 'prompts', () => {
    const chosen = [...choosePrompts(context, round), ...(context.adversary?.minedPrompts(context, round) ?? [])];
    for (const p of chosen) store.put(promptRecord(p));
    return chosen;
  }, (p) => ({ prompts: p.length }));
  const type = roundConfig(config, round);
  const rollout = await stage(context, timer, round, 'rollout', () => sampleStage(context,
    { round, policyRound: keptRound, stage: 'rollout', prompts, perPrompt: type.type === 'critique-revision' ? type.samplesPerPrompt : config.samplesPerPrompt }),
  (r) => ({ samples: r.samples.length }));
  let train: () => Promise<Record<string, number>>;
  if (type.type === 'critique-revision') {
    const revisions = await stage(context, timer, round, 'feedback', () => reviseStage(context, round, rollout, type), (r) => ({ revisions: r.filter((x) => x.ok).length }));
    train = () => reviseUpdateStage(context, round, revisions, type);
  } else {
    const feedback = await stage(context, timer, round, 'feedback', () => feedbackStage(context, round, rollout), (f) => ({ requested: f.requested }));
    const rewards = await stage(context, timer, round, 'rewards', () => config.rewards.mode === 'reward-model' || config.feedback.labeledAnchors > 0
      ? rewardModelStage(context, round, rollout, feedback) : rewardStage(context, round, rollout, feedback),
      (r) => ({ rewardMean: r.reduce((a, x) => a + x.total, 0) / r.length }));
    train = () => updateStage(context, round, rollout, rewards, feedback);
  }
  const update = await stage(context, timer, round, 'update', async () => {
    if (updated) { policy.load(candidate); return updated.detail; }   // a resumed round: the candidate was saved
    const metrics = await train();
    policy.save(candidate);
    return metrics;
  }, (m) => m);
  const metrics = await stage(context, timer, round, 'evaluate', () => evaluateStage(context, round, keptRound), (m) => ({ ...m }));
  const gate = await stage(context, timer, round, 'gate', () => gateStage(context, round, metrics, keptRound), (g) => ({ keep: g.keep ? 1 : 0 }));
  const stagesMs = Object.fromEntries(Object.entries(timer.stages).map(([k, v]) => [k, v.ms])) as RoundResult['stagesMs'];
  return { round, gate, metrics, update, stagesMs };
}
