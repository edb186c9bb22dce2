/**
 * `@recur/core`: what users of Recur call. Backend authors (and writers of custom
 * differentiable ops) import `@recur/core/backend` as well, which adds the Backend interface,
 * the shared constants, `checkedBackend` and the autograd hooks; those are not re-exported
 * here, so they can evolve without breaking user code.
 */
import './tensor-methods.js';

export { type BackwardOptions, isGradEnabled, noGrad } from './autograd.js';
export { DEFAULT_ALLOCATION_LIMIT, getAllocationLimit, setAllocationLimit } from './backend/allocation.js';
export type { MemoryInfo } from './backend/checked.js';
export type { DType } from './backend/constants.js';
export type { Backend } from './backend/interface.js';
export { memory } from './backend/memory.js';
export {
  AutogradError,
  BackendCapabilityError,
  BackendDestroyedError,
  BackendError,
  BackendMismatchError,
  BackendUnavailableError,
  DeviceLostError,
  DisposedTensorError,
  FileAccessError,
  FormatError,
  NonFiniteError,
  OptionsError,
  OutOfMemoryError,
  RecurError,
  ShapeError,
  StateDictError,
  ValueRangeError,
} from './errors.js';
export { IntTensor, intTensor } from './int-tensor.js';
export {
  decodeSafetensors,
  encodeSafetensors,
  SAFETENSORS_DTYPES,
  SAFETENSORS_MAX_HEADER_BYTES,
  SAFETENSORS_MAX_TENSORS,
  type SafetensorsContent,
} from './io/safetensors.js';
export type { DecodeResult } from './nn/beam-search.js';
export { type Cell, type CellOptions, type ElmanNonlinearity, LeakyCell, type LeakyCellOptions } from './nn/cells.js';
export { DelayCell, type DelayCellOptions, DelayRNN, type DelayRNNOptions } from './nn/delay.js';
export { Dropout, type DropoutOptions } from './nn/dropout.js';
export { Embedding, type EmbeddingOptions } from './nn/embedding.js';
export {
  ESN,
  ESNCell,
  type ESNCellOptions,
  type ESNOptions,
  estimateSpectralRadius,
  type FitRidgeOptions,
  fitRidge,
  type ReservoirOptions,
  type RidgeData,
} from './nn/esn.js';
export { type GenerateOptions, generate } from './nn/generate.js';
export { GRUD, type GRUDForwardOptions, type GRUDOptions, type GRUDOutput } from './nn/grud.js';
export type { InitOptions } from './nn/init.js';
export * as init from './nn/init.js';
export {
  GRU,
  type GRUOptions,
  type LayerOptions,
  LeakyRNN,
  type LeakyRNNOptions,
  LSTM,
  type LSTMOptions,
  RNN,
  type RNNOptions,
  UGRNN,
} from './nn/layers.js';
export { Linear, type LinearOptions } from './nn/linear.js';
export {
  type HostArray,
  type LoadStateDictOptions,
  Module,
  type ModuleOptions,
  type ModuleOptionsCheck,
} from './nn/module.js';
export {
  type CellFactoryArgs,
  type RecurrentForwardOptions,
  RecurrentLayer,
  type RecurrentLayerOptions,
  type RecurrentOutput,
} from './nn/recurrent.js';
export {
  type BeamSearchOptions,
  type DecodeOptions,
  Seq2Seq,
  type Seq2SeqForwardOptions,
  type Seq2SeqHead,
  type Seq2SeqOptions,
} from './nn/seq2seq.js';
export {
  LastHidden,
  Sequential,
  type SequentialForwardOptions,
  type SequentialLayer,
  type SequentialOutput,
} from './nn/sequential.js';
export {
  GRUCell,
  type GRUCellOptions,
  LSTMCell,
  type LSTMCellOptions,
  RNNCell,
  type RNNCellOptions,
  type StepCellOptions,
} from './nn/step-cells.js';
export { type SeriesData, type TimeDeltaOptions, timeSinceObserved, withTimeDeltas } from './nn/time-aware.js';
export { ProjectedLSTMCell, type ProjectedLSTMCellOptions, ResetBeforeGRUCell, SigmoidElmanCell } from './nn/variant-cells.js';
export {
  abs,
  add,
  div,
  exp,
  log,
  mul,
  neg,
  reciprocal,
  relu,
  scale,
  sigmoid,
  sqrt,
  square,
  sub,
  type TensorLike,
  tanh,
} from './ops/elementwise.js';
export { type CrossEntropyOptions, checkFinite, crossEntropy, mse } from './ops/loss.js';
export { linear, matmul } from './ops/matmul.js';
export { mean, type ReduceOptions, sum } from './ops/reduce.js';
export { type SampleOptions, sample } from './ops/sampling.js';
export { concat, gatherRows, permute, reshape, slice, stack, transpose, unstack } from './ops/shape-ops.js';
export { logSoftmax, softmax } from './ops/softmax.js';
export { checkOptions, describeValue, type OptionSpec, type OptionsSchema, option, required } from './options.js';
export { manualSeed, Random } from './random.js';
export {
  type BackendOptions,
  createBackend,
  createBackendSync,
  getDefaultBackend,
  hasDefaultBackend,
  listBackends,
  setDefaultBackend,
} from './registry.js';
export { keep, tidy } from './scope.js';
export type { Shape } from './shape.js';
export {
  disposeAll,
  full,
  Parameter,
  type ParameterOptions,
  Tensor,
  type TensorCreateOptions,
  type TensorOptions,
  tensor,
  zeros,
} from './tensor.js';
export { type BpttChunk, bpttChunks, detachState, type TruncatedBpttOptions, truncatedBptt } from './train/bptt.js';
export { type ClipGradNormOptions, clipGradNorm, clipGradValue } from './train/clip.js';
export { type AccuracyOptions, accuracy, perplexity } from './train/metrics.js';
export {
  Adam,
  type AdamOptions,
  AdamW,
  Optimizer,
  RMSprop,
  type RMSpropOptions,
  SGD,
  type SGDOptions,
} from './train/optimizers.js';
export {
  CosineAnnealingLR,
  type CosineAnnealingLROptions,
  LinearLR,
  type LinearLROptions,
  LRScheduler,
  type LRSchedulerState,
  ReduceLROnPlateau,
  type ReduceLROnPlateauOptions,
  type ReduceLROnPlateauState,
  SequentialLR,
  type SequentialLROptions,
  StepLR,
  type StepLROptions,
} from './train/schedulers.js';
