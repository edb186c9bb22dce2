/**
 * The constants every backend must agree on, each defined once here as an `as const` list or
 * table with its type derived from it. Backends index kernels by these lists; a native or GPU
 * backend whose own tables are written in another language checks them against these at load
 * time (the native addon reports its tables and refuses to load on a mismatch).
 */

/** Element types a backend may store. */
export const DTYPES = ['float32', 'float64'] as const;
export type DType = (typeof DTYPES)[number];

/** Bytes per element of each dtype. */
export const BYTES_PER_ELEMENT: Readonly<Record<DType, number>> = { float32: 4, float64: 8 };

/**
 * Element-wise unary operations, in this order (a backend may use the index as its op code).
 * `scale` multiplies by `param` (default 1); `clamp` clamps to [param, param2] (a missing
 * bound is unbounded); `step` is 1 where x > 0, else 0.
 */
export const UNARY_OPS = [
  'copy',
  'neg',
  'exp',
  'log',
  'tanh',
  'sigmoid',
  'relu',
  'step',
  'sqrt',
  'square',
  'abs',
  'reciprocal',
  'scale',
  'clamp',
] as const;
export type UnaryOp = (typeof UNARY_OPS)[number];

/** Element-wise binary operations, in this order. */
export const BINARY_OPS = ['add', 'sub', 'mul', 'div'] as const;
export type BinaryOp = (typeof BINARY_OPS)[number];

/**
 * Fused recurrent cells, in this order. `gx = x·W_ihᵀ + b_ih` and `gh = h·W_hhᵀ + b_hh` are
 * `[batch, G·hidden]` with G = `GATE_COUNT[kind]` gate row-blocks in this order:
 * - `tanh`, `relu` (Elman, G = 1): `h' = act(gx + gh)`
 * - `lstm` (G = 4, blocks i, f, g, o): PyTorch's LSTM
 * - `gru` (G = 3, blocks r, z, n): PyTorch's GRU, reset applied after the matmul
 * - `ugrnn` (G = 2, blocks g, c): `c = tanh(gx_c + gh_c)`, `g = σ(gx_g + gh_g)`,
 *   `h' = g ⊙ h + (1 − g) ⊙ c`
 */
export const CELL_KINDS = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'] as const;
export type CellKind = (typeof CELL_KINDS)[number];

/** Gate row-blocks of each cell kind (see `CELL_KINDS`). */
export const GATE_COUNT: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 4, gru: 3, ugrnn: 2 };

/** State tensors of each cell kind: `[h]`, or `[h, c]` for LSTM. */
export const STATE_COUNT: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 2, gru: 1, ugrnn: 1 };

/**
 * The reference layout of a cell step's saved activations: blocks of `hidden` values per batch
 * row — tanh, relu: h'; LSTM: i, f, g, o, tanh(c'); GRU: r, z, n, gh_n; UGRNN: g, c — the
 * activated gates plus what the backward cannot rebuild from them. The JS and native cells save
 * exactly this, the WebGPU kernels this followed by copies of the states; the contract itself
 * leaves `saved` opaque (the checked wrapper checks its provenance, not its length).
 */
export const SAVED_BLOCKS: Readonly<Record<CellKind, number>> = { tanh: 1, relu: 1, lstm: 5, gru: 4, ugrnn: 2 };

/** Optimizer update kinds, in this order. */
export const OPTIMIZER_KINDS = ['sgd', 'adam', 'rmsprop'] as const;
export type OptimizerKind = (typeof OPTIMIZER_KINDS)[number];

/**
 * State buffers `optimizerStep` takes per kind, each as long as the parameter and created
 * zero by the caller: sgd `[momentum]`, adam `[m, v, vMax]`, rmsprop `[squareAvg, momentum,
 * gradAvg]`.
 */
export const OPTIMIZER_STATE_COUNT: Readonly<Record<OptimizerKind, number>> = { sgd: 1, adam: 3, rmsprop: 3 };
