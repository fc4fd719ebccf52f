// One judging job over a dataset of pairs into a run folder: cache.jsonl (append-only, the resume point), then, once
// every pair is judged, preferences.jsonl (+ .parquet), failures.jsonl, audit.json/.txt and usage.json.
// Pairs come from a dataset or are sampled from a policy first (judge-inputs.ts); judge.kind picks pairwise, pointwise
// or rubric labeling (configured-judge.ts). Only final results are cached (provider failures are retried next run); a run
// over maxFailureShare reports what failed and what to do; nothing written holds a credential. Leaves out distribution
// over processes. Lee et al. 2023 (arXiv 2309.00267).
import { existsSync } from 'node:fs';
import { openRunFolder, type OpenedRun, writeAll, writeFileAtomicAsync } from '../algorithms/run-folder.ts';
import { isAbsolute, join, resolve } from 'node:path';
import { goldCandidate, judgedRecord, preparePair } from '../data/judged-pairs.ts';
import { writeJsonlAsync } from '../data/jsonl-file.ts';
import type { PairProvenance, PreferenceRecord } from '../data/preference-record.ts';
import { writeParquet } from '../data/duckdb-format.ts';
import { writeTrlAsync } from '../data/trl-format.ts';
import type { ChatModelV1, ChatWarning } from '../feedback/chat-model-v1.ts';
import { JudgmentCache } from '../feedback/judgment-cache.ts';
import { runJudgments, type CachedJudgment } from '../feedback/judge-runner.ts';
import { auditLabeler, formatAudit, type LabelerAudit } from '../feedback/labeler-audit.ts';
import { InProcessProvider } from '../feedback/providers/in-process-provider.ts';
import { OpenAICompatibleProvider } from '../feedback/providers/openai-compatible-provider.ts';
import { RequestExecutor, costOf, type UsageTotals } from '../feedback/request-executor.ts';
import { createRedactor, redactDeep, redactSecrets, redactUrl, urlSecrets } from '../feedback/secret-redaction.ts';
import { configuredJudge, type PairResult } from './configured-judge.ts';
import { loadInProcessModel } from './in-process-model.ts';
import { loadPairs, underConfigKey } from './judge-inputs.ts';
import type { JudgeRunConfig } from './judge-run-config.ts';

export { readPairs } from './judge-inputs.ts';

export interface RetryEvent {
  attempt: number; // the try that failed, 1-based
  kind: string; // the provider error kind: rate-limited, server-error, timeout, connection, bad-response
  message: string; // redacted
  delayMs: number; // wait before the next try
}

export interface JudgeRunEvents {
  onStart?: (total: number, alreadyCached: number) => void;
  onResult?: (id: string, kind: string, fromCache: boolean) => void;
  onRetry?: (event: RetryEvent) => void;
  onWarning?: (message: string) => void; // each warning once: a setting the labeler ignored, pairs left out
  onSample?: (done: number, total: number) => void; // prompts sampled so far, when pairs come from a policy
}

export interface JudgeRunSummary {
  runDirectory: string;
  pairs: number; // pairs judged this run (after the limit, without those left out as too long)
  judged: number; // ok results
  failures: number; // typed failures
  failureReasons: Record<string, number>; // typed failures by reason: provider-error (retried next run), unparseable-verdict, ...
  tooLong: number; // pairs left out: over maxPairCharacters
  fromCache: number;
  judgedNow: number;
  interrupted: boolean; // outputs other than the cache are written only when false
  audit: LabelerAudit | null;
  usage: UsageTotals & { cost: number };
  warnings: string[]; // as sent to onWarning
  failed: string | null; // why the run did not do its job (failures over maxFailureShare) and what to do; null when it did
}

/** The labeler: an OpenAI-compatible server (its keep-alive connections closed by `close`), or the project's Transformer in this process. */
function buildProvider(config: JudgeRunConfig['provider'], at: (path: string) => string): ChatModelV1 & { close?(): void } {
  if (config.kind === 'openai-compatible') return new OpenAICompatibleProvider({ baseURL: config.baseURL, model: config.model, apiKeyEnvironmentVariable: config.apiKeyEnvironmentVariable });
  return new InProcessProvider(loadInProcessModel(config.model, at));
}

export interface JudgeRunOptions {
  signal?: AbortSignal;
  events?: JudgeRunEvents;
  /** Tests only: the labeler to use instead of the one `config.provider` names (e.g. a scripted fake). No config reaches it. */
  languageModel?: ChatModelV1;
  environment?: Record<string, string | undefined>; // where the API key is read (default process.env); for redaction
}

/** Removes the configured key's value and the base URL's credentials, and anything shaped like a credential. */
export function runRedactor(config: JudgeRunConfig, environment: Record<string, string | undefined> = process.env): (text: string) => string {
  if (config.provider.kind !== 'openai-compatible') return redactSecrets;
  return createRedactor([environment[config.provider.apiKeyEnvironmentVariable], ...urlSecrets(config.provider.baseURL)]);
}

/** The config as written into the run folder: the base URL without credentials, every string redacted. */
export function configForDisk(config: JudgeRunConfig, redact: (text: string) => string): unknown {
  const provider = config.provider.kind === 'openai-compatible' ? { ...config.provider, baseURL: redactUrl(config.provider.baseURL) } : config.provider;
  return redactDeep({ ...config, provider }, redact);
}

function warningText(warning: ChatWarning, config: JudgeRunConfig, modelId: string): string {
  if (warning.setting === 'topLogprobs' && config.judge.kind !== 'rubric') return `labeler ${modelId}: ${warning.details}; verdicts are read from ${config.judge.votes} sampled votes instead (hard, noisier labels; counted in the audit as 'labels from votes')`;
  return `labeler ${modelId} did not honour '${warning.setting}': ${warning.details}`;
}

function providerToCheck(config: JudgeRunConfig): string {
  return config.provider.kind === 'openai-compatible'
    ? `the server at provider.baseURL (${redactUrl(config.provider.baseURL)}), provider.model '${config.provider.model}' and the key in $${config.provider.apiKeyEnvironmentVariable} (HTTP 401/403: the key was refused)`
    : 'the in-process labeler (provider.model)';
}

/** Why a run with too many failures did not do its job, and what to do about each kind of failure. */
function failureSummary(summary: JudgeRunSummary, config: JudgeRunConfig, lastProviderError: string | null): string {
  const share = summary.failures / summary.pairs;
  const reasons = Object.entries(summary.failureReasons).map(([reason, count]) => `${count} ${reason}`).join(', ');
  const lines = [`${summary.failures} of ${summary.pairs} pairs failed (${(100 * share).toFixed(1)}% > maxFailureShare ${(100 * config.maxFailureShare).toFixed(1)}%): ${reasons}.`];
  if (summary.failureReasons['provider-error']) {
    lines.push(`Provider errors${lastProviderError ? ` (last: ${lastProviderError})` : ''} are not cached: check ${providerToCheck(config)}, then run the same command again to retry only those pairs.`);
  }
  const modelFailures = summary.failures - (summary.failureReasons['provider-error'] ?? 0);
  if (modelFailures > 0) lines.push(`${modelFailures} verdicts the labeler gave could not be read; they are cached: see 'raw' in failures.jsonl, adjust the template or judge.maxParseAttempts, then re-run with --retry-failed.`);
  return lines.join('\n');
}

/**
 * Runs one judging job in its run folder, holding the folder's lock (a second `rlaif judge` on it is refused naming
 * this process) and refusing a folder that holds another kind of run; config.json (credentials redacted) is written
 * once the pairs are read. Errors, logs and files never hold the API key or URL credentials.
 */
export async function runJudgeJob(config: JudgeRunConfig, baseDirectory: string, options: JudgeRunOptions = {}): Promise<JudgeRunSummary> {
  const redact = runRedactor(config, options.environment);
  try {
    const dir = isAbsolute(config.output.runDirectory) ? config.output.runDirectory : resolve(baseDirectory, config.output.runDirectory);
    // Any config change may resume: the cache is keyed by the judge's identity, so changed judging is judged anew.
    const onDisk = configForDisk(config, redact) as object;
    const opened = await underConfigKey('output.runDirectory', () => openRunFolder({ dir, kind: 'judge', config: onDisk, resumableKeys: Object.keys(onDisk), freshFlag: null, hasProgress: (d) => existsSync(join(d, 'cache.jsonl')) }));
    const job: JobResources = { opened, starting: null, built: null };
    try {
      return await judgeInFolder(config, baseDirectory, options, job, redact);
    } finally {
      job.built?.close?.(); // a job's own connections end with it (a server may keep idle ones open for a minute)
      await job.starting?.catch(() => undefined); // its files land before the lock goes; an earlier error wins
      opened.release();
    }
  } catch (error) {
    const message = (error as Error)?.message ?? String(error);
    const redacted = redact(message);
    throw redacted === message ? error : new Error(redacted);
  }
}

/** What judgeInFolder starts and runJudgeJob ends: the folder's config.json and run.json being written, and the provider built. */
interface JobResources {
  readonly opened: OpenedRun;
  starting: Promise<void> | null;
  built: { close?(): void } | null;
}

async function judgeInFolder(config: JudgeRunConfig, baseDirectory: string, options: JudgeRunOptions, job: JobResources, redact: (text: string) => string): Promise<JudgeRunSummary> {
  const at = (path: string): string => (isAbsolute(path) ? path : resolve(baseDirectory, path));
  const runDirectory = at(config.output.runDirectory);
  const warnings: string[] = [];
  const warn = (message: string): void => {
    const text = redact(message);
    warnings.push(text);
    options.events?.onWarning?.(text);
  };

  const { records, tooLong } = await loadPairs(config, at, runDirectory, options.events?.onSample);
  if (tooLong.length > 0) {
    const named = tooLong.slice(0, 5).map((pair) => `'${pair.id}' (${pair.source}, ${pair.characters} characters)`).join(', ');
    warn(`${tooLong.length} pair(s) over maxPairCharacters (${config.maxPairCharacters}) left out, not sent: ${named}${tooLong.length > 5 ? `, and ${tooLong.length - 5} more (see failures.jsonl)` : ''}`);
  }
  let provider = options.languageModel;
  if (!provider) provider = job.built = await underConfigKey('provider.model', () => buildProvider(config.provider, at));
  // config.json and run.json sync on libuv's threads while the judge is set up; awaited before the cache opens.
  const starting = (job.starting = job.opened.startAsync());
  const executor = new RequestExecutor(provider, {
    concurrency: config.requests.concurrency,
    timeoutMs: config.requests.timeoutMs,
    retry: { maxAttempts: config.requests.maxAttempts, baseDelayMs: config.requests.baseDelayMs, maxDelayMs: config.requests.maxDelayMs, maxRetryAfterMs: config.requests.maxRetryAfterMs },
    onRetry: ({ attempt, error, delayMs }) => options.events?.onRetry?.({ attempt, kind: error.kind, message: redact(error.message), delayMs }),
    onWarning: (warning) => warn(warningText(warning, config, provider.modelId)),
  });
  const { judge: settings } = config;
  const { kind, judge: judgeOne, identity, template, constitution, warnings: judgeWarnings } = configuredJudge(settings, executor, at);
  for (const message of judgeWarnings) warn(message);
  if (!provider.supportsLogprobs && settings.kind !== 'rubric') {
    warn(`labeler ${provider.modelId} gives no logprobs: verdicts are read from ${settings.votes} sampled votes (hard, noisier labels; counted in the audit as 'labels from votes')`);
  }
  let lastProviderError: string | null = null;
  // Pairs failing in a row with provider errors (server down, key refused) stop the run: more would repeat the error.
  const breaker = new AbortController();
  const signal = options.signal ? AbortSignal.any([options.signal, breaker.signal]) : breaker.signal;
  let failedInARow = 0;
  // Failures are redacted before they reach the cache or any file: an error body may echo the key.
  const judgeRedacted = async (input: Parameters<typeof judgeOne>[0], judgeSignal?: AbortSignal): Promise<PairResult> => {
    const result = await judgeOne(input, judgeSignal);
    if (result.kind === 'ok' || result.reason !== 'provider-error') failedInARow = 0;
    if (result.kind === 'ok') return result;
    if (result.reason === 'provider-error') {
      lastProviderError = redact(result.detail);
      if (++failedInARow >= config.requests.maxConsecutiveFailures) breaker.abort();
    }
    return redactDeep(result, redact);
  };

  const prepared = records.map((record) => preparePair(record, settings.seed));
  await starting;
  const cache = JudgmentCache.open<CachedJudgment<PairResult>>(join(runDirectory, 'cache.jsonl'));
  const keyOf = JudgmentCache.keyer(identity);
  // A fresh run's empty cache holds none: no need to hash every pair twice (the runner keys each pair as it takes it).
  const alreadyCached = cache.size === 0 ? 0 : prepared.filter((pair) => cache.get(keyOf(pair.input)) !== undefined).length;
  options.events?.onStart?.(records.length, alreadyCached);
  let outcome;
  try {
    outcome = await runJudgments(
      prepared.map((pair) => pair.input),
      {
        judge: judgeRedacted,
        identity,
        cache,
        concurrency: config.requests.concurrency,
        retryFailed: config.retryFailed,
        signal,
        onResult: (input, judgment, fromCache) => options.events?.onResult?.(input.id, judgment.result.kind, fromCache),
      },
    );
  } finally {
    cache.close();
  }
  const usage = { ...executor.totals, cost: costOf(executor.totals, config.cost) };
  const summary: JudgeRunSummary = { runDirectory, pairs: records.length, judged: 0, failures: 0, failureReasons: {}, tooLong: tooLong.length, fromCache: outcome.fromCache, judgedNow: outcome.judgedNow, interrupted: outcome.interrupted, audit: null, usage, warnings, failed: null };
  if (breaker.signal.aborted && !options.signal?.aborted) {
    const done = outcome.judgments.filter((judgment) => judgment !== null && judgment.result.kind === 'ok').length;
    summary.failed = redact(`stopped after ${config.requests.maxConsecutiveFailures} pairs in a row failed with provider errors (last: ${lastProviderError}); ${done} of ${records.length} pairs are judged and cached. ` +
      `Provider errors are not cached: check ${providerToCheck(config)}, then run the same command again to continue.`);
  }
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
      summary.failureReasons[result.reason] = (summary.failureReasons[result.reason] ?? 0) + 1;
      const failure = { id: record.id, reason: result.reason, detail: result.detail, raw: result.raw, source: record.source ?? null };
      // Scored kinds keep both candidates' results (the failed one's raw text, the other's score) and which was which.
      failures.push('scores' in result ? { ...failure, judge: kind, candidate: result.candidate, candidateA: prepared[index]!.candidateA, scores: result.scores } : failure);
    }
    return { gold: config.input ? goldCandidate(prepared[index]!) : null, result };
  });
  summary.judged = preferences.length;
  summary.failures = failures.length;
  const audit = auditLabeler(auditItems, settings.tieMargin, kind);
  summary.audit = audit;
  for (const pair of tooLong) failures.push({ id: pair.id, reason: 'too-long', detail: `${pair.characters} characters > maxPairCharacters ${config.maxPairCharacters}; not sent`, raw: '', source: pair.source });
  const gold = config.input ? 'Gold labels: the dataset\'s chosen response.' : 'Pairs sampled from a policy have no gold label: agreement, kappa and calibration are n/a; position bias and ties are still measured.';
  const position = kind === 'pairwise'
    ? 'Same position preferred: share of pairs whose two single-order labels chose the same position (position bias; averaging both orders cancels it in the label).'
    : `Judge kind '${kind}': each response was scored alone and P(A preferred) = P(score_A > score_B) + P(equal)/2, so position figures are n/a, not 0.`;
  const warningCounts = Object.fromEntries([...executor.warnings].map(([setting, { warning, count }]) => [setting, { count, details: redact(warning.details) }]));
  // Each output is written whole and synced; the syncs run in parallel on libuv's threads while the next is built.
  await writeAll([
    ...(config.output.parquet ? [() => writeParquet(join(runDirectory, 'preferences.parquet'), preferences)] : []),
    () => writeTrlAsync(join(runDirectory, 'preferences.jsonl'), preferences, 'conversational'),
    () => writeJsonlAsync(join(runDirectory, 'failures.jsonl'), redactDeep(failures, redact)),
    () => writeFileAtomicAsync(join(runDirectory, 'audit.json'), `${JSON.stringify(audit, null, 2)}\n`),
    () => writeFileAtomicAsync(join(runDirectory, 'audit.txt'), `${formatAudit(audit)}\n\n${gold} ${position}\n`),
    () => writeFileAtomicAsync(join(runDirectory, 'usage.json'), `${JSON.stringify({ ...usage, cacheHits: outcome.fromCache, judgedNow: outcome.judgedNow, failureReasons: summary.failureReasons, tooLong: tooLong.length, warnings: warningCounts }, null, 2)}\n`),
  ]);
  if (summary.failures > config.maxFailureShare * summary.pairs) summary.failed = redact(failureSummary(summary, config, lastProviderError));
  return summary;
}
