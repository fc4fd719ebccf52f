// The reference tiny-GPT training step (forward + cross-entropy + backward + AdamW), median milliseconds on the
// current backend — the figure ../shared/anchors/torch_gpt_bench.py reports as train_step_ms.
// Run directly: node --import tsx bench/train-step.ts [steps]
import { AdamW, backward, crossEntropy, Rng, scope } from '../src/engine/index.ts';
import { initParameters } from '../src/models/parameters.ts';
import { tinyGptConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';

/** Median ms of `steps` timed steps after 2 warm-up steps; batch 16 × context 64 of random tokens, lr 1e-3. */
export function trainStepMs(steps: number): number {
  const config = tinyGptConfig();
  const model = new Transformer(config, initParameters(config, 0));
  const optimizer = new AdamW([...model.parameters().values()], { lr: 1e-3 });
  const rng = new Rng(1);
  const B = 16, T = config.maxPositions;
  const times: number[] = [];
  for (let s = 0; s < steps + 2; s++) {
    const tokens = Int32Array.from({ length: B * (T + 1) }, () => rng.int(config.vocabSize));
    const inputs = new Int32Array(B * T), targets = new Int32Array(B * T);
    for (let b = 0; b < B; b++) {
      inputs.set(tokens.subarray(b * (T + 1), b * (T + 1) + T), b * T);
      targets.set(tokens.subarray(b * (T + 1) + 1, (b + 1) * (T + 1)), b * T);
    }
    const t0 = performance.now();
    scope(() => {
      optimizer.zeroGrad();
      backward(crossEntropy(model.forward(inputs, [B, T]), targets));
    });
    optimizer.step();
    if (s >= 2) times.push(performance.now() - t0);
  }
  times.sort((a, b) => a - b);
  return times[Math.floor(times.length / 2)];
}

if (import.meta.url === `file://${process.argv[1]}`) {
  console.log(`train step: ${trainStepMs(Number(process.argv[2] ?? 20)).toFixed(1)} ms`);
}
