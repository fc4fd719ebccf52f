// Our logits against PyTorch's on committed tiny random checkpoints (GPT-2; Llama with GQA and an untied head;
// Qwen2 with q/k/v biases; Llama-3 rope scaling), each stored in F32 and BF16. Fixtures: scripts/make-fixtures.ts
// then scripts/torch-reference.py (float64 torch). Bar: relative error ≤ 1e-4 on every logit.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { fileURLToPath } from 'node:url';
import { noGrad } from '../engine/index.ts';
import { loadPretrained } from './checkpoint.ts';
import { readSafetensors } from './safetensors.ts';
import { Transformer } from './transformer.ts';

const FIXTURES = fileURLToPath(new URL('./fixtures/', import.meta.url));
const BAR = 1e-4;

/** max_i |ours_i − ref_i| / max(|ref_i|, mean |ref|): relative per logit, floored at the typical logit size. */
export function relativeError(ours: Float32Array, reference: Float32Array): number {
  let meanAbs = 0;
  for (const r of reference) meanAbs += Math.abs(r) / reference.length;
  let worst = 0;
  for (let i = 0; i < reference.length; i++) {
    worst = Math.max(worst, Math.abs(ours[i] - reference[i]) / Math.max(Math.abs(reference[i]), meanAbs));
  }
  return worst;
}

describe('logits match the PyTorch reference', () => {
  const names = readdirSync(FIXTURES).sort();
  it('has fixtures for both families in F32 and BF16', () => {
    for (const family of ['gpt2', 'llama-gqa', 'qwen2-bias', 'llama3-rope-scaled']) {
      for (const dtype of ['f32', 'bf16']) assert.ok(names.includes(`${family}-${dtype}`), `${family}-${dtype}`);
    }
  });

  for (const name of names) {
    it(name, (t) => {
      const dir = join(FIXTURES, name);
      const { config, parameters, warnings } = loadPretrained(dir);
      assert.deepEqual(warnings, []);
      const ids: number[][] = JSON.parse(readFileSync(join(dir, 'inputs.json'), 'utf-8')).input_ids;
      const [B, T] = [ids.length, ids[0].length];
      const reference = readSafetensors(join(dir, 'reference.safetensors')).tensors.get('logits')!;
      assert.deepEqual(reference.shape, [B, T, config.vocabSize]);
      const logits = noGrad(() => new Transformer(config, parameters).forward(Int32Array.from(ids.flat()), [B, T]));
      assert.deepEqual([...logits.shape], reference.shape);
      const error = relativeError(logits.data, reference.data);
      t.diagnostic(`max relative error ${error.toExponential(2)}`);
      assert.ok(error <= BAR, `${name}: max relative error ${error.toExponential(2)} > ${BAR}`);
    });
  }
});
