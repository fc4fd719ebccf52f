// Mixed precision (engine/precision.ts): one training forward + backward with bf16 projections gives gradients close
// to fp32's, on both families (GPT-2's Conv1D weights (in, out); Llama's Linear (out, in), where q, k and v read the
// same input, so its gradient accumulates), and not equal to them (the bf16 path ran).
// Tolerance: bf16 keeps 8 significant bits, so a rounded operand is off by at most 2^-9 ≈ 0.2% of itself and a product
// of two by ≈ 0.4%; sums of such products with independent errors stay near that. Measured worst tensor: 0.6% on the
// bench's tiny GPT (4 layers), under 1% here; the bar is 3%. A wrong transpose or a lost accumulation is off by O(1).
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { backward, crossEntropy, scope, withMatmulPrecision, type MatmulPrecision } from '../engine/index.ts';
import { testIds, tinyModel } from './testing/tiny-models.ts';

for (const family of ['gpt2', 'llama'] as const) {
  describe(`mixed precision (${family})`, () => {
    const model = tinyModel(family, 4);
    const V = model.config.vocabSize, B = 3, T = 24;
    const inputs = testIds(B * T, V, 5), targets = testIds(B * T, V, 6);

    function step(precision: MatmulPrecision): { loss: number; grads: Map<string, Float32Array> } {
      for (const t of model.parameters().values()) { t.requiresGrad = true; t.zeroGrad(); }
      let loss = 0;
      withMatmulPrecision(precision, () => scope(() => {
        const l = crossEntropy(model.forward(inputs, [B, T]), targets);
        loss = l.item();
        backward(l);
      }));
      return { loss, grads: new Map([...model.parameters()].map(([name, t]) => [name, t.grad!.slice()])) };
    }

    test('a bf16 step\'s gradients are within 3% of fp32\'s, tensor by tensor, and not equal to them', () => {
      const fp32 = step('fp32'), bf16 = step('bf16');
      assert.ok(Math.abs(bf16.loss - fp32.loss) < 0.01 * fp32.loss, `loss ${bf16.loss} vs ${fp32.loss}`);
      let worst = 0, differing = 0;
      for (const [name, reference] of fp32.grads) {
        const grad = bf16.grads.get(name)!;
        let difference = 0, norm = 0;
        for (let i = 0; i < grad.length; i++) { difference += (grad[i] - reference[i]) ** 2; norm += reference[i] ** 2; }
        const relative = Math.sqrt(difference / Math.max(norm, 1e-30));
        worst = Math.max(worst, relative);
        if (relative > 1e-5) differing++;
        assert.ok(relative < 0.03, `${name}: relative gradient error ${relative.toExponential(2)}`);
      }
      assert.ok(differing > fp32.grads.size / 2, `bf16 changed only ${differing} of ${fp32.grads.size} gradients: was it used?`);
      console.log(`${family}: worst relative gradient error ${worst.toExponential(2)}`);
    });
  });
}
