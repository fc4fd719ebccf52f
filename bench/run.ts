// `npm run bench`: every benchmark of the project in one run, each figure on its own line as `RESULT <name> <value>`
// (the anchor's convention), with PyTorch's figures from ../shared/anchors/torch_gpt_bench.py measured in the same run
// when `/usr/bin/python3 -c 'import torch'` works (`npm run bench:torch` installs Debian's python3-torch: root or
// sudo; RLAIF_BENCH_PYTHON names another interpreter, such as a virtual environment's), and our/their ratios; when
// it does not, the run says so and why, at the start and again at the end. The native
// train-step and matmul ratios over PyTorch come from three side-by-side rounds (the anchor, then ours at once: see
// sideBySide), the others from the first anchor run. Sections: engine models grpo judge judge-inprocess testbed run queue serve.
// Every run starts with `MACHINE` lines (CPU model, family/model/stepping, dispatch flags, kernel level, threads,
// GEMM blocking): a figure means nothing without the machine it came from. `--json FILE` records machine + figures.
// Usage: npm run bench [-- section ... [--json FILE]]      e.g. `npm run bench -- engine`
import { spawnSync } from 'node:child_process';
import { existsSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { availableBackends, getBackend, loadBackend, setBackend } from '../src/engine/index.ts';
import { describeMachine, formatMachine } from '../src/engine/machine.ts';
import { matmulBf16Gflops, matmulGflops } from './matmul.ts';
import { SectionRunner } from './sections.ts';
import { trainStepMs } from './train-step.ts';

/** ~1 min on a quiet 2-core machine with --decode124m; 10 min was not enough with 20 runnable processes on 2 cores. */
const ANCHOR_TIMEOUT_MS = 30 * 60_000;
const ANCHOR = fileURLToPath(new URL('../../shared/anchors/torch_gpt_bench.py', import.meta.url));
/** The interpreter that runs the anchor: Debian's python3-torch by default, or RLAIF_BENCH_PYTHON (a venv's python3). */
const PYTHON = process.env.RLAIF_BENCH_PYTHON || '/usr/bin/python3';
const args = process.argv.slice(2);
const jsonAt = args.indexOf('--json');
const jsonFile = jsonAt >= 0 ? args[jsonAt + 1] : undefined;
if (jsonAt >= 0 && !jsonFile) throw new Error('--json needs a file name');
// Without --json, jsonAt is -1 and `i !== jsonAt + 1` dropped the first section: `bench -- serve` ran every section.
const sections = jsonAt >= 0 ? args.filter((_, i) => i !== jsonAt && i !== jsonAt + 1) : args;
const known = ['engine', 'models', 'grpo', 'judge', 'judge-inprocess', 'testbed', 'run', 'queue', 'serve'];
for (const name of sections) if (!known.includes(name)) throw new Error(`unknown bench section "${name}" (${known.join(', ')})`);

// Every RESULT line printed (by this file or a section's module) is remembered, so ratios can be computed from them.
const printed = new Map<string, string>();
const print = console.log.bind(console);
console.log = (...args: unknown[]) => {
  const match = /^RESULT (\S+) (\S+)/.exec(args.map(String).join(' '));
  if (match) printed.set(match[1], match[2]);
  print(...args);
};
const wanted = (name: string) => sections.length === 0 || sections.includes(name);

export function result(name: string, value: number, digits = 1): void {
  console.log(`RESULT ${name} ${value.toFixed(digits)}`);
}

/** One run of the anchor (2 OpenBLAS threads, 1 torch thread): its figures, or why there are none. */
function anchorRun(decode124m: boolean): { figures: Map<string, number> } | { failed: string } {
  const run = spawnSync(PYTHON, [ANCHOR, '1', '--steps', '20', ...(decode124m ? ['--decode124m'] : [])], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '2' }, timeout: ANCHOR_TIMEOUT_MS,
  });
  if (run.status !== 0) {
    const why = run.error ? `${run.error.message} (limit ${ANCHOR_TIMEOUT_MS / 60_000} min: a loaded machine?)`
      : run.signal ? `killed by ${run.signal}` : `exit code ${run.status}`;
    return { failed: `the anchor failed: ${why}. ${run.stderr.slice(-500)}` };
  }
  const figures = new Map<string, number>();
  for (const line of run.stdout.split('\n')) {
    const m = /^RESULT (\S+) ([\d.]+)/.exec(line);
    if (m) figures.set(m[1], Number(m[2]));
  }
  return { figures };
}

/**
 * Runs the PyTorch anchor and returns its figures (printed as torch_ lines), or null without torch.
 * decode124m adds its GPT-2-small prefill/decode figures (`--decode124m`, ~30 s more).
 */
function torchAnchor(decode124m: boolean): Map<string, number> | null {
  if (!existsSync(ANCHOR)) return skipTorch(`no anchor script at ${ANCHOR} (it lives beside the repository, in ../shared/anchors)`);
  const probe = spawnSync(PYTHON, ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) {
    const why = probe.error ? probe.error.message : probe.stderr.trim().split('\n').at(-1) ?? `exit code ${probe.status}`;
    return skipTorch(`${PYTHON} cannot import torch (${why}); \`npm run bench:torch\` installs Debian's python3-torch (needs root or sudo), then run the bench again`);
  }
  const run = anchorRun(decode124m);
  if ('failed' in run) return skipTorch(run.failed);
  for (const [name, value] of run.figures) console.log(`RESULT torch_${name} ${value}`);
  return run.figures;
}

/**
 * Our native train step and 1024³ matmul beside PyTorch's, round by round: the anchor's plain run (~8 s), then ours at
 * once. This machine's speed drifts by tens of percent within a minute, and the first anchor run ends a minute or more
 * before our figures start (its --decode124m part comes last): one train-step ratio read 0.57 where the same run's
 * interleaved fp32 step said 0.48. The train-step ratio is the median round's (figures taken seconds apart). The
 * anchor's matmul figure is bimodal here (84.7 GFLOP/s in one of four plain runs in a row, 187-194 in the others), so
 * the matmul ratio is our median over PyTorch's best of every anchor run: a low PyTorch figure never flatters ours.
 */
function sideBySide(rounds: number, first: Map<string, number>): { trainStep: number; matmul: number } | null {
  const ratios: number[] = [], ours: number[] = [];
  let best = first.get('matmul_1024_gflops') ?? 0;
  setBackend('native');
  for (let round = 0; round < rounds; round++) {
    const run = anchorRun(false), theirs = 'figures' in run ? run.figures : null;
    if (!theirs?.get('train_step_ms') || !theirs.get('matmul_1024_gflops')) {
      console.log(`# side by side, round ${round}: ${'failed' in run ? run.failed : 'the anchor printed no train_step_ms or matmul_1024_gflops'}`);
      return null;
    }
    const step = trainStepMs(20), gflops = matmulGflops(loadBackend('native'), 1024, 10);
    ratios.push(step / theirs.get('train_step_ms')!);
    ours.push(gflops);
    best = Math.max(best, theirs.get('matmul_1024_gflops')!);
    console.log(`# side by side, round ${round}: train step ${step.toFixed(1)} ms against PyTorch's ${theirs.get('train_step_ms')} (${ratios.at(-1)!.toFixed(3)}), `
      + `matmul 1024³ ${gflops.toFixed(1)} GFLOP/s against ${theirs.get('matmul_1024_gflops')}`);
  }
  const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;
  console.log(`# side by side: matmul ${median(ours).toFixed(1)} GFLOP/s (our median) over PyTorch's best ${best}`);
  return { trainStep: median(ratios), matmul: median(ours) / best };
}

/** Why the PyTorch side was skipped (printed now and again at the end of the run), or null when it ran. */
let torchSkipped: string | null = null;
function skipTorch(reason: string): null {
  torchSkipped = reason;
  console.log(`# PyTorch side SKIPPED: ${reason}; no torch_ figures or ratios over torch in this run`);
  return null;
}

console.log(`# rlaif bench: node ${process.version}, backends: ${availableBackends().join(', ')}`);
const machine = describeMachine(getBackend());
for (const line of formatMachine(machine)) console.log(`MACHINE ${line}`);
const runner = new SectionRunner(wanted, (line) => console.log(line));
runner.checkPrerequisites(known);
const torch = wanted('engine') || wanted('models') ? torchAnchor(wanted('models')) : null;

await runner.run('engine', async () => {
  for (const name of availableBackends()) {
    const backend = loadBackend(name);
    setBackend(name);
    const slow = name === 'js';
    result(`matmul_512_gflops_${name}`, matmulGflops(backend, 512, slow ? 3 : 30));
    result(`matmul_1024_gflops_${name}`, matmulGflops(backend, 1024, slow ? 1 : 10));
    result(`train_step_ms_${name}`, trainStepMs(slow ? 3 : 20));
    if (name === 'native') {
      // bf16 matmul with float32 sums: A (1024, 1024) float32 rounded on the fly, W (1024, 1024) bf16 (Wᵀ)
      result('matmul_1024_gflops_native_bf16', matmulBf16Gflops(backend, 1024, 10));
      // The ratio from 5 interleaved rounds (10 products of each kind a round), the median round's: the two figures
      // above are taken seconds apart, and this machine's speed drifts by tens of percent (1.58-1.78 across runs).
      const rounds = Array.from({ length: 5 }, () => {
        const fp32 = matmulGflops(backend, 1024, 10), bf16 = matmulBf16Gflops(backend, 1024, 10);
        return { fp32, bf16, ratio: bf16 / fp32 };
      });
      console.log(`# bf16 matmul 1024³ interleaved with fp32, GFLOP/s: ${rounds.map((r) => `${r.bf16.toFixed(0)}/${r.fp32.toFixed(0)}`).join(' ')}`);
      result('ratio_matmul_1024_native_bf16_over_fp32', rounds.map((r) => r.ratio).sort((x, y) => x - y)[2]!, 3);
      // mixed-precision training: step time interleaved with fp32, held-out loss after 300 steps of each
      const { runMixedPrecisionBench } = await import('./mixed-precision.ts');
      runMixedPrecisionBench();
    }
  }
  // The native ratios (the bars') from side-by-side rounds; the others from the first anchor run (far from any bar).
  const paired = torch && availableBackends().includes('native') ? sideBySide(3, torch) : null;
  if (torch && availableBackends().includes('native') && !paired) console.log('# side-by-side rounds: the anchor failed; the native ratios below use the first anchor run');
  setBackend(availableBackends()[0]);
  if (torch) {
    for (const name of availableBackends()) {
      const ours = Number(lastResult(`matmul_1024_gflops_${name}`)), theirs = torch.get('matmul_1024_gflops');
      const step = Number(lastResult(`train_step_ms_${name}`)), torchStep = torch.get('train_step_ms');
      if (name === 'native' && paired) {
        console.log(`# native against the first anchor run (a minute apart): matmul ${(ours / theirs!).toFixed(3)}, train step ${(step / torchStep!).toFixed(3)}`);
        result('ratio_matmul_1024_native_over_torch', paired.matmul, 3);
        result('ratio_train_step_native_over_torch', paired.trainStep, 3);
        continue;
      }
      if (theirs) result(`ratio_matmul_1024_${name}_over_torch`, ours / theirs, 3);
      if (torchStep) result(`ratio_train_step_${name}_over_torch`, step / torchStep, 3);
    }
  }
});

await runner.run('models', async () => {
  const { runModelsBench } = await import('./models-bench.ts');
  await runModelsBench();
  if (torch) {
    for (const key of ['sample_kvcache_ms', 'sample_nocache_ms', 'prefill_124m_tok_s_b1', 'decode_124m_tok_s_b1',
      'decode_124m_tok_s_b8']) {
      const theirs = torch.get(key), ours = Number(lastResult(key));
      if (theirs && Number.isFinite(ours)) result(`ratio_${key}_over_torch`, ours / theirs, 3);
    }
  }
});

// The sections that print their own lines, in order; each module is loaded only when its section is wanted.
const laterSections: [string, () => Promise<void>][] = [
  ['grpo', async () => (await import('./grpo-bench.ts')).runGrpoBench()],
  ['judge', async () => (await import('./judge-bench.ts')).runJudgeBench()],
  ['judge-inprocess', async () => (await import('./judge-inprocess-bench.ts')).runJudgeInprocessBench()],
  ['testbed', async () => (await import('./testbed-bench.ts')).runTestbedBench()],
  ['run', async () => (await import('./run-bench.ts')).runLoopBench()],
  ['serve', async () => (await import('./serve-bench.ts')).runServeBench()],
  ['queue', async () => (await import('./queue-bench.ts')).runQueueBench()],
];
for (const [section, run] of laterSections) await runner.run(section, run);

if (torchSkipped) console.log(`# PyTorch side SKIPPED (no torch_ figures, no ratios over torch): ${torchSkipped}`);
const complete = runner.summarize();

if (jsonFile) {
  const commit = (spawnSync('git', ['rev-parse', 'HEAD'], { encoding: 'utf8' }).stdout ?? '').trim() || null;
  const results = Object.fromEntries([...printed].map(([name, value]) => [name, Number(value)]));
  const failed = Object.fromEntries(runner.failures);
  writeFileSync(jsonFile, `${JSON.stringify({ date: new Date().toISOString(), commit, sections, machine, results, failed }, null, 2)}\n`);
  console.log(`# recorded machine and ${printed.size} figures in ${jsonFile}${complete ? '' : ` (${runner.failures.size} section(s) failed: ${[...runner.failures.keys()].join(', ')})`}`);
}
if (!complete) process.exitCode = 1;

function lastResult(name: string): string {
  return printed.get(name) ?? 'NaN';
}
