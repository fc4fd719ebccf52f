// One judging job over a dataset of pairs into a run folder: cache.jsonl (append-only, the resume point), then, once
// every pair is judged, preferences.jsonl (+ .parquet), failures.jsonl, audit.json/.txt and usage.json.
// Pairs come from a dataset or are sampled from a policy first (sampled-pairs.ts); judge.kind picks pairwise, pointwise
// or rubric labeling (configured-judge.ts). Lee et al. 2023 (arXiv 2309.00267).
import { existsSync } from 'node:fs';
import { openRunFolder, writeFileAtomic } from '../algorithms/run-folder.ts';
import { isAbsolute, join, resolve } from 'node:path';
import type { ChatModelV1 } from '../feedback/chat-model-v1.ts';
import { JudgmentCache } from '../feedback/judgment-cache.ts';
import { runJudgments, type CachedJudgment } from '../feedback/judge-runner.ts';
import { auditLabeler, formatAudit, type LabelerAudit } from '../feedback/labeler-audit.ts';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { OpenAICompatibleProvider } from '../feedback/providers/openai-compatible-provider.ts';
import { RequestExecutor, costOf, type UsageTotals } from '../feedback/request-executor.ts';
import { configuredJudge, type PairResult } from './configured-judge.ts';
import { readWithDuckDb, writeParquet } from '../data/duckdb-format.ts';
import { readHhRlhf } from '../data/hh-rlhf-format.ts';
import { loadInProcessModel } from './in-process-model.ts';
import { goldCandidate, judgedRecord, preparePair } from '../data/judged-pairs.ts';
import { writeJsonl } from '../data/jsonl-file.ts';
import { readOpenAIPreference } from '../data/openai-preference-format.ts';
import { samplePairs } from './sampled-pairs.ts';
import type { PairProvenance, PreferenceRecord } from '../data/preference-record.ts';
import type { JudgeRunConfig } from './judge-run-config.ts';
import { readTrl, writeTrl } from '../data/trl-format.ts';

export interface JudgeRunEvents {
  onStart?: (total: number, alreadyCached: number) => void;
  onResult?: (id: string, kind: string, fromCache: boolean) => void;
  onRetry?: (message: string) => void;
  onSample?: (done: number, total: number) => void; // prompts sampled so far, when pairs come from a policy
}

export interface JudgeRunSummary {
  runDirectory: string;
  pairs: number;
  judged: number; // ok results
  failures: number; // typed failures
  fromCache: number;
  judgedNow: number;
  interrupted: boolean; // outputs other than the cache are written only when false
  audit: LabelerAudit | null;
  usage: UsageTotals & { cost: number };
}

export async function readPairs(path: string, format: NonNullable<JudgeRunConfig['input']>['format']): Promise<PreferenceRecord[]> {
  switch (format) {
    case 'hh-rlhf':
      return readHhRlhf(path);
    case 'trl':
      return readTrl(path);
    case 'openai':
      return readOpenAIPreference(path);
    case 'parquet':
    case 'duckdb-jsonl':
      return readWithDuckDb(path);
  }
}

/** The labeler: an OpenAI-compatible server, or the project's Transformer in this process. */
function buildProvider(config: JudgeRunConfig['provider'], at: (path: string) => string): ChatModelV1 {
  if (config.kind === 'openai-compatible') return new OpenAICompatibleProvider({ baseURL: config.baseURL, model: config.model, apiKeyEnvironmentVariable: config.apiKeyEnvironmentVariable });
  return new InProcessProvider(loadInProcessModel(config.model, at));
}

export interface JudgeRunOptions {
  signal?: AbortSignal;
  events?: JudgeRunEvents;
  /** Tests only: the labeler to use instead of the one `config.provider` names (e.g. a scripted fake). No config reaches it. */
  languageModel?: ChatModelV1;
}

/**
 * Runs one judging job in its run folder, holding the folder's lock (a second `rlaif judge` on it is refused naming
 * this process) and refusing a folder that holds another kind of run; config.json is written once the pairs are read.
 */
export async function runJudgeJob(config: JudgeRunConfig, baseDirectory: string, options: JudgeRunOptions = {}): Promise<JudgeRunSummary> {
  const dir = isAbsolute(config.output.runDirectory) ? config.output.runDirectory : resolve(baseDirectory, config.output.runDirectory);
  // Any config change may resume: the cache is keyed by the judge's identity, so changed judging is judged anew.
  const opened = openRunFolder({ dir, kind: 'judge', config, resumableKeys: Object.keys(config), hasProgress: (d) => existsSync(join(d, 'cache.jsonl')) });
  try {
    return await judgeInFolder(config, baseDirectory, options, opened.start);
  } finally {
    opened.release();
  }
}

async function judgeInFolder(config: JudgeRunConfig, baseDirectory: string, options: JudgeRunOptions, start: () => void): Promise<JudgeRunSummary> {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDirectory, path));
  const runDirectory = at(config.output.runDirectory);

  const all = config.input ? await readPairs(at(config.input.path), config.input.format) : await samplePairs(config.sample!, at, runDirectory, options.events?.onSample);
  const limit = config.input?.limit ?? config.sample?.limit;
  const records = limit ? all.slice(0, limit) : all;
  const provider = options.languageModel ?? buildProvider(config.provider, at);
  start();
  const executor = new RequestExecutor(provider, {
    concurrency: config.requests.concurrency,
    timeoutMs: config.requests.timeoutMs,
    retry: { maxAttempts: config.requests.maxAttempts, baseDelayMs: config.requests.baseDelayMs, maxDelayMs: config.requests.maxDelayMs, maxRetryAfterMs: config.requests.maxRetryAfterMs },
    onRetry: ({ attempt, error, delayMs }) => options.events?.onRetry?.(`retry ${attempt} after ${error.kind} (${error.message}); waiting ${Math.round(delayMs)} ms`),
  });
  const { judge: settings } = config;
  const { kind, judge, identity, template, constitution } = configuredJudge(settings, executor, at);

  const prepared = records.map((record) => preparePair(record, settings.seed));
  const cache = JudgmentCache.open<CachedJudgment<PairResult>>(join(runDirectory, 'cache.jsonl'));
  const keyOf = JudgmentCache.keyer(identity);
  const alreadyCached = prepared.filter((pair) => cache.get(keyOf(pair.input)) !== undefined).length;
  options.events?.onStart?.(records.length, alreadyCached);
  let outcome;
  try {
    outcome = await runJudgments(
      prepared.map((pair) => pair.input),
      {
        judge,
        identity,
        cache,
        concurrency: config.requests.concurrency,
        retryFailed: config.retryFailed,
        signal: options.signal,
        onResult: (input, judgment, fromCache) => options.events?.onResult?.(input.id, judgment.result.kind, fromCache),
      },
    );
  } finally {
    cache.close();
  }
  const usage = { ...executor.totals, cost: costOf(executor.totals, config.cost) };
  const summary: JudgeRunSummary = { runDirectory, pairs: records.length, judged: 0, failures: 0, fromCache: outcome.fromCache, judgedNow: outcome.judgedNow, interrupted: outcome.interrupted, audit: null, usage };
  if (outcome.interrupted) return summary;

  const constitutionName = constitution ? `${constitution.name}@${constitution.version}` : null;
  const preferences: PreferenceRecord[] = [];
  const failures: unknown[] = [];
  const auditItems = records.map((record, index) => {
    const judgment = outcome.judgments[index]!;
    const { result } = judgment;
    const provenance: PairProvenance = { judge: kind, provider: provider.provider, model: provider.modelId, templateVersion: template.version, templateHash: template.contentHash, constitution: constitutionName, seed: settings.seed, judgedAt: judgment.judgedAt };
    const judged = judgedRecord(record, prepared[index]!, result, provenance);
    if (judged) preferences.push(judged);
    else if (result.kind === 'invalid') {
      const failure = { id: record.id, reason: result.reason, detail: result.detail, raw: result.raw, source: record.source ?? null };
      // Scored kinds keep both candidates' results (the failed one's raw text, the other's score) and which was which.
      failures.push('scores' in result ? { ...failure, judge: kind, candidate: result.candidate, candidateA: prepared[index]!.candidateA, scores: result.scores } : failure);
    }
    return { gold: config.input ? goldCandidate(prepared[index]!) : null, result };
  });
  summary.judged = preferences.length;
  summary.failures = failures.length;
  summary.audit = auditLabeler(auditItems, settings.tieMargin, kind);
  writeTrl(join(runDirectory, 'preferences.jsonl'), preferences, 'conversational');
  if (config.output.parquet) await writeParquet(join(runDirectory, 'preferences.parquet'), preferences);
  writeJsonl(join(runDirectory, 'failures.jsonl'), failures);
  writeFileAtomic(join(runDirectory, 'audit.json'), `${JSON.stringify(summary.audit, null, 2)}\n`);
  const gold = config.input ? 'Gold labels: the dataset\'s chosen response.' : 'Pairs sampled from a policy have no gold label: agreement, kappa and calibration are n/a; position bias and ties are still measured.';
  const position = kind === 'pairwise'
    ? 'Same position preferred: share of pairs whose two single-order labels chose the same position (position bias; averaging both orders cancels it in the label).'
    : `Judge kind '${kind}': each response was scored alone and P(A preferred) = P(score_A > score_B) + P(equal)/2, so position figures are n/a, not 0.`;
  const note = `${gold} ${position}`;
  writeFileAtomic(join(runDirectory, 'audit.txt'), `${formatAudit(summary.audit)}\n\n${note}\n`);
  writeFileAtomic(join(runDirectory, 'usage.json'), `${JSON.stringify({ ...usage, cacheHits: outcome.fromCache, judgedNow: outcome.judgedNow }, null, 2)}\n`);
  return summary;
}
