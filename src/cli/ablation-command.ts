// `rlaif ablation <config> [--seed N] [--out DIR]`: one `rlaif run` per variant of an ablation YAML (e.g.
// examples/ablation-feedback-sources.yaml: each feedback source alone, then mixed), then the table of their gold
// figures (src/pipeline/ablation.ts). Run it again after a kill: finished variants are read back, the others resume.
import type { Command } from 'commander';
import { runAblation } from '../pipeline/ablation.ts';

export function registerAblationCommand(program: Command): void {
  program.command('ablation').description('one rlaif run per variant of an ablation config, then a table of their gold figures; resumes after a kill')
    .argument('<config>', 'ablation YAML: base (rlaif run keys every variant shares) and variants (name → keys merged over base)')
    .option('--seed <n>', 'world seed for every variant (overrides the configs)')
    .option('--out <dir>', 'folder holding one run folder per variant and ablation.tsv (default runs/ablation-seed<seed>)')
    .action(async (config: string, options: { seed?: string; out?: string }) => {
      if (options.seed !== undefined && !/^\d+$/.test(options.seed)) throw new Error(`--seed must be a non-negative integer, got '${options.seed}'`);
      const result = await runAblation({ configPath: config, seed: options.seed === undefined ? undefined : Number(options.seed), out: options.out,
        onVariant: (name, index, total) => process.stderr.write(`variant ${index + 1}/${total}: ${name}\n`) });
      console.log(result.table);
      console.log(`table: ${result.tsvPath}\nruns: ${result.rows.map((r) => r.dir).join(', ')}`);
    });
}
