// The tensor layer's public surface: Tensor, creation, autograd, arenas and every op.

export * from './tensor.ts';
export * from './shape.ts';
export { backward, noGrad, isGradEnabled, type BackwardOptions } from './autograd.ts';
export { outsideArenas, readAfterScope, stepScope } from './arena.ts';
export { getDefaultBackend, setDefaultBackend } from './backend-registry.ts';
export { Rng, type RngState } from './rng.ts';
export * from './ops/elementwise.ts';
export * from './ops/reduce.ts';
export * from './ops/layout.ts';
export * from './ops/matmul.ts';
export * from './ops/norms.ts';
export * from './ops/softmax.ts';
export * from './ops/attention.ts';
export * from './ops/embedding.ts';
export * from './ops/dropout.ts';
