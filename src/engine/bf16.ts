// bfloat16 in the engine: float32 <-> bf16 bits (round to nearest even on the way down, exact on the way up), and the
// bf16 weight matrix that generation multiplies by (half the bytes of float32 to stream per token). Mixed-precision
// training rounds its operands inside the backend's gemmMixed instead. Leaves out: IEEE half (models/float-formats.ts).

/** A weight matrix in bf16, (rows, cols) row-major = (out, in) as torch.nn.Linear: y = x Wᵀ. */
export interface Bf16Matrix {
  readonly bits: Uint16Array;   // (rows, cols) bfloat16 bit patterns
  readonly rows: number;        // output features N
  readonly cols: number;        // input features K
}

/** bfloat16 bits → float32 (exact: bf16 is the top half of a float32). */
export function bf16ToF32(bits: Uint16Array, out = new Float32Array(bits.length)): Float32Array {
  const outBits = new Uint32Array(out.buffer, out.byteOffset, out.length);
  for (let i = 0; i < bits.length; i++) outBits[i] = bits[i] << 16;
  return out;
}

/** float32 → bfloat16 bits, round to nearest even; NaN stays NaN. */
export function f32ToBf16(values: Float32Array, out = new Uint16Array(values.length)): Uint16Array {
  const inBits = new Uint32Array(values.buffer, values.byteOffset, values.length);
  for (let i = 0; i < values.length; i++) {
    const x = inBits[i];
    if ((x & 0x7f800000) === 0x7f800000 && (x & 0x007fffff) !== 0) { out[i] = (x >>> 16) | 0x0040; continue; }
    out[i] = ((x + 0x7fff + ((x >>> 16) & 1)) >>> 16) & 0xffff;
  }
  return out;
}

