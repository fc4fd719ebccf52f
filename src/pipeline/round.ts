// One round of `rlaif run` as named, timed stages — prompts → rollout → feedback → rewards → update → evaluate → gate —
// the same shape as PolicyGradientTrainer.trainStep one level up. A critique-revision round (schedule) has no rewards
// stage: its feedback is a critique and revision of each sample and its update SFT on the revisions. Each stage writes its records, then a stage record
// with its time, then fsyncs (the commit point). A stage whose work is in the store is not redone. Leaves out the
// loop around rounds (run-loop.ts). Lee et al. 2023 (arXiv 2309.00267); Constitutional AI (arXiv 2212.08073).
import { rmSync } from 'node:fs';
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

/** A stage's record id: one per round and stage, and per RL iteration after a round's first. */
export function stageRecordId(round: number, name: string, iteration = 0): string {
  return recordId('stage', iteration > 0 ? { round, stage: name, iteration } : { round, stage: name });
}

/** Runs `name`, then records its time and commits the store; on a resume the first complete attempt's time stays. */
async function stage<T>(context: RoundContext, timer: StageTimer, round: number, name: StageName, fn: () => T | Promise<T>, detail: (value: T) => Record<string, number> = () => ({}),
  iteration: { index: number; of: number } = { index: 0, of: 1 }): Promise<T> {
  const shown = iteration.of > 1 ? `${name} ${iteration.index + 1}/${iteration.of}` : name;
  context.onProgress?.({ stage: shown, round, done: 0, total: 1 });
  const start = performance.now(), outer = context.onProgress;
  // The stage's own progress events (samples drawn, judgments made) carry the iteration too.
  if (outer && iteration.of > 1) context.onProgress = (e) => outer(e.round === round && e.stage === name ? { ...e, stage: shown } : e);
  let value: T;
  try { value = await timer.run(name, fn); } finally { context.onProgress = outer; }
  context.store.put({ id: stageRecordId(round, name, iteration.index), kind: 'stage', round, parents: [], stage: name, ms: performance.now() - start,
    detail: { ...detail(value), ...(iteration.of > 1 ? { iteration: iteration.index } : {}) } });
  context.store.commit();
  context.onProgress?.({ stage: shown, round, done: 1, total: 1 });
  return value;
}

/** Where iteration `iteration` (not the last) of an RL round leaves the policy, so a killed round resumes after it. */
const iterationDir = (context: RoundContext, round: number, iteration: number) => `${context.store.checkpointDir(round)}.iteration-${iteration}`;

/**
 * Round `round` from the policy of round `keptRound` (already loaded into context.policy). An RL round runs
 * config.iterationsPerRound iterations of prompts → rollout → feedback → rewards → update, each on fresh prompts sampled
 * from the policy as the previous iteration left it; a critique-revision round runs once. The candidate is saved to
 * checkpoints/round-<round>; the gate decides whether the next round starts from it or from `keptRound` again.
 */
export async function runRound(context: RoundContext, round: number, keptRound: number): Promise<RoundResult> {
  const { config, store, policy } = context, timer = new StageTimer();
  const candidate = store.checkpointDir(round), type = roundConfig(config, round);
  const iterations = type.type === 'rl' && config.update.kind === 'in-process' ? config.iterationsPerRound : 1;
  if (context.adversary) await stage(context, timer, round, 'redteam', () => context.adversary!.redTeam(context, round, keptRound), (r) => r);
  // A resumed round starts after its last finished iteration, from the policy that iteration saved.
  let first = 0, update: Record<string, number> = {};
  for (let i = iterations - 1; i >= 0; i--) {
    const done = store.get('stage', stageRecordId(round, 'update', i));
    if (done) { first = i + 1; update = done.detail; policy.load(i === iterations - 1 ? candidate : iterationDir(context, round, i)); break; }
  }
  for (let iteration = first; iteration < iterations; iteration++) {
    const at = { index: iteration, of: iterations };
    const prompts = await stage(context, timer, round, 'prompts', () => {
      const chosen = [...choosePrompts(context, round, iteration, iterations), ...(iteration === 0 ? context.adversary?.minedPrompts(context, round) ?? [] : [])];
      for (const p of chosen) store.put(promptRecord(p));
      return chosen;
    }, (p) => ({ prompts: p.length }), at);
    const rollout = await stage(context, timer, round, 'rollout', () => sampleStage(context,
      { round, policyRound: keptRound, stage: 'rollout', prompts, perPrompt: type.type === 'critique-revision' ? type.samplesPerPrompt : config.samplesPerPrompt, iteration }),
    (r) => ({ samples: r.samples.length }), at);
    let train: () => Promise<Record<string, number>>;
    if (type.type === 'critique-revision') {
      const revisions = await stage(context, timer, round, 'feedback', () => reviseStage(context, round, rollout, type), (r) => ({ revisions: r.filter((x) => x.ok).length }), at);
      train = () => reviseUpdateStage(context, round, revisions, type);
    } else {
      const feedback = await stage(context, timer, round, 'feedback', () => feedbackStage(context, round, rollout), (f) => ({ requested: f.requested }), at);
      const rewards = await stage(context, timer, round, 'rewards', () => config.rewards.mode === 'reward-model' || config.feedback.labeledAnchors > 0
        ? rewardModelStage(context, round, rollout, feedback) : rewardStage(context, round, rollout, feedback),
        (r) => ({ rewardMean: r.reduce((a, x) => a + x.total, 0) / r.length }), at);
      train = () => updateStage(context, round, rollout, rewards, feedback);
    }
    update = await stage(context, timer, round, 'update', async () => {
      const metrics = await train();
      policy.save(iteration === iterations - 1 ? candidate : iterationDir(context, round, iteration));
      return metrics;
    }, (m) => m, at);
  }
  for (let i = 0; i < iterations - 1; i++) rmSync(iterationDir(context, round, i), { recursive: true, force: true }); // the candidate holds the round's end
  const metrics = await stage(context, timer, round, 'evaluate', () => evaluateStage(context, round, keptRound), (m) => ({ ...m }));
  const gate = await stage(context, timer, round, 'gate', () => gateStage(context, round, metrics, keptRound), (g) => ({ keep: g.keep ? 1 : 0 }));
  const stagesMs = Object.fromEntries(Object.entries(timer.stages).map(([k, v]) => [k, v.ms])) as RoundResult['stagesMs'];
  return { round, gate, metrics, update, stagesMs };
}
