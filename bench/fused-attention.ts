// One layer's attention from its fused qkv projection, forward and backward, two ways in one process, alternating:
// fusedAttention (q, k and v read in place from qkv's rows, the output written with the heads merged) against the
// composition it replaced, splitHeads ×3 → attention → mergeHeads (two layout copies forward, their scatter-adds
// backward). Shapes: the reference tiny GPT's training step (B 16, T 64, C 128, 4 heads) and a GPT-2-small-shaped
// scoring batch (B 4, T 128, C 768, 12 heads). Prints median µs of each and the median per-round ratio (fused /
// composed); the two give the same bits (src/engine/ops/ops.test.ts).
// Run: node --import tsx bench/fused-attention.ts [rounds]
import { attention, backward, fusedAttention, mergeHeads, mul, parameter, Rng, scope, splitHeads, sum, type Tensor } from '../src/engine/index.ts';

const rounds = Number(process.argv[2] ?? 15);
if (!Number.isInteger(rounds) || rounds < 1) throw new Error(`fused-attention: rounds must be a positive integer, got ${process.argv[2]}`);
const median = (values: number[]) => [...values].sort((a, b) => a - b)[values.length >> 1]!;

for (const [label, B, T, C, H] of [['tiny GPT step', 16, 64, 128, 4], ['GPT-2 small scoring', 4, 128, 768, 12]] as const) {
  const D = C / H, rng = new Rng(3);
  const qkv = parameter(rng.fillNormal(new Float32Array(B * T * 3 * C), 0, 1), [B, T, 3 * C]);
  const weights = parameter(rng.fillNormal(new Float32Array(B * T * C), 0, 1), [B, T, C]);
  const layer = {
    fused: (x: Tensor) => fusedAttention(x, { heads: H, headDim: D, q: 0, k: C, v: 2 * C }),
    composed: (x: Tensor) => mergeHeads(attention(splitHeads(x, 0, H, D), splitHeads(x, C, H, D), splitHeads(x, 2 * C, H, D))),
  };
  const micros = (name: keyof typeof layer) => {
    const once = () => scope(() => { qkv.zeroGrad(); backward(sum(mul(layer[name](qkv), weights))); });
    once(); once();
    return median(Array.from({ length: 9 }, () => { const t0 = performance.now(); once(); return (performance.now() - t0) * 1000; }));
  };
  const fused: number[] = [], composed: number[] = [], ratios: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? (['composed', 'fused'] as const) : (['fused', 'composed'] as const);
    const times = {} as Record<keyof typeof layer, number>;
    for (const name of order) times[name] = micros(name);
    fused.push(times.fused); composed.push(times.composed); ratios.push(times.fused / times.composed);
  }
  console.log(`${label} (B ${B}, T ${T}, C ${C}, ${H} heads), forward + backward: fused ${median(fused).toFixed(0)} µs, composed ${median(composed).toFixed(0)} µs; fused / composed ${median(ratios).toFixed(3)} (rounds ${Math.min(...ratios).toFixed(2)}-${Math.max(...ratios).toFixed(2)})`);
}
