// Optimizers against float64 references of their update rules; clipping, accumulation, schedule, state round-trip;
// scopes handing buffers back to the pool.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { linear } from './ops/matmul.ts';
import { attention, crossEntropy, layerNorm } from './ops/nn.ts';
import { sum } from './ops/reduce.ts';
import { exp, log, mul } from './ops/elementwise.ts';
import { AdamW, clipGradNorm, SGD, warmupCosine } from './optim.ts';
import { Rng } from './random.ts';
import { backward, clearPool, parameter, scope, type Tensor, tensor } from './tensor.ts';

function randParam(n: number, seed: number): Tensor {
  return parameter(new Rng(seed).fillNormal(new Float32Array(n)), [n]);
}

test('AdamW matches the decoupled-weight-decay update computed in float64', () => {
  const p = randParam(37, 1);
  const start = Float64Array.from(p.data);
  const opt = new AdamW([p], { lr: 0.01, betas: [0.9, 0.95], eps: 1e-8, weightDecay: 0.1 });
  const m = new Float64Array(37), v = new Float64Array(37), ref = Float64Array.from(start);
  const rng = new Rng(2);
  for (let step = 1; step <= 5; step++) {
    const g = rng.fillNormal(new Float32Array(37));
    p.grad = g.slice();
    opt.step({ gradScale: 0.5 });
    for (let i = 0; i < 37; i++) {
      const gi = g[i] * 0.5;
      m[i] = 0.9 * m[i] + 0.1 * gi;
      v[i] = 0.95 * v[i] + 0.05 * gi * gi;
      const mhat = m[i] / (1 - 0.9 ** step), vhat = v[i] / (1 - 0.95 ** step);
      ref[i] -= 0.01 * (mhat / (Math.sqrt(vhat) + 1e-8) + 0.1 * ref[i]);
    }
  }
  for (let i = 0; i < 37; i++) assert.ok(Math.abs(p.data[i] - ref[i]) < 1e-5, `element ${i}: ${p.data[i]} vs ${ref[i]}`);
});

test('SGD with momentum and L2 weight decay matches torch.optim.SGD semantics', () => {
  const p = randParam(5, 3);
  const x = Float64Array.from(p.data), vel = new Float64Array(5);
  const opt = new SGD([p], { lr: 0.1, momentum: 0.9, weightDecay: 0.01 });
  for (let step = 0; step < 3; step++) {
    p.grad = Float32Array.from([1, -2, 3, 0, 0.5]);
    opt.step();
    for (let i = 0; i < 5; i++) {
      const d = p.grad[i] + 0.01 * x[i];
      vel[i] = 0.9 * vel[i] + d;
      x[i] -= 0.1 * vel[i];
    }
  }
  for (let i = 0; i < 5; i++) assert.ok(Math.abs(p.data[i] - x[i]) < 1e-6);
});

test('global-norm clipping bounds the update and reports the norm before clipping', () => {
  const a = parameter(new Float32Array(2), [2]), b = parameter(new Float32Array(1), [1]);
  a.grad = Float32Array.from([3, 0]);
  b.grad = Float32Array.from([4]);
  assert.ok(Math.abs(clipGradNorm([a, b], 1) - 5) < 1e-6);
  assert.ok(Math.abs(Math.hypot(a.grad[0], b.grad[0]) - 1) < 1e-5);
  const opt = new SGD([a, b], { lr: 1 });
  a.grad = Float32Array.from([3, 0]); b.grad = Float32Array.from([4]);
  const { gradNorm, clipScale } = opt.step({ maxGradNorm: 2.5 });
  assert.ok(Math.abs(gradNorm - 5) < 1e-5 && Math.abs(clipScale - 0.5) < 1e-6);
  assert.ok(Math.abs(b.data[0] + 2) < 1e-5, 'update used the clipped gradient');
  a.grad = Float32Array.from([NaN, 0]);
  assert.throws(() => opt.step(), /gradient of parameter 0 \[2\] is NaN at element 0/);
});

test('two accumulated half-batches give the same update as one full batch', () => {
  const rng = new Rng(4);
  const x = rng.fillNormal(new Float32Array(8 * 6)), targets = Int32Array.from([0, 1, 2, 3, 0, 1, 2, 3]);
  const w0 = rng.fillNormal(new Float32Array(4 * 6));
  const run = (chunks: number): Float32Array => {
    const w = parameter(w0.slice(), [4, 6]);
    const opt = new AdamW([w], { lr: 0.1 });
    const rows = 8 / chunks;
    for (let c = 0; c < chunks; c++) {
      scope(() => {
        const xb = tensor(x.slice(c * rows * 6, (c + 1) * rows * 6), [rows, 6]);
        backward(crossEntropy(linear(xb, w), targets.slice(c * rows, (c + 1) * rows)));
      });
    }
    opt.step({ gradScale: 1 / chunks });
    return w.data;
  };
  const full = run(1), accumulated = run(2);
  for (let i = 0; i < full.length; i++) assert.ok(Math.abs(full[i] - accumulated[i]) < 1e-5);
});

test('optimizer state saved and restored continues exactly', () => {
  const makeRun = () => { const p = randParam(9, 5); return { p, opt: new AdamW([p], { lr: 0.05 }) }; };
  const grads = [1, 2, 3, 4].map((s) => new Rng(10 + s).fillNormal(new Float32Array(9)));
  const a = makeRun();
  grads.forEach((g) => { a.p.grad = g.slice(); a.opt.step(); });
  const b = makeRun();
  grads.slice(0, 2).forEach((g) => { b.p.grad = g.slice(); b.opt.step(); });
  const saved = { state: b.opt.state(), weights: b.p.data.slice() };
  const c = makeRun();
  c.p.data.set(saved.weights);
  c.opt.loadState(saved.state);
  grads.slice(2).forEach((g) => { c.p.grad = g.slice(); c.opt.step(); });
  assert.deepEqual(Array.from(c.p.data), Array.from(a.p.data));
  assert.throws(() => new AdamW([randParam(3, 1)]).loadState(saved.state), /state m.0 has 9 elements, parameter 0 has 3/);
  assert.throws(() => new SGD([c.p]).loadState(saved.state), /state is for adamw, not sgd/);
});

test('warmup then cosine decay to the floor', () => {
  const s = { maxLr: 1, minLr: 0.1, warmupSteps: 10, totalSteps: 110 };
  assert.ok(Math.abs(warmupCosine(s, 0) - 0.1) < 1e-12);
  assert.equal(warmupCosine(s, 9), 1);
  assert.equal(warmupCosine(s, 10), 1);
  assert.ok(Math.abs(warmupCosine(s, 60) - 0.55) < 1e-12);
  assert.ok(Math.abs(warmupCosine(s, 110) - 0.1) < 1e-12);
  for (let i = 11; i < 110; i++) assert.ok(warmupCosine(s, i) <= warmupCosine(s, i - 1));
});

test('scope hands intermediate buffers back and keeps what it returns and the parameters\' gradients', () => {
  const w = randParam(64, 6);
  const released: Float32Array[] = [];
  const kept = scope(() => {
    const y = mul(w, w);
    backward(sum(y));
    released.push(y.data, y.grad!);
    return sum(w);
  });
  assert.ok(w.grad && Math.abs(w.grad[0] - 2 * w.data[0]) < 1e-6, 'parameter gradient survives the scope');
  assert.ok(Number.isFinite(kept.item()), 'returned tensor survives');
  const reused = scope(() => released.includes(mul(w, w).data));
  assert.equal(reused, true, 'the next step reuses the pooled buffer');
});

test('a scope that throws drops its half-built graph: the next NaN is blamed on the op that made it', () => {
  const w = parameter(Float32Array.of(-1, 2), [2], 'w');
  assert.throws(() => scope(() => {
    log(w);                                   // NaN at element 0, recorded on the tape
    throw new Error('forward failed');
  }), /forward failed/);
  const big = parameter(Float32Array.of(1000), [1], 'big');
  assert.throws(() => backward(sum(exp(big))), /NaN\/Inf first appears in the output of exp \[1\]/);
});

test('clearPool frees pooled buffers: the next step allocates afresh', () => {
  const w = randParam(64, 7);
  const released: Float32Array[] = [];
  scope(() => { released.push(mul(w, w).data); });
  clearPool();
  assert.equal(scope(() => released.includes(mul(w, w).data)), false);
});

test('buffers an op keeps for its backward (attention probabilities, norm statistics) return to the pool too', () => {
  const [B, H, T, D] = [2, 2, 8, 4];
  const rng = new Rng(11);
  const qkv = [0, 1, 2].map((i) => parameter(Float32Array.from({ length: B * H * T * D }, () => rng.normal()), [B, H, T, D], `qkv${i}`));
  const w = randParam(D, 14), b = randParam(D, 15);
  const step = (): Float32Array[] => scope(() => {
    const y = attention(qkv[0]!, qkv[1]!, qkv[2]!);
    const z = layerNorm(y, w, b);
    backward(sum(mul(z, z)));
    return [...y.saved!, ...z.saved!];
  });
  const first = step();
  assert.equal(first.length, 3, 'attention keeps its probabilities, layerNorm its mean and 1/std');
  assert.equal(first[0]!.length, B * H * T * T);
  const second = step();
  // Without pooling every step would allocate these afresh (4 MB of probabilities per step for the tiny GPT, which
  // kept the garbage collector marking on the second core mid-step).
  for (const buffer of second) assert.ok(first.includes(buffer), 'the next step reuses the pooled side buffer');
});
