// LoRA: merged model and base + adapter agree within 1e-5, only adapter tensors get gradients, a training step
// changes only the adapter, and a PEFT save/load round trip restores the same logits.
import assert from 'node:assert/strict';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, test } from 'node:test';
import { AdamW, backward, crossEntropy, noGrad, setPoisoning } from '../engine/index.ts';
import { applyLora, loadLora, mergeLora, saveLora } from './lora.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';

setPoisoning(true);

function maxDiff(a: ArrayLike<number>, b: ArrayLike<number>): number {
  let m = 0;
  for (let i = 0; i < a.length; i++) m = Math.max(m, Math.abs(a[i] - b[i]));
  return m;
}

const targets = { gpt2: ['c_attn', 'c_fc'], llama: ['q_proj', 'v_proj', 'down_proj'] };

for (const family of ['gpt2', 'llama'] as const) {
  describe(`LoRA (${family})`, () => {
    const V = tinyModel(family).config.vocabSize;
    const ids = testIds(2 * 6, V, 4), labels = testIds(2 * 6, V, 5);

    test('merged and base + adapter give the same logits', () => {
      const model = tinyModel(family, 2);
      const base = noGrad(() => model.forward(ids, [2, 6])).data.slice();
      const adapter = applyLora(model, { rank: 4, alpha: 8, targetModules: targets[family], initLoraWeights: false }, 1);
      const adapted = noGrad(() => model.forward(ids, [2, 6])).data.slice();
      assert.ok(maxDiff(base, adapted) > 1e-3, 'the adapter changes the output');
      mergeLora(model, adapter);
      assert.equal(model.adapter, null);
      const merged = noGrad(() => model.forward(ids, [2, 6])).data;
      assert.ok(maxDiff(merged, adapted) < 1e-5, `merged vs adapter ${maxDiff(merged, adapted)}`);
    });

    test('only adapter parameters receive gradients; a step changes only the adapter', () => {
      const model = tinyModel(family, 2);
      const adapter = applyLora(model, { rank: 2, alpha: 4, dropout: 0.1, targetModules: targets[family], initLoraWeights: false }, 3);
      const before = new Map([...model.parameters()].map(([k, v]) => [k, v.data.slice()]));
      const adapterBefore = new Map([...adapter.parameters()].map(([k, v]) => [k, v.data.slice()]));
      const optimizer = new AdamW([...adapter.parameters().values()], { lr: 1e-2, weightDecay: 0 });
      backward(crossEntropy(model.forward(ids, [2, 6]), labels));
      for (const [name, p] of model.parameters()) assert.equal(p.grad, null, `base parameter ${name} got a gradient`);
      for (const [name, p] of adapter.parameters()) assert.ok(p.grad && p.grad.some((g) => g !== 0), `${name} got no gradient`);
      optimizer.step();
      for (const [name, p] of model.parameters()) assert.deepEqual(p.data, before.get(name), `${name} changed`);
      for (const [name, p] of adapter.parameters()) assert.ok(maxDiff(p.data, adapterBefore.get(name)!) > 0, `${name} did not change`);
    });

    test('PEFT save and load round trip', () => {
      const dir = mkdtempSync(join(tmpdir(), 'lora-'));
      try {
        const model = tinyModel(family, 2);
        const adapter = applyLora(model, { rank: 3, alpha: 6, targetModules: targets[family], initLoraWeights: false }, 5);
        const want = noGrad(() => model.forward(ids, [2, 6])).data.slice();
        saveLora(dir, adapter, 'tiny');
        const config = JSON.parse(readFileSync(join(dir, 'adapter_config.json'), 'utf-8'));
        assert.equal(config.peft_type, 'LORA');
        assert.equal(config.fan_in_fan_out, family === 'gpt2');
        const names = [...adapter.parameters().keys()];
        assert.ok(names[0].startsWith(family === 'gpt2' ? 'base_model.model.transformer.h.0.' : 'base_model.model.model.layers.0.'), names[0]);
        const fresh = tinyModel(family, 2);
        loadLora(dir, fresh);
        assert.ok(maxDiff(noGrad(() => fresh.forward(ids, [2, 6])).data, want) < 1e-6);
        assert.throws(() => loadLora(dir, tinyModel(family === 'gpt2' ? 'llama' : 'gpt2')), /is not a LoRA weight of a projection/);
      } finally {
        rmSync(dir, { recursive: true, force: true });
      }
    });

    test('targets that match nothing are an error', () => {
      assert.throws(() => applyLora(tinyModel(family), { rank: 2, alpha: 2, targetModules: ['nope'] }), /match no projection/);
    });
  });
}
