// Generation benchmarks: sampling 64 new tokens for batch 16 on the reference tiny GPT with and without the KV cache
// (as ../shared/anchors/torch_gpt_bench.py's sample()), and prefill/decode tokens/s of a GPT-2-small-sized model
// (124M parameters, random weights) at batch 1 and 8, with the memory-bandwidth bound decode cannot beat; batch-1
// decode with bf16 weights (toBf16Weights: half the bytes per token) measured interleaved with float32's.
// Run directly: node --import tsx bench/models-bench.ts
import { loadavg } from 'node:os';
import { Worker } from 'node:worker_threads';
import { getBackend, noGrad, scope } from '../src/engine/index.ts';
import { NATIVE_ADDON_PATH } from '../src/engine/backends/native-backend.ts';
import { generate } from '../src/models/generate.ts';
import { toBf16Weights } from '../src/models/bf16-weights.ts';
import { initParameters } from '../src/models/parameters.ts';
import { gpt2SmallConfig, tinyGptConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';

function median(values: number[]): number {
  const sorted = [...values].sort((a, b) => a - b);
  return sorted[Math.floor(sorted.length / 2)];
}

function timeMs(fn: () => void): number {
  const t0 = performance.now();
  fn();
  return performance.now() - t0;
}

/**
 * Median ms to sample `newTokens` for `batch` sequences from a one-token zero prompt, after 3 warm-up runs (V8 tiers
 * the generation loop up over the first 2–3 runs: 42, 35, 28, then ~24 ms on the tiny GPT; an RL loop samples
 * thousands of times, so the steady state is the figure that matters).
 */
function sampleMs(model: Transformer, batch: number, newTokens: number, useCache: boolean, reps: number): number {
  const prompts = Array.from({ length: batch }, () => [0]);
  const run = () => generate(model, prompts, { maxNewTokens: newTokens, seed: 1, useCache });
  for (let i = 0; i < 3; i++) run();
  return median(Array.from({ length: reps }, () => timeMs(run)));
}

/**
 * Read bandwidth in GB/s over a buffer far larger than the caches, with as many readers as decode has threads: on the
 * native backend one worker thread per thread, each running the addon's sum-of-squares kernel over its share of one
 * shared 256 MiB buffer, timed together (one reader is bound by its own dependency chain, not by memory: on Zen 5 one
 * thread read 22 GB/s where two read 41, and decode streams its weights at 31); elsewhere the backend's own kernel
 * on this thread.
 */
async function readBandwidthGBs(threads: number): Promise<number> {
  const floats = 64 * 1024 * 1024, backend = getBackend();
  if (backend.name !== 'native' || threads < 2) {
    const buffer = new Float32Array(floats).fill(1);
    backend.sumSquares(buffer, buffer.length);
    return buffer.byteLength / (median(Array.from({ length: 5 }, () => timeMs(() => backend.sumSquares(buffer, buffer.length)))) / 1000) / 1e9;
  }
  const shared = new SharedArrayBuffer(floats * 4);
  new Float32Array(shared).fill(1);
  const per = Math.floor(floats / threads);
  const reader = `const { parentPort, workerData: d } = require('node:worker_threads');
    const kernels = require(d.addon).create(), x = new Float32Array(d.shared, d.offset * 4, d.length);
    kernels.sumSquares(x, x.length);
    parentPort.on('message', () => { kernels.sumSquares(x, x.length); parentPort.postMessage(0); });
    parentPort.postMessage(0);`;
  const workers = Array.from({ length: threads }, (_, i) => new Worker(reader, { eval: true, workerData: { addon: NATIVE_ADDON_PATH, shared, offset: i * per, length: per } }));
  const all = () => Promise.all(workers.map((w) => new Promise((resolve, reject) => { w.once('message', resolve); w.once('error', reject); })));
  try {
    await all();                                                            // loaded and warmed up
    const rates: number[] = [];
    for (let rep = 0; rep < 7; rep++) {
      const t0 = performance.now(), done = all();
      for (const w of workers) w.postMessage(0);
      await done;
      rates.push((per * threads * 4) / ((performance.now() - t0) / 1000) / 1e9);
    }
    return median(rates);
  } finally {
    await Promise.all(workers.map((w) => w.terminate()));
  }
}

export async function runModelsBench(): Promise<void> {
  const backend = getBackend();
  console.log(`# models bench on the ${backend.name} backend (${backend.threads} threads); load average ${loadavg()[0].toFixed(1)} (other work on the cores skews every figure)`);

  const tiny = tinyGptConfig();
  const tinyModel = new Transformer(tiny, initParameters(tiny, 0));
  console.log(`RESULT sample_kvcache_ms ${sampleMs(tinyModel, 16, 64, true, 7).toFixed(1)}   # batch 16, 64 new tokens`);
  console.log(`RESULT sample_nocache_ms ${sampleMs(tinyModel, 16, 64, false, 3).toFixed(1)}   # batch 16, 64 new tokens`);

  const config = gpt2SmallConfig();
  const model = new Transformer(config, initParameters(config, 0));
  let count = 0;
  for (const p of model.parameters().values()) count += p.size;
  const prefillT = 128;
  const ids = Int32Array.from({ length: prefillT }, (_, i) => (i * 7919) % config.vocabSize);
  const forward = () => noGrad(() => scope(() => { model.forward(ids, [1, prefillT], { lastOnly: true }); }));
  forward();
  const prefillMs = median(Array.from({ length: 3 }, () => timeMs(forward)));
  console.log(`RESULT prefill_124m_tok_s_b1 ${(prefillT / (prefillMs / 1000)).toFixed(1)}   # ${(count / 1e6).toFixed(1)}M params, ${prefillT}-token prompt`);

  const decodeTokens = 32;
  // batch 1: float32 and bf16 weights alternately (a noisy neighbour then weighs on both), median of 3 each
  const model16 = toBf16Weights(model);
  const run = (m: Transformer) => () => generate(m, [[0]], { maxNewTokens: decodeTokens, seed: 1, useCache: true });
  for (let i = 0; i < 2; i++) { run(model)(); run(model16)(); }
  const times32: number[] = [], times16: number[] = [];
  for (let i = 0; i < 3; i++) { times32.push(timeMs(run(model))); times16.push(timeMs(run(model16))); }
  const tokS = decodeTokens / (median(times32) / 1000), tokS16 = decodeTokens / (median(times16) / 1000);
  console.log(`RESULT decode_124m_tok_s_b1 ${tokS.toFixed(1)}   # ${decodeTokens} tokens per sequence, KV cache, sampling included`);
  console.log(`RESULT decode_124m_tok_s_b1_bf16 ${tokS16.toFixed(1)}   # bf16 weights (${(backend as { bf16Kernel?: string }).bf16Kernel ?? backend.name} kernel), interleaved with the float32 runs`);
  console.log(`RESULT ratio_decode_124m_b1_bf16_over_fp32 ${(tokS16 / tokS).toFixed(3)}`);
  // Each decode step streams every weight once: the blocks and the tied embedding (the LM head), float32.
  const bytesPerStep = (count - config.maxPositions * config.hiddenSize) * 4;
  const bandwidth = await readBandwidthGBs(backend.threads);
  const bound = (bandwidth * 1e9) / bytesPerStep;
  console.log(`# decode b1: ${(bytesPerStep / 1e6).toFixed(0)} MB of weights per token; measured read bandwidth ${bandwidth.toFixed(1)} GB/s (${backend.name === 'native' ? backend.threads : 1} reader${backend.name === 'native' && backend.threads > 1 ? 's' : ''}) ` +
    `→ bound ${bound.toFixed(1)} tok/s; running at ${((100 * tokS) / bound).toFixed(0)}% of it (bf16: ${((100 * tokS16) / (2 * bound)).toFixed(0)}% of twice it)`);
  console.log(`RESULT decode_124m_bandwidth_bound_tok_s ${bound.toFixed(1)}`);

  const ms8 = sampleMs(model, 8, decodeTokens, true, 3);
  console.log(`RESULT decode_124m_tok_s_b8 ${((8 * decodeTokens) / (ms8 / 1000)).toFixed(1)}   # ${decodeTokens} tokens per sequence, KV cache, sampling included`);
}

if (import.meta.url === `file://${process.argv[1]}`) {
  await runModelsBench();
}
