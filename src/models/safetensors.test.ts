// Safetensors reader/writer: round trips in F32/F16/BF16, 16-bit conversions, and every malformed-file error
// naming the file and tensor (truncation, oversized header, bad JSON, bad offsets, overlap, fuzzed bytes).
import assert from 'node:assert/strict';
import { mkdtempSync, readdirSync, readFileSync, rmSync, truncateSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import { halfToNumber, numberToHalf, roundToBf16 } from './float-formats.ts';
import { CheckpointError, openSafetensors, readSafetensors, writeSafetensors, type TensorLike } from './safetensors.ts';

const dir = mkdtempSync(join(tmpdir(), 'safetensors-test-'));
after(() => rmSync(dir, { recursive: true, force: true }));

function randomTensors(seed: number): Map<string, TensorLike> {
  let s = seed;
  const next = () => ((s = (s * 1664525 + 1013904223) >>> 0) / 2 ** 32 - 0.5) * 4;
  const make = (shape: number[]) => ({ shape, data: Float32Array.from({ length: shape.reduce((a, b) => a * b, 1) }, next) });
  return new Map([['a.weight', make([3, 5])], ['b.bias', make([7])], ['scalar', make([])], ['empty', make([0, 4])]]);
}

/** Builds a file from a raw header object and a data section. */
function rawFile(name: string, header: unknown, data: Uint8Array, lengthOverride?: bigint): string {
  const path = join(dir, name);
  const text = Buffer.from(typeof header === 'string' ? header : JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(lengthOverride ?? BigInt(text.length));
  writeFileSync(path, Buffer.concat([length, text, data]));
  return path;
}

function expectError(fn: () => unknown, file: string, pattern: RegExp, tensor?: string): void {
  assert.throws(fn, (error: unknown) => {
    assert.ok(error instanceof CheckpointError, `expected CheckpointError, got ${String(error)}`);
    assert.ok(error.message.includes(file), `message names the file: ${error.message}`);
    if (tensor) assert.ok(error.message.includes(`'${tensor}'`), `message names the tensor: ${error.message}`);
    assert.match(error.message, pattern);
    return true;
  });
}

describe('safetensors round trip', () => {
  it('F32 is exact and keeps metadata, order and 8-byte alignment', () => {
    const tensors = randomTensors(1);
    const path = join(dir, 'f32.safetensors');
    writeSafetensors(path, tensors, { format: 'pt', note: 'hello' });
    const bytes = readFileSync(path);
    assert.equal(Number(bytes.readBigUInt64LE(0)) % 8, 0);
    const loaded = readSafetensors(path);
    assert.deepEqual(loaded.metadata, { format: 'pt', note: 'hello' });
    assert.deepEqual([...loaded.tensors.keys()], [...tensors.keys()]);
    for (const [name, t] of tensors) {
      const got = loaded.tensors.get(name)!;
      assert.equal(got.dtype, 'F32');
      assert.deepEqual(got.shape, t.shape);
      assert.deepEqual(got.data, t.data);
    }
  });

  it('BF16 gives back the bf16-rounded values; F16 within half precision', () => {
    const tensors = randomTensors(2);
    for (const dtype of ['BF16', 'F16'] as const) {
      const path = join(dir, `${dtype}.safetensors`);
      writeSafetensors(path, tensors, undefined, dtype);
      const loaded = readSafetensors(path);
      for (const [name, t] of tensors) {
        const got = loaded.tensors.get(name)!;
        assert.equal(got.dtype, dtype);
        if (dtype === 'BF16') assert.deepEqual(got.data, roundToBf16(t.data));
        else t.data.forEach((x, i) => assert.ok(Math.abs(got.data[i] - x) <= Math.abs(x) * 2 ** -11 + 2 ** -24));
      }
    }
  });

  it('lazy reader reads one tensor without the others', () => {
    const path = join(dir, 'lazy.safetensors');
    writeSafetensors(path, randomTensors(3));
    const reader = openSafetensors(path);
    assert.deepEqual(reader.info('b.bias').shape, [7]);
    assert.equal(reader.read('b.bias').data.length, 7);
    reader.close();
    expectError(() => reader.read('b.bias'), path, /closed/, 'b.bias');
  });

  it('write is atomic: a failed write leaves the old file and no temporary', () => {
    const path = join(dir, 'atomic.safetensors');
    writeSafetensors(path, randomTensors(4));
    const before = readFileSync(path);
    const bad = new Map<string, TensorLike>([['x', { shape: [3], data: new Float32Array(2) }]]);
    expectError(() => writeSafetensors(path, bad), path, /needs 3/, 'x');
    assert.deepEqual(readFileSync(path), before);
    assert.deepEqual(readdirSync(dir).filter((f) => f.endsWith('.tmp')), []);
  });
});

describe('16-bit conversions', () => {
  it('half: rounding, subnormals, overflow, specials', () => {
    for (const [x, h] of [[0, 0], [1, 0x3c00], [65504, 0x7bff], [65520, 0x7c00], [2 ** -24, 1], [2 ** -25, 0],
      [3 * 2 ** -25, 2], [-2, 0xc000], [Infinity, 0x7c00], [1 + 2 ** -11, 0x3c00], [1 + 3 * 2 ** -11, 0x3c02]] as const) {
      assert.equal(numberToHalf(x), h, `half(${x})`);
    }
    assert.ok(Number.isNaN(halfToNumber(numberToHalf(NaN))));
    for (let h = 0; h < 0x7c00; h += 37) assert.equal(numberToHalf(halfToNumber(h)), h);
  });

  it('bf16: round to nearest even, NaN kept', () => {
    const got = roundToBf16(Float32Array.of(1 + 2 ** -8, 1 + 3 * 2 ** -8, -3.0000001, NaN, Infinity));
    assert.deepEqual([...got.slice(0, 3)], [1, 1 + 2 ** -6, -3]);
    assert.ok(Number.isNaN(got[3]));
    assert.equal(got[4], Infinity);
  });
});

describe('safetensors malformed files', () => {
  const entry = (dtype: string, shape: number[], offsets: number[]) => ({ dtype, shape, data_offsets: offsets });

  it('file shorter than the header length field', () => {
    const path = join(dir, 'tiny.safetensors');
    writeFileSync(path, Buffer.from([1, 2, 3]));
    expectError(() => readSafetensors(path), path, /too short/);
  });

  it('header length beyond the file or beyond the cap', () => {
    const past = rawFile('past.safetensors', {}, new Uint8Array(0), 4096n);
    expectError(() => readSafetensors(past), past, /larger than the file/);
    const huge = rawFile('huge.safetensors', {}, new Uint8Array(0), 2n ** 63n);
    expectError(() => readSafetensors(huge), huge, /exceeds/);
  });

  it('header that is not JSON or not an object', () => {
    const notJson = rawFile('notjson.safetensors', '{"a": [1, 2', new Uint8Array(0));
    expectError(() => readSafetensors(notJson), notJson, /not valid JSON/);
    const array = rawFile('array.safetensors', '[1, 2]', new Uint8Array(0));
    expectError(() => readSafetensors(array), array, /not a JSON object/);
  });

  it('truncated data section', () => {
    const path = join(dir, 'truncated.safetensors');
    writeSafetensors(path, randomTensors(5));
    truncateSync(path, readFileSync(path).length - 10);
    expectError(() => readSafetensors(path), path, /out of range.*truncated/, 'b.bias');
  });

  it('offsets out of range, reversed, overlapping, or not matching dtype × shape', () => {
    const data = new Uint8Array(48);
    const outside = rawFile('outside.safetensors', { w: entry('F32', [4], [40, 56]) }, data);
    expectError(() => readSafetensors(outside), outside, /out of range/, 'w');
    const reversed = rawFile('reversed.safetensors', { w: entry('F32', [0], [8, 4]) }, data);
    expectError(() => readSafetensors(reversed), reversed, /out of range/, 'w');
    const overlap = rawFile('overlap.safetensors', { a: entry('F32', [4], [0, 16]), b: entry('F32', [4], [8, 24]) }, data);
    expectError(() => readSafetensors(overlap), overlap, /overlap tensor 'a'/, 'b');
    const span = rawFile('span.safetensors', { w: entry('BF16', [4], [0, 16]) }, data);
    expectError(() => readSafetensors(span), span, /needs 8/, 'w');
    const negative = rawFile('negative.safetensors', { w: entry('F32', [-1], [0, 4]) }, data);
    expectError(() => readSafetensors(negative), negative, /invalid shape/, 'w');
    const dtype = rawFile('dtype.safetensors', { w: entry('F128', [1], [0, 16]) }, data);
    expectError(() => readSafetensors(dtype), dtype, /unknown dtype/, 'w');
  });

  it('known but unconvertible dtype is an error only when read', () => {
    const path = rawFile('int.safetensors', { ids: entry('I64', [2], [0, 16]), w: entry('F32', [2], [16, 24]) },
      new Uint8Array(24));
    const reader = openSafetensors(path);
    assert.deepEqual(reader.read('w').data, new Float32Array(2));
    expectError(() => reader.read('ids'), path, /not supported/, 'ids');
    expectError(() => reader.info('missing'), path, /not in this file/, 'missing');
    reader.close();
  });

  it('fuzzed bytes: every outcome is a clean read or a CheckpointError', () => {
    const path = join(dir, 'fuzz-source.safetensors');
    writeSafetensors(path, randomTensors(6));
    const original = readFileSync(path);
    let s = 12345;
    const rand = (n: number) => (s = (s * 1103515245 + 12345) >>> 0) % n;
    for (let trial = 0; trial < 300; trial++) {
      const bytes = Buffer.from(original);
      for (let k = 0; k < 1 + rand(4); k++) bytes[rand(Math.min(bytes.length, 200))] = rand(256);
      const fuzzed = join(dir, 'fuzz.safetensors');
      writeFileSync(fuzzed, trial % 5 === 0 ? bytes.subarray(0, rand(bytes.length)) : bytes);
      try {
        readSafetensors(fuzzed);
      } catch (error) {
        assert.ok(error instanceof CheckpointError, `trial ${trial}: ${String(error)}`);
      }
    }
  });
});
