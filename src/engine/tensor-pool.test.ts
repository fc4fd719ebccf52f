// The tensor buffer pool: size classes a quarter of a power of two apart, exact-length views, a free buffer of a
// larger class (up to twice) reused before fresh memory, and arrays the pool did not make kept only at a class size.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { allocOutput, allocZeros, clearPool, makeOutput, poolClass, scope, Tensor } from './tensor.ts';

test('poolClass: exact up to 1024 floats, then 2^k·(1 + j/4) at or above n', () => {
  assert.deepEqual([1, 7, 1024].map(poolClass), [1, 7, 1024]);
  assert.deepEqual([1025, 1280, 1281, 1536, 1792, 1793, 2048, 2049].map(poolClass), [1280, 1280, 1536, 1536, 1792, 2048, 2048, 2560]);
  for (let n = 1025; n < 70_000; n += 997) {
    const c = poolClass(n);
    assert.ok(c >= n && c <= 1.25 * n + 1, `class ${c} of ${n}`);
    assert.equal(poolClass(c), c, 'a class is its own class');
  }
});

/** A buffer handed out by allocOutput inside a scope, released when the scope ends. */
function released(n: number): Float32Array {
  let data: Float32Array | null = null;
  scope(() => {
    data = allocOutput(n);
    makeOutput('test', data, [n], [], () => {});
    return null;
  });
  return data!;
}

test('row counts that change between calls reuse the same memory: exact-length views of one class-size buffer', () => {
  clearPool();
  const first = released(266 * 512);                          // a prefill of 266 rows
  assert.equal(first.length, 266 * 512);
  assert.equal(first.buffer.byteLength, 4 * poolClass(266 * 512));
  const second = allocOutput(285 * 512);                       // the next round's 285 rows: the same class
  assert.equal(second.length, 285 * 512);
  assert.equal(second.buffer, first.buffer, 'the released buffer is handed out again');
  clearPool();
});

test('a free buffer of a larger class (up to twice) serves before fresh memory; not one past twice', () => {
  clearPool();
  const big = released(3000);                                  // class 3072
  const small = allocZeros(1700);                              // class 1792: 3072 ≤ 2 × 1792
  assert.equal(small.buffer, big.buffer);
  assert.ok(small.every((x) => x === 0), 'allocZeros zeroes what it hands out');
  released(1700);
  const tiny = allocOutput(1100);                              // class 1280: 3072 > 2 × 1280
  assert.notEqual(tiny.buffer, big.buffer);
  clearPool();
});

test('arrays the pool did not make go back only when their length is a class: never a view of someone else\'s array', () => {
  clearPool();
  const odd = new Float32Array(3000);                          // not a class size: dropped, never handed out
  scope(() => { new Tensor(odd, [3000]); return null; });
  assert.notEqual(allocOutput(2900).buffer, odd.buffer);
  const even = new Float32Array(3072);                         // a class size: reused
  scope(() => { new Tensor(even, [3072]); return null; });
  assert.equal(allocOutput(2900).buffer, even.buffer);
  clearPool();
});
