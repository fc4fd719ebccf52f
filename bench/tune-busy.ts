// What a tuning search beside other work would have recorded, and what it would cost later (issue 16: tuned where it
// runs): the pool-threshold search (pool-search.ts) in this process twice, on a quiet machine and beside a process
// keeping one CPU busy, each with the others' CPUs measured meanwhile (cpu-busy.ts: past RLAIF_TUNE_BUSY_CPUS the
// first-use tuner records the compiled defaults instead); then, on the quiet machine, 16 prompts of the embedded
// policy's shape (an untrained checkpoint, 24-28 tokens each, as the serve bench's c16 round admits: a prefill's
// products have 448 rows) generating 32 tokens each, timed under each search's thresholds and under the compiled ones,
// alternating, medians of `rounds`: the prefill's ms and a 16-row decode step's.
// The machine's tuning cache is not read. A diagnostic, not a RESULT.
// node --import tsx bench/tune-busy.ts [rounds 7]   (RLAIF_CPU picks the level)
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createNativeBackend, nativePoolThresholds, setNativePoolThresholds } from '../src/engine/backends/native-backend.ts';
import { measureOthersBusy } from '../src/engine/cpu-busy.ts';
import { median } from '../src/engine/gemm-search.ts';
import { searchPoolThresholds } from '../src/engine/pool-search.ts';
import { BatchEngine } from '../src/models/batch-engine.ts';
import { loadPretrained } from '../src/models/checkpoint.ts';
import { Transformer } from '../src/models/transformer.ts';
import { writeUntrainedCheckpoint } from './untrained-checkpoint.ts';

const rounds = Number(process.argv[2] ?? 7);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`tune-busy: rounds must be a whole number >= 1, got ${process.argv[2]}`);
process.env.RLAIF_TUNING_FILE = '/dev/null/none';   // the compiled thresholds to start from, not this machine's choice
process.env.RLAIF_AUTOTUNE = '0';
const backend = createNativeBackend();
if (backend.threads < 2) { console.log('# tune-busy: one thread, no pool to tune'); process.exit(0); }
const compiled = nativePoolThresholds();

const quiet = measureOthersBusy(() => searchPoolThresholds({ level: backend.cpu, rounds: 5 }));
const spinner = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
await new Promise((resolve) => setTimeout(resolve, 300));
let busy: typeof quiet;
try {
  busy = measureOthersBusy(() => searchPoolThresholds({ level: backend.cpu, rounds: 5 }));
} finally {
  spinner.kill();
}
await new Promise((resolve) => setTimeout(resolve, 300));
const mega = (macs: number) => `${(macs / 2 ** 20).toFixed(1)}M`;
const sets = {
  compiled,
  quiet: { general: quiet.value.general, fewRows: quiet.value.fewRows, stream: quiet.value.stream },
  busy: { general: busy.value.general, fewRows: busy.value.fewRows, stream: busy.value.stream },
};
const others = (o: number | null) => (o === null ? 'not known' : `${o.toFixed(2)} CPUs`);
console.log(`# ${backend.cpu}, ${backend.threads} threads: compiled pool from ${mega(compiled.general)} (few rows ${mega(compiled.fewRows)}, streamed ${mega(compiled.stream)}) multiply-adds`);
console.log(`# quiet search (others ${others(quiet.othersCpus)}): pool from ${mega(sets.quiet.general)} (few rows ${mega(sets.quiet.fewRows)}, streamed ${mega(sets.quiet.stream)})`);
console.log(`# busy search (others ${others(busy.othersCpus)}): pool from ${mega(sets.busy.general)} (few rows ${mega(sets.busy.fewRows)}, streamed ${mega(sets.busy.stream)})`);

const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-tune-busy-'));
try {
  writeUntrainedCheckpoint(directory, 'policy');
  const pretrained = loadPretrained(directory);
  const engine = new BatchEngine({ model: new Transformer(pretrained.config, pretrained.parameters), maxBatch: 64, padTokenId: 0 });
  const vocabulary = Math.min(900, pretrained.config.vocabSize - 4);
  const prompts = Array.from({ length: 16 }, (_, i) => Array.from({ length: 24 + (i % 5) }, (_, j) => (i * 31 + j * 7) % vocabulary + 4));
  /** One generation: its prefill's ms and its decode steps' ms a step. */
  const generation = async () => {
    const { prefill, decode } = engine.stats.ms, steps = engine.stats.decodeSteps;
    await Promise.all(prompts.map((prompt, i) => engine.generate({ prompt, maxNewTokens: 32, sampling: { temperature: 1 }, seed: i, stopTokenIds: [], topLogprobs: 0 })));
    return { prefill: engine.stats.ms.prefill - prefill, step: (engine.stats.ms.decode - decode) / (engine.stats.decodeSteps - steps) };
  };
  const times: Record<string, { prefill: number[]; step: number[] }> = {};
  for (let round = -1; round < rounds; round++) {
    for (const [name, thresholds] of Object.entries(sets)) {
      setNativePoolThresholds(thresholds);
      const runs = [await generation(), await generation(), await generation()];
      if (round < 0) continue;
      const t = (times[name] ??= { prefill: [], step: [] });
      t.prefill.push(median(runs.map((r) => r.prefill)));
      t.step.push(median(runs.map((r) => r.step)));
    }
  }
  setNativePoolThresholds(compiled);
  const base = { prefill: median(times.quiet!.prefill), step: median(times.quiet!.step) };
  for (const [name, t] of Object.entries(times)) {
    console.log(`${name.padEnd(8)} 16-prompt prefill ${median(t.prefill).toFixed(2)} ms (${(median(t.prefill) / base.prefill).toFixed(2)}x the quiet search's), 16-row decode step ${median(t.step).toFixed(3)} ms (${(median(t.step) / base.step).toFixed(2)}x)`);
  }
} finally {
  rmSync(directory, { recursive: true, force: true });
}
