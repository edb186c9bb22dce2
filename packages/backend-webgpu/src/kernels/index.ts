/** WGSL sources of every kernel, by family (conventions in `prelude.ts`). */
export * from './cells.js';
export * from './elementwise.js';
export * from './gemm.js';
export * from './loss-optimizers.js';
export * from './movement.js';
export * from './prelude.js';
export * from './reductions.js';
export * from './sequence.js';
export * from './sequence-fused.js';
