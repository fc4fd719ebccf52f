// The transformer, both families: config round-trip, shapes, gradients to every parameter (and a finite-difference
// spot check), KV-cache logits equal full recomputation step by step, padding (left and right) changes nothing.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, crossEntropy, noGrad, setPoisoning, type Tensor } from '../engine/index.ts';
import { gradcheck } from '../engine/testing/gradcheck.ts';
import { configFromHf, configToHf } from './config.ts';
import { KvCache } from './kv-cache.ts';
import { expectedParameters, initParameters } from './parameters.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';
import { Transformer } from './transformer.ts';

setPoisoning(true);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

describe('config', () => {
  test('GPT-2 and Llama config.json round-trip and errors name the field', () => {
    for (const family of ['gpt2', 'llama'] as const) {
      const config = tinyModel(family).config;
      assert.deepEqual(configFromHf(configToHf(config, 'F32')), config);
    }
    assert.throws(() => configFromHf({ model_type: 'gpt2', vocab_size: 10, n_embd: 'x' }, 'a/config.json'), /a\/config.json: field "n_embd"/);
    assert.throws(() => configFromHf({ model_type: 'bert' }, 'b.json'), /field "model_type"/);
    const llama = configFromHf({ model_type: 'llama', vocab_size: 10, hidden_size: 8, num_hidden_layers: 1, num_attention_heads: 2, intermediate_size: 16 });
    assert.equal(llama.qkvBias, false);
    assert.equal(llama.numKvHeads, 2);
    assert.ok(expectedParameters(llama).has('lm_head.weight'));
  });

  test('parameters are checked by name and shape', () => {
    const model = tinyModel('gpt2');
    const params = new Map([...model.parameters()].map(([k, v]) => [`transformer.${k}`, v]));
    assert.ok(new Transformer(model.config, params));           // the transformer. prefix is accepted
    params.delete('transformer.h.1.ln_2.bias');
    assert.throws(() => new Transformer(model.config, params), /missing parameter "h.1.ln_2.bias"/);
    const wrong = new Map(model.parameters());
    wrong.set('wpe.weight', model.parameters().get('wte.weight')!);
    assert.throws(() => new Transformer(model.config, wrong), /"wpe.weight" has shape \[37, 16\]/);
  });
});

for (const family of ['gpt2', 'llama'] as const) {
  describe(`${family} transformer`, () => {
    const model = tinyModel(family);
    const V = model.config.vocabSize;

    test('forward shapes', () => {
      noGrad(() => {
        assert.deepEqual(model.forward(testIds(6, V), [2, 3]).shape, [2, 3, V]);
        assert.deepEqual(model.forward(testIds(6, V), [2, 3], { lastOnly: true }).shape, [2, 1, V]);
        assert.deepEqual(model.hidden(testIds(6, V), [3, 2]).shape, [3, 2, model.config.hiddenSize]);
      });
    });

    test('gradient reaches every parameter; finite differences agree', () => {
      const ids = testIds(2 * 6, V, 5), targets = testIds(2 * 6, V, 9);
      const loss = crossEntropy(model.forward(ids, [2, 6]), targets);
      backward(loss);
      for (const [name, p] of model.parameters()) {
        assert.ok(p.grad && p.grad.some((g) => g !== 0), `no gradient reached ${name}`);
        p.grad = null;
      }
      const small = [...model.parameters().values()].filter((p) => p.size <= 64 || p.name?.includes('.0.'));
      const failures = gradcheck((..._inputs: Tensor[]) => crossEntropy(model.forward(ids, [2, 6]), targets),
        small, { maxElements: 4, eps: 1e-2, rtol: 5e-2, atol: 1e-3 });
      for (const p of model.parameters().values()) p.grad = null;
      assert.deepEqual(failures.slice(0, 3), []);
    });

    test('KV-cache logits equal full recomputation at every step', () => {
      noGrad(() => {
        const B = 2, T = 9, ids = testIds(B * T, V, 11);
        const mask = new Float32Array(B * T).fill(1);
        mask[9] = 0; mask[10] = 0;                                 // row 1 left-padded by two
        const full = model.forward(ids, [B, T], { keyMask: mask });   // (B, T, V)
        const cache = new KvCache(model.config, B, T, 2);                 // starts at 2 positions: grows 2 → 4 → 8 → 9
        const prefill = 4;
        const take = (t0: number, t1: number, a: Int32Array | Float32Array) => {
          const out = new (a.constructor as Int32ArrayConstructor)(B * (t1 - t0));
          for (let b = 0; b < B; b++) for (let t = t0; t < t1; t++) out[b * (t1 - t0) + t - t0] = a[b * T + t];
          return out;
        };
        const first = model.forward(take(0, prefill, ids), [B, prefill], { cache, keyMask: Float32Array.from(take(0, prefill, mask)) });
        const chunk = model.forward(take(prefill, prefill + 2, ids), [B, 2], { cache, keyMask: Float32Array.from(take(prefill, prefill + 2, mask)) });
        const steps: Tensor[] = [first, chunk];
        for (let t = prefill + 2; t < T; t++) steps.push(model.forward(take(t, t + 1, ids), [B, 1], { cache, keyMask: Float32Array.from(take(t, t + 1, mask)) }));
        let t = 0;
        for (const step of steps) {
          const width = step.shape[1];
          for (let b = 0; b < B; b++) for (let j = 0; j < width; j++) {
            if (mask[b * T + t + j] === 0) continue;
            const got = step.data.subarray((b * width + j) * V, (b * width + j + 1) * V);
            const want = full.data.subarray((b * T + t + j) * V, (b * T + t + j + 1) * V);
            assert.ok(maxDiff(got, want) < 1e-5, `row ${b} position ${t + j}: ${maxDiff(got, want)}`);
          }
          t += width;
        }
        assert.throws(() => model.forward(ids.subarray(0, 2), [B, 1], { cache }), /exceed the capacity/);
      });
    });

    test('left and right padding give the same logits as each sequence alone', () => {
      noGrad(() => {
        const a = testIds(5, V, 21), b = testIds(3, V, 22);
        const alone = model.forward(b, [1, 3]);                              // (1, 3, V)
        const left = model.forward(Int32Array.from([...a, 0, 0, ...b]), [2, 5], { keyMask: Float32Array.of(1, 1, 1, 1, 1, 0, 0, 1, 1, 1) });
        const right = model.forward(Int32Array.from([...a, ...b, 0, 0]), [2, 5], { keyMask: Float32Array.of(1, 1, 1, 1, 1, 1, 1, 1, 0, 0) });
        assert.ok(maxDiff(left.data.subarray(7 * V), alone.data) < 1e-5);
        assert.ok(maxDiff(right.data.subarray(5 * V, 8 * V), alone.data) < 1e-5);
        assert.ok(maxDiff(left.data.subarray(0, 5 * V), model.forward(a, [1, 5]).data) < 1e-5);
      });
    });
  });
}

test('initParameters is deterministic per seed', () => {
  const config = tinyModel('llama').config;
  const a = initParameters(config, 4).get('model.layers.0.self_attn.q_proj.weight')!;
  const b = initParameters(config, 4).get('model.layers.0.self_attn.q_proj.weight')!;
  assert.deepEqual(Array.from(a.data), Array.from(b.data));
});
