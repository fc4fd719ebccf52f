// How much of `rlaif judge`'s CPU is V8 compiling it (issue 13's judge_throughput_ratio_serve): runs the judge RUNS
// times (default 8) in one process against `rlaif serve` on the embedded testbed policy, 128 pairs (512 requests) each,
// 16 in flight, with V8's --trace-opt on, and sums the optimizing compiler's time per run ("completed compiling ...
// took a, b, c ms": prepare, execute, finalize; the execute part runs on a background thread, so it is CPU the
// server's prefill competes with on a small machine, and a client CPU figure counts it). Prints per run: the compile
// milliseconds, the functions compiled, the deoptimizations, and the client's CPU per request. A process that judges
// once (a user's `rlaif judge`) pays the first run's figure; the serve bench's rounds are runs 3-7 of its process.
// A diagnostic, not a RESULT.
// node --import tsx bench/judge-jit.ts [runs]
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';

const RUNS = Number(process.argv[2] ?? 8), PAIRS = 128;
const self = fileURLToPath(import.meta.url);

if (process.env.RLAIF_BENCH_JIT_CHILD !== '1') {
  // The parent: the same script under --trace-opt --trace-deopt, its output read line by line.
  const child = spawn(process.execPath, ['--trace-opt', '--trace-deopt', '--import', 'tsx', self, String(RUNS)], { env: { ...process.env, RLAIF_BENCH_JIT_CHILD: '1' }, stdio: ['ignore', 'pipe', 'inherit'] });
  let compileMs = 0, compiled = 0, deopts = 0;
  console.log(`# judge JIT: ${RUNS} runs of ${PAIRS} pairs (${4 * PAIRS} requests) in one process against rlaif serve, V8's optimizing compiler per run`);
  for await (const line of createInterface({ input: child.stdout! })) {
    const took = /completed compiling .*took ([\d.]+), ([\d.]+), ([\d.]+) ms/.exec(line);
    if (took) { compileMs += Number(took[1]) + Number(took[2]) + Number(took[3]); compiled++; continue; }
    if (line.includes('bailout (kind: deopt')) { deopts++; continue; }
    const run = /^RUN (\d+) (\S+) (\S+)$/.exec(line);
    if (run) {
      console.log(`run ${run[1]}: ${compileMs.toFixed(0)} ms compiling ${compiled} functions, ${deopts} deoptimizations; client CPU ${run[2]} ms/request, ${run[3]} s wall`);
      compileMs = 0; compiled = 0; deopts = 0;
    }
  }
  const code = await new Promise<number | null>((resolve) => child.on('exit', resolve));
  if (code !== 0) { console.error(`judge-jit: the traced process exited with ${code}`); process.exit(1); }
} else {
  const { judgeCommand } = await import('../src/cli/judge-command.ts');
  const { judgeConfigYaml, judgePairsJsonl, startServe } = await import('./serve-bench.ts');
  const { url, child: server } = await startServe(['--max-concurrency', '64', '--max-batch', '64']);
  const directory = mkdtempSync(join(tmpdir(), 'rlaif-bench-jit-'));
  try {
    writeFileSync(join(directory, 'pairs.jsonl'), judgePairsJsonl(PAIRS));
    for (let run = 0; run < RUNS; run++) {
      const config = join(directory, `judge-${run}.yaml`);
      writeFileSync(config, judgeConfigYaml(url, `run-${run}`));
      const started = performance.now(), cpu = process.cpuUsage();
      const summary = await judgeCommand({ config, progress: false });
      const used = process.cpuUsage(cpu);
      if (summary.judged !== PAIRS) throw new Error(`judged ${summary.judged} of ${PAIRS} pairs`);
      console.log(`RUN ${run} ${((used.user + used.system) / 1000 / (4 * PAIRS)).toFixed(3)} ${((performance.now() - started) / 1000).toFixed(2)}`);
    }
  } finally {
    server.kill();
    rmSync(directory, { recursive: true, force: true });
  }
}
