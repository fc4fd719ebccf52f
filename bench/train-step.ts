// The reference tiny-GPT training step (forward + cross-entropy + backward + AdamW), median milliseconds on the
// current backend — the figure ../shared/anchors/torch_gpt_bench.py reports as train_step_ms.
// Run directly: node --import tsx bench/train-step.ts [steps] — also prints the garbage collections during the steps.
import { constants, PerformanceObserver } from 'node:perf_hooks';
import { AdamW, backward, crossEntropy, Rng, scope, withMatmulPrecision, type MatmulPrecision } from '../src/engine/index.ts';
import { initParameters } from '../src/models/parameters.ts';
import { tinyGptConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';

/**
 * Median ms of `steps` timed steps after 2 warm-up steps; batch 16 × context 64 of random tokens, lr 1e-3; matmuls at
 * `precision` (default fp32; bf16: mixed precision, engine/precision.ts).
 */
export function trainStepMs(steps: number, options: { afterWarmUp?: () => void; precision?: MatmulPrecision } = {}): number {
  const config = tinyGptConfig();
  const model = new Transformer(config, initParameters(config, 0));
  const optimizer = new AdamW([...model.parameters().values()], { lr: 1e-3 });
  const rng = new Rng(1);
  const B = 16, T = config.maxPositions;
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    if (s === 2) options.afterWarmUp?.();
    const tokens = Int32Array.from({ length: B * (T + 1) }, () => rng.int(config.vocabSize));
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      inputs.set(tokens.subarray(b * (T + 1), b * (T + 1) + T), b * T);
      targets.set(tokens.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
    }
    const t0 = performance.now();
    withMatmulPrecision(options.precision ?? 'fp32', () => scope(() => {
      optimizer.zeroGrad();
      backward(crossEntropy(model.forward(inputs, [B, T]), targets));
    }));
    optimizer.step();
    if (s >= 2) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

/** Garbage collections (V8 'gc' performance entries, by kind) that start after `since()` (ms, performance.now) during `fn`. */
export async function countGcs(fn: () => void, since: () => number = () => 0): Promise<{ total: number; byKind: Record<string, number> }> {
  const byKind: Record<string, number> = {};
  const names: Record<number, string> = { [constants.NODE_PERFORMANCE_GC_MAJOR]: 'mark-compact', [constants.NODE_PERFORMANCE_GC_MINOR]: 'scavenge',
    [constants.NODE_PERFORMANCE_GC_INCREMENTAL]: 'incremental', [constants.NODE_PERFORMANCE_GC_WEAKCB]: 'weak-callbacks' };
  const entries: { startTime: number; detail?: unknown }[] = [];
  const observer = new PerformanceObserver((list) => { entries.push(...list.getEntries()); });
  observer.observe({ entryTypes: ['gc'] });
  fn();
  await new Promise((resolve) => setTimeout(resolve, 100)); // let the last entries arrive
  observer.disconnect();
  for (const entry of entries.filter((e) => e.startTime >= since())) {
    const kind = names[(entry.detail as { kind: number }).kind] ?? 'other';
    byKind[kind] = (byKind[kind] ?? 0) + 1;
  }
  return { total: Object.values(byKind).reduce((a, b) => a + b, 0), byKind };
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const steps = Number(process.argv[2] ?? 20);
  let ms = 0, warm = Infinity;
  const gcs = await countGcs(() => { ms = trainStepMs(steps, { afterWarmUp: () => { warm = performance.now(); } }); }, () => warm);
  console.log(`train step: ${ms.toFixed(1)} ms`);
  console.log(`RESULT train_step_gcs ${gcs.total} (over ${steps} timed steps after 2 warm-up steps: ${JSON.stringify(gcs.byKind)})`);
}
