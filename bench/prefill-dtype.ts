// `node --import tsx bench/prefill-dtype.ts`: a 512-token prefill of a GPT-2-small-shaped checkpoint (random weights,
// untrained-checkpoint.ts gpt2SmallCheckpoint, as bench/serve-dtype.ts) with its weight matrices in float32 and in bf16,
// alternately, twice each: ms per prefill (mean of two after a warm-up) and the four kernels that took longest
// (kernel-timer.ts). Leaves out the KV-cache copies of a judge or a server (see bench/serve-dtype.ts).
import { noGrad, scope } from '../src/engine/index.ts';
import { loadPretrained } from '../src/models/checkpoint.ts';
import { Transformer } from '../src/models/transformer.ts';
import { timeKernels } from './kernel-timer.ts';
import { gpt2SmallCheckpoint } from './untrained-checkpoint.ts';

const dir = gpt2SmallCheckpoint();
const timer = timeKernels({ on: false });
for (const weights of ['float32', 'bf16', 'float32', 'bf16'] as const) {
  const p = loadPretrained(dir, { weights });
  const model = new Transformer(p.config, p.parameters, p.bf16Weights);
  const ids = Int32Array.from({ length: 512 }, (_, i) => (i * 37) % 290 + 1);
  const run = () => noGrad(() => scope(() => { model.forward(ids, [1, 512], { lastOnly: true }); }));
  run();
  timer.stats.clear();
  timer.on = true;
  const t0 = performance.now();
  run(); run();
  const ms = (performance.now() - t0) / 2;
  timer.on = false;
  const top = [...timer.stats].sort((a, b) => b[1].ms - a[1].ms).slice(0, 4).map(([k, s]) => `${k} ${(s.ms / 2).toFixed(1)}`).join('; ');
  console.log(`${weights}: 512-token prefill ${ms.toFixed(1)} ms (${(512 / ms * 1000).toFixed(0)} tok/s) | ${top}`);
}
