// `npm run bench`: every benchmark of the project in one run, each figure on its own line as `RESULT <name> <value>`
// (the anchor's convention), with PyTorch's figures from ../shared/anchors/torch_gpt_bench.py measured in the same run
// when `/usr/bin/python3 -c 'import torch'` works, and our/their ratios. Sections: engine models grpo judge.
// Usage: npm run bench [-- section ...]      e.g. `npm run bench -- engine`
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { cpus } from 'node:os';
import { fileURLToPath } from 'node:url';
import { availableBackends, loadBackend, setBackend } from '../src/engine/index.ts';
import { matmulGflops } from './matmul.ts';
import { trainStepMs } from './train-step.ts';

const ANCHOR = fileURLToPath(new URL('../../shared/anchors/torch_gpt_bench.py', import.meta.url));
const sections = process.argv.slice(2);

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

/** Runs the PyTorch anchor (2 OpenBLAS threads, 1 torch thread) and returns its figures, or null without torch. */
function torchAnchor(): Map<string, number> | null {
  if (!existsSync(ANCHOR)) { console.log(`# no anchor at ${ANCHOR}: skipping PyTorch`); return null; }
  const probe = spawnSync('/usr/bin/python3', ['-c', 'import torch'], { encoding: 'utf8' });
  if (probe.status !== 0) { console.log('# /usr/bin/python3 cannot import torch: skipping PyTorch (apt-get install -y python3-torch libopenblas0-pthread)'); return null; }
  const run = spawnSync('/usr/bin/python3', [ANCHOR, '1', '--steps', '20'], {
    encoding: 'utf8', env: { ...process.env, OPENBLAS_NUM_THREADS: '2' }, timeout: 600_000,
  });
  if (run.status !== 0) { console.log(`# PyTorch anchor failed: ${run.stderr.slice(-500)}`); return null; }
  const figures = new Map<string, number>();
  for (const line of run.stdout.split('\n')) {
    const m = /^RESULT (\S+) ([\d.]+)/.exec(line);
    if (m) { figures.set(m[1], Number(m[2])); console.log(`RESULT torch_${m[1]} ${m[2]}`); }
  }
  return figures;
}

console.log(`# rlaif bench: node ${process.version}, ${cpus().length} cores (${cpus()[0]?.model ?? 'unknown cpu'}), backends: ${availableBackends().join(', ')}`);
const torch = wanted('engine') || wanted('models') ? torchAnchor() : null;

if (wanted('engine')) {
  for (const name of availableBackends()) {
    const backend = loadBackend(name);
    setBackend(name);
    const slow = name === 'js';
    result(`matmul_512_gflops_${name}`, matmulGflops(backend, 512, slow ? 3 : 30));
    result(`matmul_1024_gflops_${name}`, matmulGflops(backend, 1024, slow ? 1 : 10));
    result(`train_step_ms_${name}`, trainStepMs(slow ? 3 : 20));
  }
  setBackend(availableBackends()[0]);
  if (torch) {
    for (const name of availableBackends()) {
      const ours = Number(lastResult(`matmul_1024_gflops_${name}`)), theirs = torch.get('matmul_1024_gflops');
      if (theirs) result(`ratio_matmul_1024_${name}_over_torch`, ours / theirs, 3);
      const step = Number(lastResult(`train_step_ms_${name}`)), torchStep = torch.get('train_step_ms');
      if (torchStep) result(`ratio_train_step_${name}_over_torch`, step / torchStep, 3);
    }
  }
}

if (wanted('models')) {
  const { runModelsBench } = await import('./models-bench.ts');
  await runModelsBench();
  if (torch) {
    for (const key of ['sample_kvcache_ms', 'sample_nocache_ms']) {
      const theirs = torch.get(key), ours = Number(lastResult(key));
      if (theirs && Number.isFinite(ours)) result(`ratio_${key}_over_torch`, ours / theirs, 3);
    }
  }
}

if (wanted('grpo')) {
  const { runGrpoBench } = await import('./grpo-bench.ts');
  await runGrpoBench();
}

if (wanted('judge')) {
  const { runJudgeBench } = await import('./judge-bench.ts');
  await runJudgeBench();
}

function lastResult(name: string): string {
  return printed.get(name) ?? 'NaN';
}
