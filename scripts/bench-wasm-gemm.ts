// Wasm GEMM throughput with bench/matmul.ts's matmulGflops, single-threaded and with all threads, plus the cost of
// copying the operands into linear memory and back. Leaves out the other kernels and backends (npm run bench).
// Usage: node --import tsx scripts/bench-wasm-gemm.ts [n ...]   (default 512 1024; RLAIF_WASM_THREADS sets threads)
import { matmulGflops } from '../bench/matmul.ts';
import { WasmBackend } from '../src/engine/backends/wasm-backend.ts';
import { defaultWasmThreads, WasmRuntime } from '../src/engine/backends/wasm/wasm-runtime.ts';

const single = new WasmBackend(new WasmRuntime(1));
const multi = new WasmBackend(new WasmRuntime(defaultWasmThreads()));
multi.runtime.startThreads();
await new Promise((resolve) => setTimeout(resolve, 300)); // let the workers instantiate
const sizes = process.argv.slice(2).map(Number);
for (const n of sizes.length ? sizes : [512, 1024]) {
  const reps = n <= 512 ? 41 : 15;
  const one = matmulGflops(single, n, reps);
  const all = matmulGflops(multi, n, reps);
  // Copy overhead: A and B in, C out, as gemm() does with beta = 0.
  const src = new Float32Array(n * n), rt = multi.runtime, times: number[] = [];
  for (let r = 0; r < reps; r++) {
    const t0 = performance.now();
    rt.reset();
    rt.put('bench', src, n * n); const at = rt.put('bench', src, n * n); rt.get('bench', at, src, n * n);
    times.push(performance.now() - t0);
  }
  times.sort((x, y) => x - y);
  const copyMs = times[times.length >> 1], gemmMs = (2 * n ** 3) / (all * 1e6);
  console.log(`RESULT matmul_${n}_gflops_wasm_1thread ${one.toFixed(1)}`);
  console.log(`RESULT matmul_${n}_gflops_wasm ${all.toFixed(1)}  (threads ${multi.threads}; copies ${copyMs.toFixed(3)} ms = ` +
    `${(100 * copyMs / gemmMs).toFixed(1)}% of the call)`);
}
