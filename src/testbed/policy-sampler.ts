// Samples assistant turns from an embedded policy folder: the conversation through the tokenizer's chat template,
// batched KV-cache generation until <|end|>, one seed per (prompt, sample). Leaves out log-probs bookkeeping for RL
// (the pipeline's rollout does that); the audit and tests use this to see what the SFT policy says.
import { generate } from '../models/generate.ts';
import { loadPretrained } from '../models/checkpoint.ts';
import { HfTokenizer } from '../models/tokenizer.ts';
import { Transformer } from '../models/transformer.ts';
import { deriveSeed } from '../engine/random.ts';
import type { TestbedPrompt } from './prompts.ts';

export interface SampleOptions {
  samples: number;        // responses per prompt
  temperature: number;
  seed: number;
  maxNewTokens?: number;  // default 48
  batchSize?: number;     // default 32
  onProgress?: (done: number, total: number) => void;
}

export interface PolicySampler {
  tokenizer: HfTokenizer;
  model: Transformer;
  sample(prompts: readonly TestbedPrompt[], options: SampleOptions): string[][]; // (prompts, samples)
}

export function loadPolicySampler(directory: string): PolicySampler {
  const pretrained = loadPretrained(directory);
  return policySampler(new Transformer(pretrained.config, pretrained.parameters), HfTokenizer.load(directory), directory);
}

/** A sampler over a model in memory (the build samples the policy it is training). */
export function policySampler(model: Transformer, tokenizer: HfTokenizer, name = 'policy'): PolicySampler {
  const stop = tokenizer.eosTokenId;
  if (stop === null) throw new Error(`${name}: tokenizer has no eos_token to stop generation`);
  return {
    tokenizer, model,
    sample(prompts, options) {
      const jobs = prompts.flatMap((p, i) => Array.from({ length: options.samples }, (_, k) => ({ i, k, ids: tokenizer.applyChatTemplate(p.messages), seed: deriveSeed(options.seed, `${p.id}|${k}`) })));
      const out = prompts.map(() => new Array<string>(options.samples).fill(''));
      const batch = options.batchSize ?? 32, maxNewTokens = options.maxNewTokens ?? 48;
      for (let start = 0; start < jobs.length; start += batch) {
        const chunk = jobs.slice(start, start + batch);
        const room = model.config.maxPositions - maxNewTokens + 1;
        const sequences = generate(model, chunk.map((j) => (j.ids.length > room ? j.ids.slice(j.ids.length - room) : j.ids)), {
          maxNewTokens, temperature: options.temperature, seeds: chunk.map((j) => j.seed), stopTokenIds: [stop], padTokenId: stop,
        });
        sequences.forEach((s, n) => {
          const tokens = Array.from(s.tokens);
          const content = tokens.at(-1) === stop ? tokens.slice(0, -1) : tokens;
          out[chunk[n]!.i]![chunk[n]!.k] = tokenizer.decode(content, { skipSpecialTokens: true }).trim();
        });
        options.onProgress?.(Math.min(jobs.length, start + batch), jobs.length);
      }
      return out;
    },
  };
}
