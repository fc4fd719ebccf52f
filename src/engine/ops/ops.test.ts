// Every op's gradient checked by finite differences, on every backend that loads here, with outputs NaN-poisoned.
// Also: forward values against hand-computed references for the trickier ops, and bad input naming op and shapes.
import assert from 'node:assert/strict';
import { before, describe, test } from 'node:test';
import { availableBackends, getBackend, setBackend } from '../backends/index.ts';
import { EngineError } from '../backend.ts';
import { Rng } from '../random.ts';
import { backward, noGrad, parameter, setPoisoning, Tensor, tensor } from '../tensor.ts';
import { gradcheck } from '../testing/gradcheck.ts';
import * as E from './elementwise.ts';
import { linear, matmul } from './matmul.ts';
import * as N from './nn.ts';
import { mergeHeads, splitHeads } from './heads.ts';
import { logSumExp, max, mean, sum } from './reduce.ts';
import { concat, indexSelect, permute, reshape, slice, transpose } from './shape.ts';

setPoisoning(true);

function rand(shape: number[], seed: number, scale = 1, offset = 0): Tensor {
  const rng = new Rng(seed);
  const n = shape.reduce((p, d) => p * d, 1);
  return parameter(rng.fillNormal(new Float32Array(n), offset, scale), shape);
}

function positive(shape: number[], seed: number): Tensor {
  const t = rand(shape, seed);
  for (let i = 0; i < t.size; i++) t.data[i] = 0.5 + Math.abs(t.data[i]);
  return t;
}

function check(name: string, fn: (...xs: Tensor[]) => Tensor, inputs: Tensor[], options = {}): void {
  const failures = gradcheck(fn, inputs, options);
  assert.deepEqual(failures.slice(0, 3), [], `${name}: analytic and numeric gradients disagree`);
}

for (const backendName of availableBackends()) {
  describe(`gradients on the ${backendName} backend`, () => {
    before(() => { setBackend(backendName); });
    test(`ops run on the ${backendName} backend`, () => {
      assert.equal(getBackend().name, backendName);
      const y = E.mul(tensor([1, 2, 3], [3]), tensor([4, 5, 6], [3]));
      assert.deepEqual([...y.data], [4, 10, 18]);
    });

    test('elementwise binary ops with broadcasting', () => {
      for (const [sa, sb] of [[[3, 4], [3, 4]], [[2, 3, 4], [4]], [[2, 1, 4], [3, 1]], [[1], [5]], [[17, 3], [17, 1]]]) {
        check(`add ${sa} ${sb}`, E.add, [rand(sa, 1), rand(sb, 2)]);
        check(`sub ${sa} ${sb}`, E.sub, [rand(sa, 3), rand(sb, 4)]);
        check(`mul ${sa} ${sb}`, E.mul, [rand(sa, 5), rand(sb, 6)]);
        check(`div ${sa} ${sb}`, E.div, [rand(sa, 7), positive(sb, 8)]);
      }
      // add copies a gradient it is first to write and accumulates into one that exists: both orders, and x + x
      check('add x + x', (a) => E.add(a, a), [rand([3, 4], 21)]);
      check('add then reuse', (a, b) => E.mul(E.add(a, b), a), [rand([3, 4], 22), rand([3, 4], 23)]);
      check('reuse then add', (a, b) => E.add(E.mul(a, b), a), [rand([3, 4], 24), rand([3, 4], 25)]);
      check('minimum', E.minimum, [rand([4, 5], 9), rand([4, 5], 10)]);
      check('maximum', E.maximum, [rand([4, 5], 11), rand([5], 12)]);
    });

    test('elementwise unary ops', () => {
      const x = rand([3, 7], 13);
      for (const [name, f] of [['neg', E.neg], ['exp', E.exp], ['tanh', E.tanh], ['sigmoid', E.sigmoid],
        ['logSigmoid', E.logSigmoid], ['square', E.square], ['gelu', N.gelu], ['silu', N.silu]] as const) {
        check(name, f, [x]);
      }
      check('log', E.log, [positive([3, 7], 14)]);
      check('sqrt', E.sqrt, [positive([3, 7], 15)]);
      check('mulScalar', (a) => E.mulScalar(a, -2.5), [x]);
      check('addScalar', (a) => E.addScalar(a, 3), [x]);
      check('clamp', (a) => E.clamp(a, -0.5, 0.5), [x], { eps: 1e-3 });
      const mask = tensor([1, 0, 1, 0, 0, 1, 1], [7]);
      check('where', (a, b) => E.where(mask, a, b), [rand([3, 7], 16), rand([3, 7], 17)]);
    });

    test('reductions', () => {
      const x = rand([3, 4, 5], 20);
      check('sum all', (a) => sum(a), [x]);
      for (const axis of [0, 1, 2, -1]) {
        check(`sum ${axis}`, (a) => sum(a, axis), [x]);
        check(`mean ${axis}`, (a) => mean(a, axis, true), [x]);
        check(`logSumExp ${axis}`, (a) => logSumExp(a, axis), [x]);
        check(`max ${axis}`, (a) => max(a, axis), [x]);
      }
      assert.throws(() => mean(rand([0, 3], 1), 0), /mean: mean over an empty axis/);
    });

    test('shape ops', () => {
      const x = rand([2, 3, 4], 30);
      check('reshape', (a) => E.mul(reshape(a, [6, -1]), rand([6, 4], 31)), [x]);
      check('permute', (a) => permute(a, [2, 0, 1]), [x]);
      check('transpose', (a) => transpose(a, 0, 2), [x]);
      check('slice', (a) => slice(a, 1, 1, 3), [x]);
      check('slice empty', (a) => slice(a, 2, 2, 2), [x]);
      check('concat', (a, b) => concat([a, b, a], 1), [x, rand([2, 5, 4], 32)]);
      check('indexSelect', (a) => indexSelect(a, 1, [2, 0, 2, 2]), [x]);
      assert.throws(() => reshape(x, [5, 5]), /reshape: cannot reshape \[2, 3, 4\]/);
      assert.throws(() => indexSelect(x, 1, [3]), /indexSelect: index 3 at position 0 out of range/);
    });

    test('matmul: all transposes, batched, broadcast operands, odd sizes', () => {
      for (const [M, K, Nn] of [[1, 1, 1], [3, 17, 5], [17, 3, 129], [4, 0, 3]]) {
        for (const transA of [false, true]) for (const transB of [false, true]) {
          const a = rand(transA ? [2, K, M] : [2, M, K], 40), b = rand(transB ? [2, Nn, K] : [2, K, Nn], 41);
          check(`matmul ${M}x${K}x${Nn} ${transA} ${transB}`, (p, q) => matmul(p, q, { transA, transB }), [a, b]);
          const b2 = rand(transB ? [Nn, K] : [K, Nn], 42);
          check(`matmul shared B ${transA} ${transB}`, (p, q) => matmul(p, q, { transA, transB }), [a, b2]);
          const a2 = rand(transA ? [K, M] : [M, K], 43);
          check(`matmul shared A ${transA} ${transB}`, (p, q) => matmul(p, q, { transA, transB }), [a2, b]);
        }
      }
      assert.throws(() => matmul(rand([2, 3], 1), rand([4, 5], 2)), /matmul: inner dimensions differ: \[2, 3\] @ \[4, 5\]/);
    });

    test('linear with and without bias', () => {
      const x = rand([2, 3, 17], 50), w = rand([5, 17], 51), b = rand([5], 52);
      check('linear', linear, [x, w, b]);
      check('linear no bias', (p, q) => linear(p, q), [x, w]);
      assert.throws(() => linear(rand([2, 4], 1), w), /linear: input \[2, 4\] does not end in 17/);
    });

    test('norms, softmax, log-softmax', () => {
      const x = rand([3, 17], 60, 2, 0.5);
      check('layerNorm', (a, b, c) => N.layerNorm(a, b, c), [x, rand([17], 61, 0.5, 1), rand([17], 62)]);
      check('rmsNorm', (a, b) => N.rmsNorm(a, b), [x, rand([17], 63, 0.5, 1)]);
      check('softmax', N.softmax, [x]);
      check('logSoftmax', N.logSoftmax, [x]);
    });

    test('embedding with repeated ids scatter-adds', () => {
      const table = rand([7, 5], 70);
      const ids = Int32Array.from([3, 1, 3, 6, 0, 3]);
      check('embedding', (t) => N.embedding(t, ids, [2, 3]), [table]);
      assert.throws(() => N.embedding(table, Int32Array.from([2, 7])), /embedding: index 7 at position 1 is outside the table \[0, 7\)/);
    });

    test('log-prob family: target log-probs, entropy, cross-entropy', () => {
      const logits = rand([6, 11], 80, 2);
      const targets = Int32Array.from([3, -100, 0, 10, 5, 5]);
      check('targetLogprobs', (l) => N.targetLogprobs(l, targets), [logits]);
      check('entropy', N.entropy, [logits]);
      const weights = Float32Array.from([1, 1, 0.5, 2, 0, 1]);
      check('crossEntropy', (l) => N.crossEntropy(l, targets, { weights }), [logits]);
      check('crossEntropy sum', (l) => N.crossEntropy(l, targets, { reduction: 'sum' }), [logits]);
      // hand-computed value: uniform logits give log(V) per counted token
      const flat = parameter(new Float32Array(2 * 4), [2, 4]);
      const loss = N.crossEntropy(flat, Int32Array.from([1, -100]));
      assert.ok(Math.abs(loss.item() - Math.log(4)) < 1e-6);
      backward(loss);
      assert.deepEqual(Array.from(flat.grad!.subarray(4)), [0, 0, 0, 0], 'ignored row gets no gradient');
      const allIgnored = N.crossEntropy(flat, Int32Array.from([-100, -100]));
      assert.equal(allIgnored.item(), 0);
      assert.throws(() => N.crossEntropy(flat, Int32Array.from([4, 0])), /target 4 at row 0 is outside the vocabulary \[0, 4\)/);
    });

    test('attention: causal, grouped-query, key mask, queries at the end of a longer key sequence', () => {
      const q = rand([2, 4, 3, 5], 90), k = rand([2, 2, 6, 5], 91), v = rand([2, 2, 6, 5], 92);
      check('attention causal gqa', (a, b, c) => N.attention(a, b, c), [q, k, v]);
      const keyMask = Float32Array.from([1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 1, 1]);
      check('attention masked', (a, b, c) => N.attention(a, b, c, { keyMask }), [q, k, v]);
      check('attention full', (a, b, c) => N.attention(a, b, c, { causal: false }), [q, k, v]);
      // a query that sees nothing outputs zeros instead of NaN
      const allMasked = new Float32Array(12);
      const out = noGrad(() => N.attention(q, k, v, { keyMask: allMasked }));
      assert.ok(out.data.every((x) => x === 0));
      assert.throws(() => N.attention(q, rand([2, 3, 6, 5], 1), rand([2, 3, 6, 5], 2)), /query heads 4 not a multiple of key\/value heads 3/);
    });

    test('fusedAttention: its gradient, and splitHeads → attention → mergeHeads\'s bits forward and backward', () => {
      // qkv (B 2, T 5, W 20): 2 query heads of D 3 at column 2, 2 key heads at 8, 2 value heads at 14, columns 0-1
      // spare; then grouped-query (4 query heads, 1 key/value head)
      const W = 20, options = { heads: 2, kvHeads: 2, headDim: 3, q: 2, k: 8, v: 14 };
      const qkv = rand([2, 5, W], 93), keyMask = Float32Array.from([1, 1, 1, 1, 1, 0, 1, 1, 1, 1]);
      check('fusedAttention causal', (a) => N.fusedAttention(a, options), [qkv]);
      check('fusedAttention masked, full', (a) => N.fusedAttention(a, { ...options, causal: false, keyMask }), [qkv]);
      check('fusedAttention grouped-query', (a) => N.fusedAttention(a, { ...options, heads: 4, kvHeads: 1, q: 0, k: 12, v: 15 }), [rand([2, 5, 18], 94)]);
      // the composition it replaces: the same bits, and the same gradient in qkv's columns
      const weights = rand([2, 5, 6], 98);
      const run = (fused: boolean) => {
        const x = parameter(Float32Array.from(qkv.data), qkv.shape);
        const out = fused ? N.fusedAttention(x, { ...options, keyMask })
          : mergeHeads(N.attention(splitHeads(x, 2, 2, 3), splitHeads(x, 8, 2, 3), splitHeads(x, 14, 2, 3), { keyMask }));
        backward(sum(E.mul(out, weights)));
        return { out: Array.from(out.data), grad: Array.from(x.grad!) };
      };
      assert.deepEqual(run(true), run(false));
      assert.throws(() => N.fusedAttention(qkv, { ...options, v: 15 }), /fusedAttention.*v columns \[15, 21\) outside qkv \[2, 5, 20\]/);
      assert.throws(() => N.fusedAttention(qkv, { ...options, heads: 3 }), /fusedAttention.*heads 3.*kvHeads 2/);
      assert.throws(() => N.fusedAttention(rand([5, W], 1), options), /fusedAttention.*\(B, T, W\)/);
    });

    test('attention matches softmax(q kᵀ/√d + causal mask) v built from primitive ops', () => {
      const q = rand([1, 2, 4, 3], 95), k = rand([1, 2, 4, 3], 96), v = rand([1, 2, 4, 3], 97);
      const fused = noGrad(() => N.attention(q, k, v));
      const scores = noGrad(() => E.mulScalar(matmul(q, k, { transB: true }), 1 / Math.sqrt(3)));
      const mask = new Float32Array(16).map((_, i) => ((i % 4) > Math.floor(i / 4) ? -1e30 : 0));
      const ref = noGrad(() => matmul(N.softmax(E.add(scores, tensor(mask, [4, 4]))), v));
      for (let i = 0; i < ref.size; i++) assert.ok(Math.abs(ref.data[i] - fused.data[i]) < 1e-5);
    });

    test('dropout with a fixed seed', () => {
      check('dropout', (a) => N.dropout(a, 0.3, new Rng(5)), [rand([4, 6], 100)]);
      const x = rand([1000], 101);
      const y = noGrad(() => N.dropout(x, 0.5, new Rng(1)));
      const zeros = y.data.filter((v) => v === 0).length;
      assert.ok(zeros > 400 && zeros < 600, `about half dropped, got ${zeros}`);
    });

    test('NaN in a loss or gradient is an error naming the op and shapes', () => {
      const x = rand([2, 3], 110);
      x.data[4] = NaN;
      const w = rand([3], 111);
      const loss = sum(E.mul(N.gelu(x), w));
      assert.throws(() => backward(loss), (e: unknown) => e instanceof EngineError && /the loss is NaN/.test(e.message) && /gelu \[2, 3\]/.test(e.message));
      const logits = rand([2, 4], 112);
      logits.data[0] = Infinity;
      assert.throws(() => N.crossEntropy(logits, Int32Array.from([1, 2])), /crossEntropy: loss is NaN for logits \[2, 4\]/);
      const y = positive([3], 113);
      const bad = sum(E.sqrt(E.mul(y, tensor([0, 1, 1]))));  // d sqrt(0) = Inf
      assert.throws(() => backward(bad), /gradient of .* has NaN\/Inf; it first appears in the backward of sqrt \[3\]/);
    });
  });
}
