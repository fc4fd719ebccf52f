// `rlaif judge --config judge.yaml`: judges a dataset of pairs with the RLAIF labeler recipe, with a progress line that
// shows waiting, retries and the last error; Ctrl-C stops cleanly and re-running the same command continues from the
// cache; too many failures exit non-zero with what to do. Writes the run folder (see judge-run.ts).
// Pairs come from a dataset or are sampled from a policy model (config `sample`); judge.kind picks pairwise, pointwise
// or rubric labeling. Recipe: Lee et al. 2023 (arXiv 2309.00267).
import { SingleBar, Presets } from 'cli-progress';
import { InvalidArgumentError, type Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import pino from 'pino';
import { formatAudit } from '../feedback/labeler-audit.ts';
import { describeConfig } from '../pipeline/describe-config.ts';
import { judgeRunConfigSchema, loadJudgeRunConfig, parseJudgeRunConfig } from '../pipeline/judge-run-config.ts';
import { configForDisk, runJudgeJob, runRedactor, type JudgeRunSummary } from '../pipeline/judge-run.ts';
import { progressLine, type JudgeProgressState } from './judge-progress.ts';

export interface JudgeCommandOptions {
  config: string;
  runDirectory?: string;
  limit?: number;
  retryFailed?: boolean;
  progress?: boolean;
}

/** `--limit`: a whole number of pairs, at least 1; anything else is an error, never "judge everything". */
export function parseLimit(value: string | number): number {
  const limit = typeof value === 'number' ? value : /^\s*\d+\s*$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isSafeInteger(limit) || limit < 1) throw new InvalidArgumentError(`--limit must be a whole number of pairs, at least 1; got '${value}'`);
  return limit;
}

/** The command's work without process concerns; `signal` interrupts it. */
export async function judgeCommand(options: JudgeCommandOptions, signal?: AbortSignal): Promise<JudgeRunSummary> {
  const configPath = resolve(options.config);
  const limit = options.limit === undefined ? undefined : parseLimit(options.limit);
  const loaded = loadJudgeRunConfig(configPath);
  const config = parseJudgeRunConfig(
    {
      ...loaded,
      ...(loaded.input ? { input: { ...loaded.input, ...(limit ? { limit } : {}) } } : {}),
      ...(loaded.sample ? { sample: { ...loaded.sample, ...(limit ? { limit } : {}) } } : {}),
      output: { ...loaded.output, ...(options.runDirectory ? { runDirectory: resolve(options.runDirectory) } : {}) },
      retryFailed: options.retryFailed || loaded.retryFailed,
    },
    configPath,
  );
  const baseDirectory = dirname(configPath);
  const runDirectory = isAbsolute(config.output.runDirectory) ? config.output.runDirectory : resolve(baseDirectory, config.output.runDirectory);
  try {
    mkdirSync(runDirectory, { recursive: true });
  } catch (error) {
    throw new Error(`output.runDirectory: ${runDirectory}: cannot create the run folder: ${(error as Error).message}`);
  }
  const redact = runRedactor(config);
  // Every message is redacted before pino sees it (an error text may echo the key); the paths cover structured fields.
  const log = pino.destination({ dest: join(runDirectory, 'judge.log'), sync: true });
  const logger = pino(
    { base: null, redact: { paths: ['apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers'], censor: '[redacted]' }, hooks: { logMethod(args, method) { method.apply(this, args.map((arg) => (typeof arg === 'string' ? redact(arg) : arg)) as Parameters<typeof method>); } } },
    log,
  );
  const bar = options.progress === false ? null : new SingleBar({ format: '{line}', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  const state: JudgeProgressState = { total: 0, done: 0, failures: 0, cached: 0, retries: 0, lastError: null, startedAt: Date.now(), lastResultAt: Date.now() };
  const show = (): void => bar?.update(state.done, { line: progressLine(state, Date.now()) });
  const ticker = bar ? setInterval(show, 1000) : null;
  ticker?.unref();
  try {
    const summary = await runJudgeJob(config, baseDirectory, {
      signal,
      events: {
        onStart: (total, alreadyCached) => {
          logger.info({ event: 'judge-start', total, alreadyCached, judge: config.judge.kind, provider: config.provider.kind, model: config.provider.model }, 'judge-start');
          Object.assign(state, { total, startedAt: Date.now(), lastResultAt: Date.now() });
          bar?.start(total, 0, { line: progressLine(state, Date.now()) });
        },
        onResult: (id, kind, fromCache) => {
          if (kind !== 'ok') {
            state.failures++;
            if (!fromCache) logger.warn({ event: 'judge-error', id }, 'judge-error');
          }
          if (fromCache) state.cached++;
          state.done++;
          state.lastResultAt = Date.now();
          show();
        },
        onRetry: (event) => {
          state.retries++;
          state.lastError = `${event.kind}: ${event.message}`;
          logger.info({ event: 'request-retry', attempt: event.attempt, kind: event.kind, delayMs: Math.round(event.delayMs) }, `retry ${event.attempt} after ${event.kind} (${event.message}); waiting ${Math.round(event.delayMs)} ms`);
          show();
        },
        onWarning: (message) => {
          logger.warn({ event: 'judge-warning' }, message);
          if (options.progress !== false) process.stderr.write(`\nwarning: ${message}\n`);
        },
        onSample: (done, total) => {
          if (done === total) logger.info({ event: 'sample-end', prompts: total }, 'sample-end');
          if (options.progress !== false) process.stderr.write(`\rsampling pairs: ${done}/${total} prompts`);
          if (options.progress !== false && done === total) process.stderr.write('\n');
        },
      },
    });
    bar?.stop();
    logger.info({ event: 'judge-end', judged: summary.judged, failures: summary.failures, failureReasons: summary.failureReasons, interrupted: summary.interrupted, usage: summary.usage }, 'judge-end');
    if (summary.failed) logger.error({ event: 'judge-failed' }, summary.failed);
    return summary;
  } catch (error) {
    bar?.stop();
    logger.error({ event: 'judge-error' }, (error as Error)?.message ?? String(error));
    throw error;
  } finally {
    if (ticker) clearInterval(ticker);
    // judge.log is closed (synced, then closed, on libuv's threads, not awaited): a process that judges many times,
    // a bench or a library user, keeps no descriptor per run
    log.end();
  }
}

/** `rlaif judge --print-config`: the parsed config with each key's description, as YAML, credentials redacted as on disk. */
export function printJudgeConfig(configPath: string): string {
  const config = loadJudgeRunConfig(configPath);
  return describeConfig(judgeRunConfigSchema, configForDisk(config, runRedactor(config)));
}

export function registerJudgeCommand(program: Command): void {
  program
    .command('judge')
    .description('judge a dataset of preference pairs, or pairs sampled from a policy, with an AI labeler: pairwise (two-step CoT, soft labels, both orders), or each response scored alone (judge.kind pointwise 1-10 or rubric 0-5); resumable')
    .requiredOption('-c, --config <path>', 'judge config YAML (--print-config shows every key, its default and what it means)')
    .option('-o, --run-directory <path>', 'run folder (overrides output.runDirectory)')
    .option('-n, --limit <count>', 'judge only the first N pairs (a whole number, at least 1)', parseLimit)
    .option('--retry-failed', 'judge again pairs whose cached result is a typed failure')
    .option('--no-progress', 'no progress bar')
    .option('--print-config', 'print the config (every default filled in, each key with its description; credentials redacted) as YAML, and exit')
    .action(async (options: JudgeCommandOptions & { printConfig?: boolean }) => {
      if (options.printConfig) {
        process.stdout.write(printJudgeConfig(options.config));
        return;
      }
      const controller = new AbortController();
      const onInterrupt = (): void => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\ninterrupt: finishing nothing new; judged pairs are kept in the cache (Ctrl-C again to quit at once)\n');
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      try {
        const summary = await judgeCommand(options, controller.signal);
        if (summary.failed && summary.interrupted) {
          process.stderr.write(`rlaif judge: ${summary.failed}\n`);
          process.exitCode = 1;
          return;
        }
        if (summary.interrupted) {
          const done = summary.fromCache + summary.judgedNow;
          process.stderr.write(`interrupted: ${done}/${summary.pairs} pairs judged and cached in ${summary.runDirectory}; run the same command again to continue\n`);
          process.exitCode = 130;
          return;
        }
        process.stdout.write(`${formatAudit(summary.audit!)}\n\n`);
        process.stdout.write(`${summary.judged} judged, ${summary.failures} typed failures, ${summary.fromCache} from cache, ${summary.usage.requests} requests (${summary.usage.retries} retries), ${summary.usage.promptTokens}+${summary.usage.completionTokens} tokens, cost ${summary.usage.cost.toFixed(4)}\n`);
        process.stdout.write(`run folder: ${summary.runDirectory}\n`);
        if (summary.failed) {
          process.stderr.write(`rlaif judge: the run did not do its job.\n${summary.failed}\n`);
          process.exitCode = 1;
        }
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
}
