// bf16 weights for generation: a bf16 model's logits match a float32 model whose matrices (and matmul inputs) are
// rounded to bf16, for GPT-2 (Conv1D weights transposed) and Llama (GQA, untied head), with and without the KV
// cache; loading from a BF16 checkpoint keeps the file's bits (no float32 copy); gradients are refused.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { bf16ToF32, f32ToBf16, linearBf16, noGrad, parameter, scope, type Tensor, tensor } from '../engine/index.ts';
import { bf16WeightNames, toBf16Weights } from './bf16-weights.ts';
import { loadPretrained, savePretrained } from './checkpoint.ts';
import { configFromHf, type TransformerConfig } from './config.ts';
import { generate } from './generate.ts';
import { initParameters } from './parameters.ts';
import { openSafetensors } from './safetensors.ts';
import { Transformer } from './transformer.ts';

const root = mkdtempSync(join(tmpdir(), 'bf16-weights-test-'));
after(() => rmSync(root, { recursive: true, force: true }));

const gpt2 = configFromHf({ model_type: 'gpt2', vocab_size: 50, n_embd: 32, n_layer: 2, n_head: 2, n_positions: 16 });
const llama = configFromHf({
  model_type: 'llama', vocab_size: 40, hidden_size: 32, num_hidden_layers: 2, num_attention_heads: 4,
  num_key_value_heads: 2, intermediate_size: 48, tie_word_embeddings: false,
});

/** The float32 model with every bf16 matrix rounded to bf16: what a bf16 model computes, up to activation rounding. */
function rounded(config: TransformerConfig, params: Map<string, Tensor>): Transformer {
  const names = bf16WeightNames(config);
  const copy = new Map<string, Tensor>();
  for (const [name, t] of params) {
    copy.set(name, names.has(name) ? parameter(bf16ToF32(f32ToBf16(t.data)), t.shape, name) : t);
  }
  return new Transformer(config, copy);
}

function logits(model: Transformer, ids: number[]): Float32Array {
  return noGrad(() => scope(() => model.forward(Int32Array.from(ids), [1, ids.length]).data.slice()));
}

function maxAbs(x: Float32Array): number {
  return x.reduce((m, v) => Math.max(m, Math.abs(v)), 0);
}

describe('bf16 weights', () => {
  for (const [label, config] of [['gpt2', gpt2], ['llama GQA untied', llama]] as const) {
    it(`${label}: logits of the bf16 model match the bf16-rounded float32 model`, () => {
      const params = initParameters(config, 3);
      // larger weights than the init's 0.02 so the logits are far from 0 and a wrong layout cannot hide
      for (const t of params.values()) if (t.rank === 2) t.data.forEach((v, i) => { t.data[i] = v * 20; });
      const model16 = toBf16Weights(new Transformer(config, params));
      assert.equal(model16.bf16Weights().size, bf16WeightNames(config).size);
      for (const name of model16.bf16Weights().keys()) assert.ok(!model16.parameters().has(name), name);
      const ids = [1, 7, 3, 9, 2, 5];
      const want = logits(rounded(config, params), ids), got = logits(model16, ids);
      const scale = maxAbs(want);
      assert.ok(scale > 0.5, `logits too small to compare (${scale})`);
      for (let i = 0; i < want.length; i++) {
        // activations rounded to bf16 before each product: ~2^-9 relative per input, a few percent of the range at most
        assert.ok(Math.abs(got[i] - want[i]) <= 0.03 * scale, `logit ${i}: ${got[i]} vs ${want[i]} (scale ${scale})`);
      }
    });

    it(`${label}: bf16 decoding with the KV cache gives the logits of the full forward pass`, () => {
      const model16 = toBf16Weights(new Transformer(config, initParameters(config, 4)));
      const cached = generate(model16, [[1, 2, 3]], { maxNewTokens: 5, seed: 9, useCache: true });
      const uncached = generate(model16, [[1, 2, 3]], { maxNewTokens: 5, seed: 9, useCache: false });
      assert.deepEqual([...cached[0].tokens], [...uncached[0].tokens]);
    });
  }

  it('loads a BF16 checkpoint as bf16 matrices holding the file bits; GPT-2 Conv1D weights come back (out, in)', () => {
    const params = initParameters(gpt2, 5);
    const dir = join(root, 'gpt2-bf16');
    savePretrained(dir, gpt2, params, { dtype: 'BF16' });
    const loaded = loadPretrained(dir, { weights: 'bf16' });
    assert.equal(loaded.bf16Weights.size, bf16WeightNames(gpt2).size);
    assert.ok(!loaded.parameters.has('wte.weight') && loaded.parameters.has('wpe.weight'));
    const reader = openSafetensors(join(dir, 'model.safetensors'));
    try {
      const wte = loaded.bf16Weights.get('wte.weight')!;
      assert.deepEqual([...wte.bits], [...reader.readBf16('wte.weight')]);
      const fc = loaded.bf16Weights.get('h.0.mlp.c_fc.weight')!, stored = reader.readBf16('h.0.mlp.c_fc.weight');
      const [inF, outF] = reader.info('h.0.mlp.c_fc.weight').shape;
      assert.deepEqual([fc.rows, fc.cols], [outF, inF]);
      for (const [i, j] of [[0, 0], [3, 17], [inF - 1, outF - 1]]) assert.equal(fc.bits[j * inF + i], stored[i * outF + j]);
    } finally {
      reader.close();
    }
    const model = new Transformer(loaded.config, loaded.parameters, loaded.bf16Weights);
    const float = loadPretrained(dir);
    const want = logits(new Transformer(float.config, float.parameters), [4, 1, 8]), got = logits(model, [4, 1, 8]);
    const scale = Math.max(maxAbs(want), 1e-3);
    for (let i = 0; i < want.length; i++) assert.ok(Math.abs(got[i] - want[i]) <= 0.03 * scale, `logit ${i}`);
  });

  it('refuses gradients and wrong shapes with errors naming the op', () => {
    const w = { bits: f32ToBf16(new Float32Array(6).fill(1)), rows: 2, cols: 3 };
    const x = tensor([1, 2, 3], [1, 3], true);
    assert.throws(() => linearBf16(x, w), /linearBf16.*noGrad/);
    assert.deepEqual([...noGrad(() => linearBf16(x, w)).data], [6, 6]);
    assert.throws(() => noGrad(() => linearBf16(tensor([1, 2], [1, 2]), w)), /linearBf16.*does not end in 3/);
    assert.throws(() => new Transformer(gpt2, new Map(), new Map([['wte.weight', w]])), /bf16 weight "wte.weight" is \(2, 3\)/);
  });
});
