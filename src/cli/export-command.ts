// `rlaif export --run DIR --round N --format trl|openai [--out FILE]`: one round's AI-labeled preferences from a run
// folder as TRL or OpenAI preference JSONL (src/pipeline/run-export.ts). Leaves out Parquet (convert with rlaif judge).
import { join } from 'node:path';
import type { Command } from 'commander';
import { exportRound } from '../pipeline/run-export.ts';

export function registerExportCommand(program: Command): void {
  program.command('export').description("export one round's AI-labeled preference pairs of an `rlaif run` folder")
    .requiredOption('--run <dir>', 'the run folder')
    .requiredOption('--round <n>', 'the round (1, 2, ...)')
    .option('--format <format>', 'trl (conversational) or openai', 'trl')
    .option('--out <file>', 'output JSONL (default <run>/export/round-<n>.<format>.jsonl)')
    .action((options: { run: string; round: string; format: string; out?: string }) => {
      if (!/^\d+$/.test(options.round)) throw new Error(`--round must be a non-negative integer, got '${options.round}'`);
      if (options.format !== 'trl' && options.format !== 'openai') throw new Error(`--format must be trl or openai, got '${options.format}'`);
      const path = options.out ?? join(options.run, 'export', `round-${options.round}.${options.format}.jsonl`);
      const count = exportRound({ runDir: options.run, round: Number(options.round), format: options.format, path });
      console.log(`${count} preference pairs → ${path}`);
    });
}
