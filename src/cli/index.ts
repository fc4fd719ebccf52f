// The `rlaif` command line: one commander program, each subcommand registered from its own file.
// Subcommands live beside this file as `<name>-command.ts` and export `register<Name>Command(program)`.
import { Command } from 'commander';

const program = new Command();
program.name('rlaif').description('Reinforcement learning from AI feedback').showHelpAfterError();

// Subcommand registrations (one line each, keep sorted).
import { registerDemoCommand } from './demo-command.ts'; registerDemoCommand(program);
import { registerJudgeCommand } from './judge-command.ts'; registerJudgeCommand(program);
import { registerTrainCommand } from './train-command.ts'; registerTrainCommand(program);

await program.parseAsync(process.argv);
