// Finite-difference gradients and reference values for the ops added for transformers: splitHeads, mergeHeads,
// rope (against a direct rotate_half), conv1d, swiglu. Outputs NaN-poisoned so an unwritten element shows.
import assert from 'node:assert/strict';
import { describe, test } from 'node:test';
import { Rng } from '../random.ts';
import { parameter, setPoisoning, type Tensor } from '../tensor.ts';
import { gradcheck } from '../testing/gradcheck.ts';
import { conv1d } from './matmul.ts';
import { mergeHeads, splitHeads } from './heads.ts';
import { rope, ropeTables } from './rope.ts';
import { swiglu } from './swiglu.ts';

setPoisoning(true);

function rand(shape: number[], seed: number): Tensor {
  const n = shape.reduce((p, d) => p * d, 1);
  return parameter(new Rng(seed).fillNormal(new Float32Array(n)), shape);
}

function check(name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[]): void {
  assert.deepEqual(gradcheck(fn, inputs).slice(0, 3), [], `${name}: analytic and numeric gradients disagree`);
}

describe('transformer ops', () => {
  test('splitHeads and mergeHeads invert each other and have gradients', () => {
    const x = rand([2, 3, 20], 1);
    const q = splitHeads(x, 4, 2, 3);
    assert.deepEqual(q.shape, [2, 2, 3, 3]);
    assert.equal(q.data[(1 * 2 + 1) * 3 * 3 + 2 * 3 + 1], x.data[(1 * 3 + 2) * 20 + 4 + 3 + 1]);
    const back = mergeHeads(splitHeads(x, 0, 4, 5));
    assert.deepEqual(Array.from(back.data), Array.from(x.data));
    check('splitHeads', (a) => splitHeads(a, 5, 3, 4), [x]);
    check('mergeHeads', mergeHeads, [rand([2, 3, 4, 2], 2)]);
    assert.throws(() => splitHeads(x, 18, 1, 3), /out of range/);
  });

  test('rope matches rotate_half and has gradients', () => {
    const D = 6, half = 3;
    const inv = [1, 0.1, 0.01];
    const { cos, sin } = ropeTables(10, inv);
    const x = rand([1, 2, 3, D], 3);
    const positions = Int32Array.of(0, 4, 9);
    const y = rope(x, positions, cos, sin);
    for (let h = 0; h < 2; h++) for (let t = 0; t < 3; t++) for (let i = 0; i < D; i++) {
      const o = (h * 3 + t) * D, angle = positions[t] * inv[i % half];
      const rotated = i < half ? -x.data[o + i + half] : x.data[o + i - half];
      assert.ok(Math.abs(y.data[o + i] - (x.data[o + i] * Math.cos(angle) + rotated * Math.sin(angle))) < 1e-5);
    }
    check('rope', (a) => rope(a, positions, cos, sin), [x]);
    assert.throws(() => rope(x, Int32Array.of(0, 1, 10), cos, sin), /position 10/);
  });

  test('conv1d equals x W + b and has gradients', () => {
    const x = rand([2, 3, 4], 4), w = rand([4, 5], 5), b = rand([5], 6);
    const y = conv1d(x, w, b);
    let expected = b.data[2];
    for (let k = 0; k < 4; k++) expected += x.data[(1 * 3 + 1) * 4 + k] * w.data[k * 5 + 2];
    assert.ok(Math.abs(y.data[(1 * 3 + 1) * 5 + 2] - expected) < 1e-5);
    check('conv1d', conv1d, [x, w, b]);
    assert.throws(() => conv1d(x, rand([5, 4], 7)), /does not end in 5/);
  });

  test('swiglu has gradients', () => {
    check('swiglu', swiglu, [rand([3, 7], 8), rand([3, 7], 9)]);
  });
});
