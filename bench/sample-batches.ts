// Sampling 64 new tokens from the reference tiny GPT at batch 1 to 16, with and without the KV cache: median ms of 5
// runs after 3 warm-ups (as models-bench.ts's sample_kvcache_ms, which is batch 16). A batch that costs far more per
// sequence than its neighbours points at one product shape's kernel (on Zen 2 before f372288, batch 8 took 10x batch 4).
// Run: node --import tsx bench/sample-batches.ts
import { generate } from '../src/models/generate.ts';
import { initParameters } from '../src/models/parameters.ts';
import { tinyGptConfig } from '../src/models/presets.ts';
import { Transformer } from '../src/models/transformer.ts';

const config = tinyGptConfig();
const model = new Transformer(config, initParameters(config, 0));
for (const batch of [1, 2, 4, 8, 16]) {
  for (const useCache of [true, false]) {
    const prompts = Array.from({ length: batch }, () => [0]);
    const run = () => generate(model, prompts, { maxNewTokens: 64, seed: 1, useCache });
    for (let i = 0; i < 3; i++) run();
    const times: number[] = [];
    for (let i = 0; i < 5; i++) { const t0 = performance.now(); run(); times.push(performance.now() - t0); }
    times.sort((a, b) => a - b);
    console.log(`batch ${batch} ${useCache ? 'KV cache' : 'no cache'}: ${times[2]!.toFixed(1)} ms`);
  }
}
