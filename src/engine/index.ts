// The engine's public surface: tensors and autograd, ops, optimizers, random numbers, backends.
// Knows nothing of language models (DESIGN.md: the engine layer).
export * from './backend.ts';
export { availableBackends, getBackend, loadBackend, setBackend } from './backends/index.ts';
export * from './tensor.ts';
export * from './random.ts';
export * from './optim.ts';
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/shape.ts';
export * from './ops/matmul.ts';
export * from './ops/nn.ts';
export * from './ops/heads.ts';
export * from './ops/rope.ts';
export * from './ops/swiglu.ts';
export * from './ops/bf16-linear.ts';
export * from './bf16.ts';
export * from './precision.ts';
