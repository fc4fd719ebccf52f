// `rlaif judge --config judge.yaml`: judges a dataset of pairs with the RLAIF labeler recipe, with a progress bar;
// Ctrl-C stops cleanly and re-running the same command continues from the cache. Writes the run folder (see judge-run.ts).
// Pairs come from a dataset or are sampled from a policy model (config `sample`); judge.kind picks pairwise, pointwise
// or rubric labeling. Recipe: Lee et al. 2023 (arXiv 2309.00267).
import { SingleBar, Presets } from 'cli-progress';
import type { Command } from 'commander';
import { mkdirSync } from 'node:fs';
import { dirname, isAbsolute, join, resolve } from 'node:path';
import pino from 'pino';
import { formatAudit } from '../feedback/labeler-audit.ts';
import { loadJudgeRunConfig, parseJudgeRunConfig } from '../pipeline/judge-run-config.ts';
import { runJudgeJob, type JudgeRunSummary } from '../pipeline/judge-run.ts';

export interface JudgeCommandOptions {
  config: string;
  runDirectory?: string;
  limit?: number;
  retryFailed?: boolean;
  progress?: boolean;
}

/** The command's work without process concerns; `signal` interrupts it. */
export async function judgeCommand(options: JudgeCommandOptions, signal?: AbortSignal): Promise<JudgeRunSummary> {
  const configPath = resolve(options.config);
  const loaded = loadJudgeRunConfig(configPath);
  const config = parseJudgeRunConfig(
    {
      ...loaded,
      ...(loaded.input ? { input: { ...loaded.input, ...(options.limit ? { limit: options.limit } : {}) } } : {}),
      ...(loaded.sample ? { sample: { ...loaded.sample, ...(options.limit ? { limit: options.limit } : {}) } } : {}),
      output: { ...loaded.output, ...(options.runDirectory ? { runDirectory: resolve(options.runDirectory) } : {}) },
      retryFailed: options.retryFailed || loaded.retryFailed,
    },
    configPath,
  );
  const baseDirectory = dirname(configPath);
  const runDirectory = isAbsolute(config.output.runDirectory) ? config.output.runDirectory : resolve(baseDirectory, config.output.runDirectory);
  mkdirSync(runDirectory, { recursive: true });
  const logger = pino(
    { base: null, redact: { paths: ['apiKey', '*.apiKey', 'authorization', '*.authorization', 'headers'], censor: '[redacted]' } },
    pino.destination({ dest: join(runDirectory, 'judge.log'), sync: true }),
  );
  const bar = options.progress === false ? null : new SingleBar({ format: 'judging [{bar}] {value}/{total} pairs | {failures} failed | {cached} cached | eta {eta}s', stream: process.stderr, hideCursor: true }, Presets.shades_classic);
  let failures = 0;
  let cached = 0;
  try {
    const summary = await runJudgeJob(config, baseDirectory, {
      signal,
      events: {
        onStart: (total, alreadyCached) => {
          logger.info({ event: 'judge-start', total, alreadyCached, judge: config.judge.kind, provider: config.provider.kind, model: config.provider.model }, 'judge-start');
          bar?.start(total, 0, { failures, cached });
        },
        onResult: (id, kind, fromCache) => {
          if (kind !== 'ok') {
            failures++;
            if (!fromCache) logger.warn({ event: 'judge-error', id }, 'judge-error');
          }
          if (fromCache) cached++;
          bar?.increment(1, { failures, cached });
        },
        onRetry: (message) => logger.debug({ event: 'request-retry' }, message),
        onSample: (done, total) => {
          if (done === total) logger.info({ event: 'sample-end', prompts: total }, 'sample-end');
          if (options.progress !== false) process.stderr.write(`\rsampling pairs: ${done}/${total} prompts`);
          if (options.progress !== false && done === total) process.stderr.write('\n');
        },
      },
    });
    bar?.stop();
    logger.info({ event: 'judge-end', judged: summary.judged, failures: summary.failures, interrupted: summary.interrupted, usage: summary.usage }, 'judge-end');
    return summary;
  } catch (error) {
    bar?.stop();
    throw error;
  }
}

export function registerJudgeCommand(program: Command): void {
  program
    .command('judge')
    .description('judge a dataset of preference pairs, or pairs sampled from a policy, with an AI labeler: pairwise (two-step CoT, soft labels, both orders), or each response scored alone (judge.kind pointwise 1-10 or rubric 0-5); resumable')
    .requiredOption('-c, --config <path>', 'judge config YAML (see src/pipeline/judge-run-config.ts for every key)')
    .option('-o, --run-directory <path>', 'run folder (overrides output.runDirectory)')
    .option('-n, --limit <count>', 'judge only the first N pairs', (value) => Number.parseInt(value, 10))
    .option('--retry-failed', 'judge again pairs whose cached result is a typed failure')
    .option('--no-progress', 'no progress bar')
    .action(async (options: JudgeCommandOptions) => {
      const controller = new AbortController();
      const onInterrupt = (): void => {
        if (controller.signal.aborted) process.exit(130);
        process.stderr.write('\ninterrupt: finishing nothing new; judged pairs are kept in the cache (Ctrl-C again to quit at once)\n');
        controller.abort();
      };
      process.on('SIGINT', onInterrupt);
      try {
        const summary = await judgeCommand(options, controller.signal);
        if (summary.interrupted) {
          const done = summary.fromCache + summary.judgedNow;
          process.stderr.write(`interrupted: ${done}/${summary.pairs} pairs judged and cached in ${summary.runDirectory}; run the same command again to continue\n`);
          process.exitCode = 130;
          return;
        }
        process.stdout.write(`${formatAudit(summary.audit!)}\n\n`);
        process.stdout.write(`${summary.judged} judged, ${summary.failures} typed failures, ${summary.fromCache} from cache, ${summary.usage.requests} requests (${summary.usage.retries} retries), ${summary.usage.promptTokens}+${summary.usage.completionTokens} tokens, cost ${summary.usage.cost.toFixed(4)}\n`);
        process.stdout.write(`run folder: ${summary.runDirectory}\n`);
      } finally {
        process.off('SIGINT', onInterrupt);
      }
    });
}
