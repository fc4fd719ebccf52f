// Fused causal attention on the native backend, cache-hot: median µs of one forward and one backward over the tiny
// GPT's per-layer shape (B 16, H 4, T = S 64, D 32). Leaves out the other backends and cold-cache effects (in a
// training step the same kernels take ~1.5-2x this: q/k/v and the probabilities come from L3 or memory).
// Run: node --import tsx bench/attention.ts   (RLAIF_THREADS / RLAIF_CPU pick threads and level)
import { createNativeBackend } from '../src/engine/backends/native-backend.ts';

const backend = createNativeBackend();
const B = 16, H = 4, T = 64, S = 64, D = 32;
const params = { B, H, Hkv: H, T, S, D, causal: true, scale: 1 / Math.sqrt(D), keyMask: null };
const fill = (n: number): Float32Array => Float32Array.from({ length: n }, (_, i) => Math.sin(i * 1.3));
const q = fill(B * H * T * D), k = fill(B * H * S * D), v = fill(B * H * S * D);
const out = new Float32Array(B * H * T * D), probs = new Float32Array(B * H * T * S);
const dq = new Float32Array(q.length), dk = new Float32Array(k.length), dv = new Float32Array(v.length);

function medianMicroseconds(run: () => void): number {
  for (let i = 0; i < 50; i++) run();
  const times: number[] = [];
  for (let i = 0; i < 300; i++) {
    const t0 = performance.now();
    run();
    times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[150]! * 1000;
}

const forward = medianMicroseconds(() => backend.attention(q, k, v, out, probs, params));
const backwardUs = medianMicroseconds(() => backend.attentionBackward(q, k, v, probs, out, dq, dk, dv, params));
console.log(`attention native/${backend.cpu} threads=${backend.threads} B${B} H${H} T${T} D${D} causal: forward ${forward.toFixed(0)} µs, backward ${backwardUs.toFixed(0)} µs`);
