// Conversions between float32 and the 16-bit float formats checkpoints are stored in (IEEE half, bfloat16).
// Round-to-nearest-even on the way down, exact on the way up; no float8, no integer formats.
import { bf16ToF32, f32ToBf16 } from '../engine/bf16.ts';

export { bf16ToF32, f32ToBf16 };

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** Rounds float32 values to the nearest bfloat16, kept as float32 (what a BF16 round trip gives back). */
export function roundToBf16(values: Float32Array): Float32Array {
  return bf16ToF32(f32ToBf16(values));
}

/** One IEEE half (bits) → number. */
export function halfToNumber(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exponent = (h >>> 10) & 0x1f;
  const mantissa = h & 0x3ff;
  if (exponent === 0) return sign * mantissa * 2 ** -24;                 // zero or subnormal
  if (exponent === 0x1f) return mantissa ? NaN : sign * Infinity;
  return sign * (1 + mantissa / 1024) * 2 ** (exponent - 15);
}

let halfTable: Float32Array | null = null;

/** IEEE half bits → float32 (exact), through a 64K-entry table. */
export function f16ToF32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  if (!halfTable) {
    halfTable = new Float32Array(65536);
    for (let h = 0; h < 65536; h++) halfTable[h] = halfToNumber(h);
  }
  for (let i = 0; i < bits.length; i++) out[i] = halfTable[bits[i]];
  return out;
}

/** One float32 value → IEEE half bits, round to nearest even, overflow to ±Infinity. */
export function numberToHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exponent = (x >>> 23) & 0xff;
  let mantissa = x & 0x7fffff;
  if (exponent === 0xff) return sign | 0x7c00 | (mantissa ? 0x200 : 0);   // Inf or NaN
  const e = exponent - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;                                     // overflow
  if (e <= 0) {                                                           // subnormal half or zero
    if (e < -10) return sign;
    mantissa |= 0x800000;
    const shift = 14 - e;
    const half = mantissa >>> shift;
    const rest = mantissa & ((1 << shift) - 1);
    const halfway = 1 << (shift - 1);
    const rounded = rest > halfway || (rest === halfway && (half & 1)) ? half + 1 : half;
    return sign | rounded;
  }
  const half = (e << 10) | (mantissa >>> 13);
  const rest = mantissa & 0x1fff;
  const rounded = rest > 0x1000 || (rest === 0x1000 && (half & 1)) ? half + 1 : half;  // may carry into exponent
  return sign | rounded;
}

export function f32ToF16(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  for (let i = 0; i < values.length; i++) out[i] = numberToHalf(values[i]);
  return out;
}
