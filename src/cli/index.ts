// The `rlaif` command line: one commander program, each subcommand registered from its own file.
// Subcommands live beside this file as `<name>-command.ts` and export `register<Name>Command(program)`.
import { readFileSync } from 'node:fs';
import { Command } from 'commander';

// package.json is two folders up both from src/cli/ (run through tsx) and from dist/cli/ (the compiled package).
const { version } = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as { version: string };
const program = new Command();
program.name('rlaif').description('Reinforcement learning from AI feedback').version(version, '-V, --version', 'print the rlaif version')
  .showHelpAfterError();

// Subcommand registrations (one line each, keep sorted).
import { registerAblationCommand } from './ablation-command.ts'; registerAblationCommand(program);
import { registerDemoCommand } from './demo-command.ts'; registerDemoCommand(program);
import { registerExportCommand } from './export-command.ts'; registerExportCommand(program);
import { registerJudgeCommand } from './judge-command.ts'; registerJudgeCommand(program);
import { registerRunCommand } from './run-command.ts'; registerRunCommand(program);
import { registerServeCommand } from './serve-command.ts'; registerServeCommand(program);
import { registerTestbedCommand } from './testbed-command.ts'; registerTestbedCommand(program);
import { registerTrainCommand } from './train-command.ts'; registerTrainCommand(program);
import { registerTuneCommand } from './tune-command.ts'; registerTuneCommand(program);
import { registerWorkerCommand } from './worker-command.ts'; registerWorkerCommand(program);

try {
  await program.parseAsync(process.argv);
} catch (error) {
  // Bad input is reported as one line naming the problem; RLAIF_DEBUG=1 shows the stack too.
  const message = error instanceof Error ? error.message : String(error);
  process.stderr.write(`rlaif ${process.argv[2] ?? ''}: ${message}\n`);
  if (process.env.RLAIF_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
  process.exitCode = 1;
}
