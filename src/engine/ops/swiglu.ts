// SwiGLU gate (Shazeer, arXiv 2002.05202), as in Llama's MLP: out = silu(gate) · up, fused into one pass.
// Leaves out: the projections around it (linear).
import { EngineError } from '../backend.ts';
import { allocOutput, makeOutput, shapeString, type Tensor } from '../tensor.ts';

/** silu(gate) * up, elementwise; gate and up have the same shape. */
export function swiglu(gate: Tensor, up: Tensor): Tensor {
  if (gate.size !== up.size || gate.rank !== up.rank || gate.shape.some((d, i) => d !== up.shape[i])) {
    throw new EngineError('swiglu', `gate ${shapeString(gate.shape)} and up ${shapeString(up.shape)} differ`);
  }
  const n = gate.size, G = gate.data, U = up.data, out = allocOutput(n);
  for (let i = 0; i < n; i++) out[i] = (G[i] / (1 + Math.exp(-G[i]))) * U[i];
  return makeOutput('swiglu', out, gate.shape, [gate, up], (o) => {
    const g = o.grad!;
    const gg = gate.requiresGrad ? gate.gradBuffer() : null, gu = up.requiresGrad ? up.gradBuffer() : null;
    for (let i = 0; i < n; i++) {
      const s = 1 / (1 + Math.exp(-G[i])), silu = G[i] * s;
      if (gg) gg[i] += g[i] * U[i] * s * (1 + G[i] * (1 - s));
      if (gu) gu[i] += g[i] * silu;
    }
  });
}
