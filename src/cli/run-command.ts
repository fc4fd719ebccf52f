// `rlaif run [--config F] [--seed N] [--out DIR]`: the RLAIF loop as the main job (src/pipeline/rlaif-run.ts) with a
// progress bar per stage (plain lines when stderr is not a terminal), the round table, RESULT lines and the paths of summary.json and report.html. Run it again
// with the same arguments after a kill to resume. --queue sends judgments and rollouts to `rlaif worker`s
// (worker-command.ts).
import { Presets, SingleBar } from 'cli-progress';
import type { Command } from 'commander';
import { rlaifRun } from '../pipeline/rlaif-run.ts';
import { describeRunConfig, readRunConfig } from '../pipeline/run-config.ts';
import { plainProgress } from './plain-progress.ts';
import type { ProgressEvent } from '../pipeline/round-context.ts';

function integer(value: string, name: string): number {
  if (!/^\d+$/.test(value)) throw new Error(`${name} must be a non-negative integer, got '${value}'`);
  return Number(value);
}

export function registerRunCommand(program: Command): void {
  program.command('run').description('RLAIF rounds: rollout, AI feedback, rewards, update, evaluation, gate; resumes after a kill')
    .option('--config <file>', 'YAML config (every key optional; none = the embedded testbed)')
    .option('--seed <n>', 'world seed (overrides the config)')
    .option('--out <dir>', 'run folder (default runs/rlaif-run-seed<seed>)')
    .option('--queue <url>', 'send judgments and rollouts to `rlaif worker --redis <url>` processes through BullMQ on this Redis (redis://host:port)')
    .option('--no-progress', 'no progress bars')
    .option('--print-config', 'print the config the run would use (every default filled in, each key with its description) as YAML, and exit')
    .action(async (options: { config?: string; seed?: string; out?: string; queue?: string; progress: boolean; printConfig?: boolean }) => {
      if (options.printConfig) {
        process.stdout.write(describeRunConfig(readRunConfig(options.config ?? null, options.seed === undefined ? {} : { seed: integer(options.seed, '--seed') })));
        return;
      }
      const bar = options.progress && process.stderr.isTTY ? new SingleBar({ format: 'round {round} {stage} {bar} {value}/{total}', stream: process.stderr }, Presets.shades_classic) : null;
      // Not on a terminal (a log, CI): plain lines, a stage's start, its tenths and its end.
      const lines = options.progress && !bar ? plainProgress((line) => process.stderr.write(`${line}\n`), 'rlaif run') : null;
      let current = '';
      const onProgress = (event: ProgressEvent) => {
        lines?.(`round ${event.round} ${event.stage}`, event.done, event.total);
        if (!bar) return;
        const key = `${event.round}:${event.stage}`;
        if (key !== current) { bar.stop(); bar.start(event.total, event.done, { round: event.round, stage: event.stage }); current = key; }
        else bar.setTotal(event.total), bar.update(event.done, { round: event.round, stage: event.stage });
      };
      try {
        const result = await rlaifRun({ configPath: options.config ?? null, seed: options.seed === undefined ? undefined : integer(options.seed, '--seed'), out: options.out, queue: options.queue ?? null, onProgress });
        bar?.stop();
        console.log(result.table);
        console.log(`stopped: ${result.outcome.stopReason}; final policy: round ${result.outcome.keptRound} (${result.dir}/checkpoints/round-${result.outcome.keptRound})`);
        for (const line of result.lines) console.log(line);
        console.log(`summary: ${result.dir}/summary.json\nreport: ${result.reportPath}`);
      } finally {
        bar?.stop();
      }
    });
}
