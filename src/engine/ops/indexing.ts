// Flat-index maps for copying ops: for each element of an output shape, the flat offset into an input read through
// per-axis strides (0 for a broadcast axis). Used by broadcasting (elementwise.ts) and permute (shape.ts).
import type { Shape } from '../tensor.ts';

/** offsets[i] = Σ_axis index_axis(i) · strides[axis], i running over shape in row-major order. */
export function stridedOffsets(shape: Shape, strides: readonly number[]): Int32Array {
  const rank = shape.length;
  let n = 1;
  for (const d of shape) n *= d;
  const offsets = new Int32Array(n);
  const counter = new Array<number>(rank).fill(0);
  let offset = 0;
  for (let i = 0; i < n; i++) {
    offsets[i] = offset;
    for (let axis = rank - 1; axis >= 0; axis--) {   // odometer: bump the last axis, carry into earlier ones
      counter[axis]++;
      offset += strides[axis];
      if (counter[axis] < shape[axis]) break;
      offset -= strides[axis] * counter[axis];
      counter[axis] = 0;
    }
  }
  return offsets;
}
