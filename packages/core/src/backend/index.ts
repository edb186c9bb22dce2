/**
 * `@recur/core/backend`: the entry for backend authors and writers of custom differentiable
 * ops. It holds the Backend interface (`interface.ts`, with its errors-and-lifecycle contract),
 * the constants every backend must agree on (`constants.ts`), `checkedBackend` (the contract
 * as code), the registry hook, the typed errors, and the autograd hooks a custom op needs.
 */
export { type BackwardFn, backward, recordOp, recordView, willRecord } from '../autograd.js';
export * from '../errors.js';
export { type BackendFactory, type BackendOptions, type RegisterBackendOptions, registerBackend } from '../registry.js';
export { assertValidShape, broadcastShapes, broadcastStrides, normalizeAxis, sameShape, sizeOf, stridesOf } from '../shape.js';
export { commonBackend, type GradNode, type TensorInit } from '../tensor.js';
export { checkAllocation, DEFAULT_ALLOCATION_LIMIT, getAllocationLimit, setAllocationLimit } from './allocation.js';
export { CheckedBackend, checkedBackend, type MemoryInfo } from './checked.js';
export * from './constants.js';
export type * from './interface.js';
