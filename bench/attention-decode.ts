// One decode-attention call of a batched serving step (16 rows, 4 heads of 32, one query each, a KV cache of 104
// positions read in place) timed alone: hot (the same call again and again) and after a 12 MB sweep through other
// memory (as in a decode step, where the other layers' weights and caches run between two calls of a layer). Median
// microseconds a call per context length. Compare `bench/decode-profile.ts` (the same calls inside generation).
// Run: RLAIF_THREADS=1 node --import tsx bench/attention-decode.ts
import { getBackend } from '../src/engine/backends/index.ts';

const backend = getBackend(), B = 16, H = 4, D = 32, L = 104;
const random = (n: number) => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 12.9898) * 0.5);
const sweep = new Float32Array(3 * 1024 * 1024);
const median = (x: number[]) => [...x].sort((a, b) => a - b)[x.length >> 1]!;
const q = random(B * H * D), k = random(B * H * L * D), v = random(B * H * L * D), out = new Float32Array(B * H * D);
const keyMask = new Float32Array(B * L).fill(1);
for (const S of [40, 72, 104]) {
  const probs = new Float32Array(B * H * S);
  const p = { B, H, Hkv: H, T: 1, S, D, causal: true, scale: 1 / Math.sqrt(D), keyMask, keyCapacity: L };
  const hot: number[] = [], cold: number[] = [];
  for (let i = 0; i < 300; i++) backend.attention(q, k, v, out, probs, p);
  for (let round = 0; round < 7; round++) {
    const t0 = performance.now();
    for (let i = 0; i < 300; i++) backend.attention(q, k, v, out, probs, p);
    hot.push((performance.now() - t0) / 300 * 1000);
  }
  for (let round = 0; round < 200; round++) {
    let z = 0;
    for (let i = 0; i < sweep.length; i += 16) z += sweep[i]!;
    sweep[round] = z * 0;
    const t0 = performance.now();
    backend.attention(q, k, v, out, probs, p);
    cold.push((performance.now() - t0) * 1000);
  }
  console.log(`attention decode B ${B} H ${H} D ${D} S ${S} (capacity ${L}): hot ${median(hot).toFixed(1)} us a call, after a 12 MB sweep ${median(cold).toFixed(1)} us`);
}
