// The stages of one round, each writing its records to the run store under deterministic ids and reusing whatever a
// killed run already wrote (samples are read back, a judgment present in the store is never requested again):
// prompts → rollout → feedback → rewards → update. Evaluation and the gate are in round-evaluate.ts.
// The reward-model reward mode fits its model in reward-model-reward.ts. Lee et al. 2023 (arXiv 2309.00267); GRPO arXiv 2402.03300.
import { Rng } from '../engine/index.ts';
import type { TokenPreferencePair } from '../algorithms/preference-pairs.ts';
import type { RolloutBatch } from '../algorithms/rollout.ts';
import type { PairwiseResult, PointwiseResult } from '../feedback/judgment-types.ts';
import { externalUpdate } from './external-update.ts';
import { promptRecord, promptRecordId, seedFor, type LoopPrompt, type RoundContext } from './round-context.ts';
import { meanLogprob, recordId, type FeedbackSource, type JudgmentRecord, type RewardRecord, type SampleRecord, type SampleStage } from './run-records.ts';

export interface RoundSamples {
  prompts: LoopPrompt[];     // (N,)
  samples: SampleRecord[];   // (N·K,) prompt-major: samples[n·K + k]
  batch: RolloutBatch | null; // the same rows as token arrays (in-process policies; null behind an endpoint)
}

/**
 * Fresh train prompts in a seeded cycle (iteration `iteration` of `iterations` per round takes the next slice), plus the
 * lowest-reward prompts of earlier rounds (mined by the proxy; each iteration of a round takes the next worst ones).
 */
export function choosePrompts(context: RoundContext, round: number, iteration = 0, iterations = 1): LoopPrompt[] {
  const { config, store, train } = context, n = config.promptsPerRound;
  const mined = round > 1 ? Math.round(config.minedFailureShare * n) : 0;
  const order = new Rng(seedFor(context, 'train-order')).shuffle([...train.keys()]);
  const slot = (round - 1) * iterations + iteration;
  const fresh = Array.from({ length: n - mined }, (_, i) => train[order[(slot * (n - mined) + i) % train.length]!]!);
  const taken = new Set(fresh.map((p) => p.id));
  const byPrompt = new Map<string, { total: number; count: number }>();
  for (const reward of store.all('reward')) {
    if (reward.round >= round) continue;
    const sample = store.get('sample', reward.parents[0]!), prompt = sample && store.get('prompt', sample.parents[0]!);
    if (!prompt || taken.has(prompt.promptId)) continue;
    const entry = byPrompt.get(prompt.promptId) ?? { total: 0, count: 0 };
    entry.total += reward.total; entry.count++;
    byPrompt.set(prompt.promptId, entry);
  }
  const worst = [...byPrompt].map(([id, e]) => ({ id, mean: e.total / e.count })).sort((a, b) => a.mean - b.mean || (a.id < b.id ? -1 : 1));
  const byId = new Map(train.map((p) => [p.id, p]));
  return [...fresh, ...worst.slice(iteration * mined, (iteration + 1) * mined).map((w) => byId.get(w.id)!).filter(Boolean)];
}

/**
 * One sample per (prompt, index) from the current policy (in this process or behind an endpoint), seeded per sample;
 * when every record is already in the store (a resumed run), the batch is rebuilt from the records instead, so nothing
 * is sampled twice.
 */
export async function sampleStage(context: RoundContext, options: { round: number; policyRound: number; stage: SampleStage; prompts: LoopPrompt[]; perPrompt: number; iteration?: number;
  firstIndex?: number }): Promise<RoundSamples> {   // firstIndex: the samples' index k starts there (more answers to prompts already sampled)
  const { store, policy } = context, { round, policyRound, stage, prompts, perPrompt } = options, iteration = options.iteration ?? 0, first = options.firstIndex ?? 0;
  const rows = prompts.flatMap((prompt) => Array.from({ length: perPrompt }, (_, i) => ({ prompt, index: first + i })));
  // A round's later RL iterations sample from the policy as the earlier ones left it: the iteration joins the key.
  const key = (row: { prompt: LoopPrompt; index: number }) => ({ stage, round: stage === 'rollout' ? round : undefined, policyRound, prompt: row.prompt.id, index: row.index,
    ...(iteration > 0 ? { iteration } : {}) });
  const ids = rows.map((row) => recordId('sample', key(row)));
  const batchOf = (samples: SampleRecord[]) => (policy.kind === 'in-process'
    ? batchFromSamples(rows.map((row) => policy.promptTokens(row.prompt.messages)), samples, context.config.maxNewTokens) : null);
  const stored = ids.map((id) => store.get('sample', id));
  if (stored.every((s) => s !== undefined)) return { prompts, samples: stored as SampleRecord[], batch: batchOf(stored as SampleRecord[]) };
  for (const prompt of prompts) store.put(promptRecord(prompt));   // idempotent: evaluation and report prompts are traceable too
  const asked = rows.map((row) => ({ messages: row.prompt.messages, seed: seedFor(context, `sample|${JSON.stringify(key(row))}`) }));
  const drawn = context.rollout ? await context.rollout(policy, asked, { round, stage, ids }) : await policy.sampleRows(asked);
  const samples = rows.map((row, b): SampleRecord => {
    const { text, tokens, logprobs, tokenCount } = drawn[b]!;
    store.put({ id: ids[b]!, kind: 'sample', round, parents: [promptRecordId(row.prompt)], stage, policyRound, index: row.index, text, tokens, logprobs,
      ...(tokenCount === undefined ? {} : { tokenCount }) });
    return store.get('sample', ids[b]!)!;
  });
  return { prompts, samples, batch: batchOf(samples) };
}

/** The RolloutBatch layout of sampleBatch, rebuilt from stored samples: (B, P + maxNewTokens), left-padded prompts. */
export function batchFromSamples(promptTokens: Int32Array[], samples: readonly Pick<SampleRecord, 'tokens' | 'logprobs'>[], maxNewTokens: number): RolloutBatch {
  const B = samples.length, P = Math.max(...promptTokens.map((p) => p.length)), T = P + maxNewTokens;
  const tokens = new Int32Array(B * T), keyMask = new Float32Array(B * T), actionMask = new Float32Array(B * T);
  const logprobs = new Float32Array(B * T), responseLengths = new Int32Array(B);
  samples.forEach((sample, b) => {
    const prompt = promptTokens[b]!, offset = P - prompt.length, n = sample.tokens.length;
    tokens.set(prompt, b * T + offset);
    tokens.set(sample.tokens, b * T + P);
    keyMask.fill(1, b * T + offset, b * T + P + n);
    actionMask.fill(1, b * T + P - 1, b * T + P - 1 + n);
    logprobs.set(sample.logprobs, b * T + P - 1);
    responseLengths[b] = n;
  });
  return { B, T, promptLength: P, tokens, keyMask, actionMask, logprobs, responseLengths };
}

/** A judgment record from a pairwise or pointwise result (ok or typed failure). */
export function judgmentRecord(context: RoundContext, base: { id: string; round: number; parents: string[]; stage: JudgmentRecord['stage']; source: FeedbackSource },
  result: PairwiseResult | PointwiseResult): JudgmentRecord {
  const common = { ...base, kind: 'judgment' as const, labelerModel: context.labeler.model, templateVersion: context.labeler.templateVersion };
  if (result.kind !== 'ok') {
    return { ...common, ok: false, failure: `${result.reason}: ${result.detail}`, probabilityA: null, orders: [], score: null, rationale: null, principle: null };
  }
  if ('positions' in result) {
    const orders = result.positions.flatMap((p) => [p.forward, ...(p.reversed ? [p.reversed] : [])])
      .map((o) => ({ order: o.order, probabilityFirst: o.probabilityFirst, probabilityA: o.probabilityA, rationale: o.rationale }));
    return { ...common, ok: true, failure: null, probabilityA: result.probability, orders, score: null, rationale: result.rationale, principle: result.principles[0] ?? null };
  }
  return { ...common, ok: true, failure: null, probabilityA: null, orders: [], score: result.score, rationale: result.rationale, principle: result.principle };
}

/** Pairwise judgment of samples a vs b (P(a preferred)), from the store when present, else asked and recorded. */
export async function judgePair(context: RoundContext, options: { round: number; stage: JudgmentRecord['stage']; prompt: LoopPrompt; a: SampleRecord; b: SampleRecord }): Promise<JudgmentRecord> {
  const { round, stage, prompt, a, b } = options;
  const id = recordId('judgment', { source: 'pairwise-ai', a: a.id, b: b.id });
  const existing = context.store.get('judgment', id);
  if (existing) return existing;
  if (a.text === b.text) {  // both orders of the same text average to exactly ½: no request needed
    const record: JudgmentRecord = { id, kind: 'judgment', round, parents: [a.id, b.id], stage, source: 'pairwise-ai', ok: true, failure: null,
      probabilityA: 0.5, orders: [], score: null, rationale: 'identical responses: no preference (not sent to the labeler)', principle: null,
      labelerModel: context.labeler.model, templateVersion: context.labeler.templateVersion };
    context.store.put(record);
    return record;
  }
  const result = await context.labeler.pairwise({ id, conversation: prompt.messages, candidates: [a.text, b.text] }, prompt.principleIds, { round, stage });
  context.store.put(judgmentRecord(context, { id, round, parents: [a.id, b.id], stage, source: 'pairwise-ai' }, result));
  return context.store.get('judgment', id)!;   // the first record under this id, should two asks have raced
}

/** Word-set Jaccard agreement of each sample with its group's other samples: self-consistency in [0, 1]. */
export function selfConsistency(texts: string[]): number[] {
  const sets = texts.map((t) => new Set(t.toLowerCase().match(/[a-z0-9']+/g) ?? []));
  return sets.map((mine, i) => {
    const others = sets.filter((_, j) => j !== i);
    if (others.length === 0) return 0;
    return others.reduce((sum, theirs) => {
      const union = new Set([...mine, ...theirs]).size;
      return sum + (union === 0 ? 1 : [...mine].filter((w) => theirs.has(w)).length / union);
    }, 0) / others.length;
  });
}

export interface Feedback { bySample: Map<string, JudgmentRecord[]>; pairs: JudgmentRecord[]; requested: number }

/**
 * The tasks in order, at most `width` at once (the labeler's parallelism: 1 in-process, many through a queue);
 * results in task order. After a failure no task starts, the ones in flight are awaited, then the error is thrown:
 * nothing is left running against a store about to close.
 */
export async function inOrder<T>(tasks: (() => Promise<T>)[], width: number): Promise<T[]> {
  const results: T[] = new Array(tasks.length);
  let next = 0, failed = null as { error: unknown } | null;
  const lane = async () => {
    while (!failed && next < tasks.length) {
      const i = next++;
      try { results[i] = await tasks[i]!(); } catch (error) { failed ??= { error }; }
    }
  };
  await Promise.all(Array.from({ length: Math.max(1, Math.min(width, tasks.length)) }, lane));
  if (failed) throw failed.error;
  return results;
}

/** Every configured feedback source on every sample of the round; each record names its source. */
export async function feedbackStage(context: RoundContext, round: number, rollout: RoundSamples): Promise<Feedback> {
  const { config, store } = context, K = config.samplesPerPrompt, w = config.feedback;
  const bySample = new Map<string, JudgmentRecord[]>(rollout.samples.map((s) => [s.id, []]));
  const pairs: JudgmentRecord[] = [];
  const before = store.count('judgment');
  // Pairwise: every pair of distinct texts in a group (a repeated text is judged once, through its first sample).
  const distinct = rollout.prompts.map((_, n) => {
    const group = rollout.samples.slice(n * K, (n + 1) * K), seen = new Map<string, SampleRecord>();
    for (const s of group) if (!seen.has(s.text)) seen.set(s.text, s);
    return [...seen.values()];
  });
  const pairwiseOn = w.pairwise > 0 || context.policy.learnsFromPairs || context.config.update.kind === 'external';
  // The judgments to ask for, in a fixed order; asked (maybe many at once), then filed in that order.
  type Task = { n: number; a?: SampleRecord; b?: SampleRecord; sample?: SampleRecord; ask: () => Promise<JudgmentRecord> };
  const tasks: Task[] = [];
  for (const [n, prompt] of rollout.prompts.entries()) {
    const group = rollout.samples.slice(n * K, (n + 1) * K);
    if (pairwiseOn) {
      const reps = distinct[n]!;
      for (let i = 0; i < reps.length; i++) {
        for (let j = i + 1; j < reps.length; j++) {
          const a = reps[i]!, b = reps[j]!;
          tasks.push({ n, a, b, ask: () => judgePair(context, { round, stage: 'feedback', prompt, a, b }) });
        }
      }
    }
    if (w.pointwise > 0) {
      for (const sample of group) {
        tasks.push({ n, sample, ask: async () => {
          const id = recordId('judgment', { source: 'pointwise-ai', sample: sample.id });
          const existing = store.get('judgment', id);
          if (existing) return existing;
          const result = await context.labeler.pointwise({ id, conversation: prompt.messages, response: sample.text }, prompt.principleIds, { round, stage: 'feedback' });
          store.put(judgmentRecord(context, { id, round, parents: [sample.id], stage: 'feedback', source: 'pointwise-ai' }, result));
          return store.get('judgment', id)!;
        } });
      }
    }
  }
  let done = 0;
  const judged = await inOrder(tasks.map((task) => async () => {
    const judgment = await task.ask();
    context.onProgress?.({ stage: 'feedback', round, done: ++done, total: tasks.length });
    return judgment;
  }), context.labeler.parallelism ?? 1);
  tasks.forEach((task, t) => {
    const judgment = judged[t]!, group = rollout.samples.slice(task.n * K, (task.n + 1) * K);
    if (task.sample) { bySample.get(task.sample.id)!.push(judgment); return; }
    pairs.push(judgment);
    for (const sample of group) if (sample.text === task.a!.text || sample.text === task.b!.text) bySample.get(sample.id)!.push(judgment);
  });
  if (w.selfSupervised > 0) {
    for (const [n] of rollout.prompts.entries()) {
      const group = rollout.samples.slice(n * K, (n + 1) * K);
      const agreement = selfConsistency(group.map((s) => s.text));
      group.forEach((sample, k) => {
        const id = recordId('judgment', { source: 'self-supervised', sample: sample.id });
        store.put({ id, kind: 'judgment', round, parents: [sample.id], stage: 'feedback', source: 'self-supervised', ok: true, failure: null,
          probabilityA: null, orders: [], score: agreement[k]!, rationale: `word overlap with the ${K - 1} other samples for this prompt`,
          principle: null, labelerModel: 'self-consistency', templateVersion: 'jaccard-1' });
        bySample.get(sample.id)!.push(store.get('judgment', id)!);
      });
    }
  }
  if (w.selfCertainty > 0) {
    for (const [n] of rollout.prompts.entries()) {
      const group = rollout.samples.slice(n * K, (n + 1) * K), certainty = group.map((sample) => {
        const value = meanLogprob(sample);
        if (value === null) throw new Error(`feedback.selfCertainty: sample ${sample.id} has no log-probabilities (an endpoint policy's); set feedback.selfCertainty to 0`);
        return value;
      });
      const mean = certainty.reduce((a, x) => a + x, 0) / group.length;
      group.forEach((sample, k) => {
        const id = recordId('judgment', { source: 'self-certainty', sample: sample.id });
        if (!store.get('judgment', id)) {
          store.put({ id, kind: 'judgment', round, parents: [sample.id], stage: 'feedback', source: 'self-certainty', ok: true, failure: null,
            probabilityA: null, orders: [], score: certainty[k]!,
            rationale: `mean token log-probability ${certainty[k]!.toFixed(3)} over ${sample.logprobs.length} tokens; the group's mean ${mean.toFixed(3)}: the policy is ${certainty[k]! >= mean ? 'surer' : 'less sure'} of this answer than of its others`,
            principle: null, labelerModel: 'self-certainty', templateVersion: 'mean-logprob-1' });
        }
        bySample.get(sample.id)!.push(store.get('judgment', id)!);
      });
    }
  }
  if (w.corpusSupport > 0) {
    if (!context.corpusSupport) throw new Error('feedback.corpusSupport > 0, but this run has no reference text to check samples against (feedback.corpus)');
    for (const sample of rollout.samples) {
      const id = recordId('judgment', { source: 'corpus-support', sample: sample.id });
      if (!store.get('judgment', id)) {
        const checked = context.corpusSupport(sample.text);
        const rationale = checked.verdicts.length === 0 ? 'no sentences' : checked.verdicts.map((v) => `${v.verdict}: "${v.sentence}"`).join('; ');
        store.put({ id, kind: 'judgment', round, parents: [sample.id], stage: 'feedback', source: 'corpus-support', ok: true, failure: null,
          probabilityA: null, orders: [], score: checked.score, rationale: `${checked.supported} supported, ${checked.contradicted} contradicted, ${checked.unsupported} unsupported of ${checked.sentences} checked: ${rationale}`,
          principle: null, labelerModel: 'corpus-support', templateVersion: 'corpus-support-1' });
      }
      bySample.get(sample.id)!.push(store.get('judgment', id)!);
    }
  }
  return { bySample, pairs, requested: store.count('judgment') - before };
}

/** A fitted reward model's scores of a round's samples (N·K,), and the id of its reward-model record. */
export interface ModelScores { id: string; scores: Float32Array }

/**
 * Σ_source weight · component per sample; components: pairwise 2·P(win) − 1 averaged over the pairs its text was in
 * (0 when all K samples are the same text), pointwise reward, self-supervised 2·agreement − 1, self-certainty its mean
 * token log-prob minus its group's mean, corpus support its score. A fitted model's
 * component is 2·σ(r_i − r_j) − 1 averaged over the group's other distinct texts j (its soft label, the pairwise
 * scale): 'reward-model' (rewards.mode reward-model) takes the pairwise weight, the direct pairwise component staying
 * in the record with weight 0 for comparison; 'labeled-anchors' takes feedback.labeledAnchors.
 */
export function rewardStage(context: RoundContext, round: number, rollout: RoundSamples, feedback: Feedback,
  models: Partial<Record<'reward-model' | 'labeled-anchors', ModelScores>> = {}): RewardRecord[] {
  const w = context.config.feedback, K = rollout.samples.length / Math.max(rollout.prompts.length, 1), fitted = models['reward-model'];
  const weights: Record<string, number> = { 'pairwise-ai': fitted ? 0 : w.pairwise, 'pointwise-ai': w.pointwise, 'self-supervised': w.selfSupervised,
    'self-certainty': w.selfCertainty, 'corpus-support': w.corpusSupport,
    'labeled-anchors': w.labeledAnchors, ...fitted && { 'reward-model': w.pairwise } };
  const kept = (source: string) => weights[source]! > 0 || (fitted !== undefined && source === 'pairwise-ai');
  // Self-certainty is centred in its group: a sample's mean log-prob minus the group's mean (the judgments keep the raw value).
  const groupCertainty = w.selfCertainty > 0 ? rollout.prompts.map((_, n) => {
    const group = rollout.samples.slice(n * K, (n + 1) * K);
    return group.reduce((a, s) => a + meanLogprob(s)!, 0) / group.length;
  }) : [];
  return rollout.samples.map((sample, b) => {
    const judgments = feedback.bySample.get(sample.id)!.filter((j) => j.ok);
    const parts: Record<string, number[]> = {};
    for (const j of judgments) {
      const first = j.source === 'pairwise-ai' && context.store.get('sample', j.parents[0]!)!.text === sample.text;
      const value = j.source === 'pairwise-ai' ? 2 * (first ? j.probabilityA! : 1 - j.probabilityA!) - 1
        : j.source === 'pointwise-ai' ? (j.score! - 5.5) / 4.5 : j.source === 'corpus-support' ? j.score!
        : j.source === 'self-certainty' ? j.score! - groupCertainty[Math.floor(b / K)]! : 2 * j.score! - 1;
      (parts[j.source] ??= []).push(value);
    }
    for (const [source, model] of Object.entries(models)) {
      const start = Math.floor(b / K) * K, seen = new Set([sample.text]), r = model.scores;
      for (let k = start; k < start + K; k++) {
        const other = rollout.samples[k]!;
        if (seen.has(other.text)) continue;
        seen.add(other.text);
        (parts[source] ??= []).push(2 / (1 + Math.exp(-(r[b]! - r[k]!))) - 1);
      }
    }
    const components = Object.fromEntries(Object.keys(weights).filter(kept)
      .map((s) => [s, parts[s] ? parts[s]!.reduce((a, x) => a + x, 0) / parts[s]!.length : 0]));
    const total = Object.entries(components).reduce((a, [s, c]) => a + weights[s]! * c, 0);
    const record: RewardRecord = { id: recordId('reward', sample.id), kind: 'reward', round,
      parents: [sample.id, ...Object.values(models).map((m) => m.id), ...judgments.map((j) => j.id)],
      components, weights: Object.fromEntries(Object.keys(components).map((s) => [s, weights[s]!])), total,
      ...fitted && { rewardModelScore: fitted.scores[b]! }, ...models['labeled-anchors'] && { anchorModelScore: models['labeled-anchors'].scores[b]! } };
    context.store.put(record);
    return context.store.get('reward', record.id)!;
  });
}

/** Policy gradient on the rewards (advantages recorded per sample), or DPO on the judged pairs. */
export async function updateStage(context: RoundContext, round: number, rollout: RoundSamples, rewards: RewardRecord[], feedback: Feedback): Promise<Record<string, number>> {
  const { policy, store } = context;
  if (context.config.update.kind === 'external') return { ...(await externalUpdate(context, round)) };
  if (policy.kind === 'endpoint' || !rollout.batch) throw new Error('policy.kind endpoint is trained by an external command only (update.kind external)');
  const batch = rollout.batch;
  if (policy.learnsFromPairs) {
    const tokensOf = new Map(rollout.samples.map((s, b) => [s.id, { prompt: batch.tokens.slice(b * batch.T, b * batch.T + batch.promptLength), response: Int32Array.from(s.tokens) }]));
    const pairs: TokenPreferencePair[] = feedback.pairs.filter((j) => j.ok && j.probabilityA !== 0.5).map((j) => {
      const aWins = j.probabilityA! > 0.5, a = tokensOf.get(j.parents[0]!)!, b = tokensOf.get(j.parents[1]!)!;
      return { prompt: unpad(a.prompt, batch, j.parents[0]!, rollout.samples), chosen: (aWins ? a : b).response, rejected: (aWins ? b : a).response, label: Math.max(j.probabilityA!, 1 - j.probabilityA!) };
    }).filter((p) => p.chosen.length > 0 && p.rejected.length > 0);
    if (pairs.length === 0) return { pairs: 0 };
    return { pairs: pairs.length, ...(await policy.learnPairs(pairs, seedFor(context, `dpo|${round}`))) };
  }
  const { advantages, metrics } = await policy.learn(batch, Float32Array.from(rewards, (r) => r.total));
  rewards.forEach((reward, b) => store.put({ id: recordId('advantage', reward.id), kind: 'advantage', round, parents: [reward.id], advantage: advantages[b]! }));
  return metrics;
}

/** The prompt tokens of a sample's row without the left padding. (P_b,) */
function unpad(padded: Int32Array, batch: RolloutBatch, sampleId: string, samples: SampleRecord[]): Int32Array {
  const b = samples.findIndex((s) => s.id === sampleId), start = batch.keyMask.subarray(b * batch.T, (b + 1) * batch.T).indexOf(1);
  return padded.slice(start);
}
