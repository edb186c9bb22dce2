import { checkAllocation } from './backend/allocation.js';
import { checkedBackend } from './backend/checked.js';
import type { Backend, BackendBuffer, BlockingReads, DType, FloatArray } from './backend/interface.js';
import { BackendCapabilityError, BackendMismatchError, DisposedTensorError, describeShape, OptionsError, ShapeError } from './errors.js';
import { IntTensor } from './int-tensor.js';
import { checkOptions, describeValue, hostNumbers, type OptionsSchema, option } from './options.js';
import { getDefaultBackend } from './registry.js';
import { trackTensor, untrackTensor } from './scope.js';
import { assertValidShape, type Shape, sizeOf } from './shape.js';

/**
 * A node of the autograd graph: the operation that produced one or more tensors.
 * `backward` receives one gradient per output (null where no gradient arrived) and returns one
 * gradient per entry of `inputs` (null where that input needs none). It runs with graph
 * recording off and must return new tensors or tensors it received.
 */
export interface GradNode {
  readonly name: string;
  readonly inputs: readonly (Tensor | null)[];
  readonly outputCount: number;
  backward(gradOutputs: readonly (Tensor | null)[]): (Tensor | null)[];
  /**
   * Every input as recorded, including those needing no gradient (whose values `backward` may
   * still read), and the storage version of each at record time: `backward()` refuses to run
   * the node if one was modified in place since. Absent on nodes that read no input values.
   */
  readonly recorded?: readonly (Tensor | null)[];
  readonly recordedVersions?: readonly number[];
  /** Set when a `backward()` without `retainGraph` went through this node. */
  released?: boolean;
}

/** What the safety net needs to dispose a buffer: never the storage itself (see `unreleased`). */
interface Unreleased {
  readonly backend: Backend;
  readonly buffer: BackendBuffer;
}

/**
 * The safety net behind `tidy`/`dispose`: a storage that becomes unreachable with its buffer
 * unreleased (a tensor dropped without `dispose()` outside `tidy`) has its buffer disposed
 * through its (checked) backend once the garbage collector finds it dead, so `memory()` drops
 * too. The held value names the backend and the buffer but not the storage, which would
 * otherwise stay reachable from the registry for ever; an explicit release unregisters. The
 * backend is always the checked form, whose `dispose` of a buffer it holds cannot throw (an
 * exception here would be uncaught) and is a no-op after `destroy()`: a late callback is
 * harmless.
 *
 * Limits: V8 finds these dead only in full (mark-compact) collections and runs the callbacks
 * as tasks of the event loop, so memory comes back while a loop yields now and then (any awaited
 * `read`, which settles from a task) and not during a loop that never yields (reads only with
 * `itemSync`): there, `tidy` is the way.
 *
 * Cost, measured on Node 20 (2-core x86-64, medians of 5 runs of 1e6): register + unregister
 * alone 0.45 µs per storage; creating and disposing a 1-element tensor 0.6–1.1 µs → 1.2–1.9 µs
 * on js and 2.5–3.0 → 3.3–3.8 µs on native. A training step of the soak (benchmarks/src/soak.ts)
 * makes 30 storages: about 15 µs of its 1.8 ms on native, below the run-to-run noise.
 */
const unreleased = new FinalizationRegistry<Unreleased>((held) => held.backend.dispose(held.buffer));

/**
 * Reference-counted backend storage, shared by a tensor and its views (`reshape`, `detach`).
 * The buffer is disposed when the last tensor referring to it is disposed, or by the safety net
 * (`unreleased`) when the storage becomes unreachable first. `version` counts in-place
 * modifications (PyTorch's version counter), so a graph that saved the tensor can tell that its
 * values changed before `backward()`.
 */
class Storage {
  private refs = 1;
  constructor(
    readonly backend: Backend,
    public buffer: BackendBuffer | null,
    public version = 0,
  ) {
    if (buffer) unreleased.register(this, { backend, buffer }, this);
  }
  retain(): this {
    this.refs++;
    return this;
  }
  /** Whether more than one tensor refers to this storage. */
  get shared(): boolean {
    return this.refs > 1;
  }
  release(): void {
    if (--this.refs === 0 && this.buffer) {
      unreleased.unregister(this);
      this.backend.dispose(this.buffer);
      this.buffer = null;
    }
  }
}

let nextTensorId = 1;

export interface TensorInit {
  requiresGrad?: boolean;
  gradFn?: GradNode | null;
  outputIndex?: number;
  /** Whether the enclosing `tidy` scope may dispose it (default true). */
  tracked?: boolean;
}

export class Tensor {
  readonly id = nextTensorId++;
  readonly shape: readonly number[];
  readonly backend: Backend;
  requiresGrad: boolean;
  /** Accumulated gradient of a leaf tensor after `backward()`; owned by this tensor. */
  grad: Tensor | null = null;
  readonly gradFn: GradNode | null;
  readonly outputIndex: number;
  protected storage: Storage | null;

  /** Wraps a buffer the caller hands over (the tensor takes ownership). */
  static fromBuffer(backend: Backend, buffer: BackendBuffer, shape: Shape, init: TensorInit = {}): Tensor {
    if (buffer.length !== sizeOf(shape)) {
      throw new ShapeError(`buffer holds ${buffer.length} elements but shape ${describeShape(shape)} needs ${sizeOf(shape)}`);
    }
    const checked = checkedBackend(backend);
    return new Tensor(checked, new Storage(checked, buffer), shape, init);
  }

  protected constructor(backend: Backend, storage: Storage, shape: Shape, init: TensorInit) {
    this.backend = backend;
    this.storage = storage;
    this.shape = Object.freeze([...shape]);
    this.gradFn = init.gradFn ?? null;
    this.outputIndex = init.outputIndex ?? 0;
    this.requiresGrad = init.requiresGrad ?? this.gradFn !== null;
    if (init.tracked !== false) trackTensor(this);
  }

  get size(): number {
    return sizeOf(this.shape);
  }
  get rank(): number {
    return this.shape.length;
  }
  get dtype(): DType {
    return this.backend.dtype;
  }
  get disposed(): boolean {
    return this.storage === null;
  }
  /** Whether another live tensor (a view: `reshape`, `detach`, …) shares this tensor's storage. */
  get sharesStorage(): boolean {
    return this.storage?.shared ?? false;
  }
  /** True for tensors that are not the result of a recorded operation. */
  get isLeaf(): boolean {
    return this.gradFn === null;
  }

  /** How many times the storage (shared with views) was modified in place; -1 once disposed. */
  get version(): number {
    return this.storage?.version ?? -1;
  }

  /**
   * Records an in-place modification of the values (an optimizer update, clipping a gradient):
   * any graph that saved this tensor, or a view of it, then refuses to back-propagate with the
   * changed values. Whoever writes into `buffer` in place calls it.
   */
  bumpVersion(): void {
    this.liveStorage().version++;
  }

  /** The backing buffer; throws `DisposedTensorError` after `dispose()`. */
  get buffer(): BackendBuffer {
    return this.liveStorage().buffer as BackendBuffer;
  }

  protected liveStorage(): Storage {
    if (!this.storage?.buffer) throw new DisposedTensorError(`tensor #${this.id} ${describeShape(this.shape)} was used after dispose()`);
    return this.storage;
  }

  /** Reads the values back as a flat row-major array (Float32Array unless the backend is float64). */
  async toArray(): Promise<FloatArray> {
    return this.backend.read(this.buffer);
  }

  /** The single value of a one-element tensor. */
  async item(): Promise<number> {
    if (this.size !== 1) throw new ShapeError(`item(): tensor must hold exactly 1 element, received shape ${describeShape(this.shape)}`);
    return (await this.toArray())[0];
  }

  /**
   * `toArray()` without a Promise, on a backend with blocking reads (js, native): blocks the
   * thread until the values are computed. Throws `BackendCapabilityError` on a backend without
   * them (WebGPU), and a deferred failure of earlier work as `toArray()` would reject with it.
   */
  toArraySync(): FloatArray {
    return this.blockingReads('toArraySync()', 'toArray()').read(this.buffer);
  }

  /** `item()` without a Promise: see `toArraySync()`. */
  itemSync(): number {
    if (this.size !== 1)
      throw new ShapeError(`itemSync(): tensor must hold exactly 1 element, received shape ${describeShape(this.shape)}`);
    return this.blockingReads('itemSync()', 'item()').read(this.buffer)[0];
  }

  private blockingReads(method: string, instead: string): BlockingReads {
    const blocking = this.backend.blocking;
    if (blocking) return blocking;
    throw new BackendCapabilityError(
      `${method}: the ${this.backend.name} backend cannot read synchronously (it has no blocking reads: its work finishes asynchronously); use \`await ${instead}\``,
    );
  }

  /**
   * A tensor with another shape over the same storage (row-major data is unchanged). Not
   * recorded for autograd: use the `reshape` op for that.
   */
  view(shape: Shape, init: TensorInit = {}): Tensor {
    assertValidShape(shape, 'shape');
    if (sizeOf(shape) !== this.size) {
      throw new ShapeError(`reshape: cannot view ${describeShape(this.shape)} (${this.size} elements) as ${describeShape(shape)}`);
    }
    return new Tensor(this.backend, this.liveStorage().retain(), shape, init);
  }

  /** A tensor sharing this storage but cut from the autograd graph. */
  detach(): Tensor {
    return this.view(this.shape);
  }

  /** Releases this tensor's reference to its storage (and its gradient). Idempotent. */
  dispose(): void {
    if (!this.storage) return;
    this.storage.release();
    this.storage = null;
    untrackTensor(this);
    this.grad?.dispose();
    this.grad = null;
  }

  /** Disposes the gradient, if any. */
  zeroGrad(): void {
    this.grad?.dispose();
    this.grad = null;
  }

  toString(): string {
    return `Tensor#${this.id}(${describeShape(this.shape)}, ${this.backend.name}/${this.dtype}${this.requiresGrad ? ', requiresGrad' : ''})`;
  }
}

/**
 * A trainable tensor: a leaf that requires a gradient, is never disposed by `tidy`, and whose
 * values can be replaced (`loadStateDict`) or updated in place by an optimizer.
 */
export interface ParameterOptions {
  /** Default true; false makes non-trained state (a module's buffer). */
  requiresGrad?: boolean;
}

const PARAMETER_OPTIONS: OptionsSchema<ParameterOptions> = { requiresGrad: option.boolean };

export class Parameter extends Tensor {
  /**
   * The name a module registered it under, for error messages. A parameter registered twice
   * (a cell's `weight_hh`, then its layer's `weight_hh_l0`) keeps the last name.
   */
  name: string | undefined;

  constructor(backend: Backend, data: ArrayLike<number>, shape: Shape, options: ParameterOptions = {}) {
    checkOptions('Parameter', options, PARAMETER_OPTIONS);
    const numbers = hostNumbers(data, 'Parameter: data');
    checkDataFitsShape('Parameter', numbers, shape);
    const checked = checkedBackend(backend);
    super(checked, new Storage(checked, checked.upload(numbers)), shape, { requiresGrad: options.requiresGrad ?? true, tracked: false });
  }

  /**
   * Replaces the values with a copy of `data` (same number of elements). The new storage
   * continues the version count: a graph that saved the old values sees the change.
   */
  copyFrom(values: ArrayLike<number>): void {
    const data = hostNumbers(values, 'Parameter.copyFrom: data');
    if (data.length !== this.size) {
      throw new ShapeError(
        `Parameter.copyFrom: expected ${this.size} values for shape ${describeShape(this.shape)}, received ${data.length}`,
      );
    }
    const old = this.liveStorage();
    this.storage = new Storage(this.backend, this.backend.upload(data), old.version + 1);
    old.release();
  }
}

export interface TensorOptions {
  backend?: Backend;
  requiresGrad?: boolean;
}

const TENSOR_OPTIONS: OptionsSchema<TensorOptions> = { backend: option.backend, requiresGrad: option.boolean };

/** Throws unless `shape` is an array of non-negative integers (`zeros(5)` names the mistake). */
function checkShape(where: string, shape: unknown): asserts shape is Shape {
  if (!Array.isArray(shape) && !(ArrayBuffer.isView(shape) && !(shape instanceof DataView))) {
    throw new ShapeError(`${where}: shape must be an array of non-negative integers such as [2, 3], received ${describeValue(shape)}`);
  }
  assertValidShape(shape as Shape, `${where}: shape`);
}

/** Throws unless `shape` is valid and `data` (already checked to hold numbers) has exactly its size. */
function checkDataFitsShape(where: string, data: ArrayLike<number>, shape: unknown): asserts shape is Shape {
  checkShape(where, shape);
  if (sizeOf(shape) !== data.length) {
    throw new ShapeError(`${where}: data has ${data.length} elements but shape ${describeShape(shape)} needs ${sizeOf(shape)}`);
  }
}

/**
 * `tensor()`'s options: `dtype: 'int32'` makes a host `IntTensor` (token ids, class targets), which
 * takes no backend and no gradient; a float dtype must be the backend's own.
 */
export interface TensorCreateOptions extends TensorOptions {
  dtype?: DType | 'int32';
}

const TENSOR_CREATE_OPTIONS: OptionsSchema<TensorCreateOptions> = { ...TENSOR_OPTIONS, dtype: option.oneOf('float32', 'float64', 'int32') };

/**
 * Creates a tensor from host data (copied). `shape` defaults to `[data.length]`. With
 * `{ dtype: 'int32' }` it is a host `IntTensor` of token ids or class targets.
 */
export function tensor(data: ArrayLike<number>, shape: Shape | undefined, options: { dtype: 'int32'; requiresGrad?: false }): IntTensor;
export function tensor(data: ArrayLike<number>, shape?: Shape, options?: TensorOptions & { dtype?: DType }): Tensor;
export function tensor(data: ArrayLike<number>, shape?: Shape, options?: TensorCreateOptions): Tensor | IntTensor;
export function tensor(data: ArrayLike<number>, shape?: Shape, options: TensorCreateOptions = {}): Tensor | IntTensor {
  checkOptions('tensor', options, TENSOR_CREATE_OPTIONS);
  if (options.dtype === 'int32') {
    // Indices are read on the host by every kernel that takes them, and have no gradient.
    if (options.backend !== undefined || options.requiresGrad) {
      const key = options.backend !== undefined ? 'backend' : 'requiresGrad';
      throw new OptionsError(`tensor: an int32 tensor lives on the host and has no gradient; omit option '${key}'`);
    }
    return IntTensor.from(data, shape, 'tensor');
  }
  // Typed arrays can only hold numbers and pass at once; plain arrays are checked and copied in one pass.
  const numbers = hostNumbers(data, 'tensor: data');
  const resolvedShape = shape ?? [numbers.length];
  checkDataFitsShape('tensor', numbers, resolvedShape);
  const backend = checkedBackend(options.backend ?? getDefaultBackend());
  if (options.dtype !== undefined && options.dtype !== backend.dtype) {
    throw new OptionsError(`tensor: option 'dtype' is '${options.dtype}' but backend '${backend.name}' holds ${backend.dtype}`);
  }
  checkAllocation(backend, numbers.length, () => `tensor: a tensor of shape ${describeShape(resolvedShape)}`);
  return Tensor.fromBuffer(backend, backend.upload(numbers), resolvedShape, { requiresGrad: options.requiresGrad ?? false });
}

/** A tensor filled with one value. */
export function full(shape: Shape, value: number, options: TensorOptions = {}): Tensor {
  return filled('full', shape, value, options);
}

export function zeros(shape: Shape, options: TensorOptions = {}): Tensor {
  return filled('zeros', shape, 0, options);
}

function filled(where: string, shape: Shape, value: number, options: TensorOptions): Tensor {
  checkOptions(where, options, TENSOR_OPTIONS);
  checkShape(where, shape);
  if (typeof value !== 'number') throw new OptionsError(`${where}: value must be a number, received ${describeValue(value)}`);
  const backend = checkedBackend(options.backend ?? getDefaultBackend());
  checkAllocation(backend, sizeOf(shape), () => `${where}: a tensor of shape ${describeShape(shape)}`);
  return Tensor.fromBuffer(backend, backend.fill(sizeOf(shape), value), shape, { requiresGrad: options.requiresGrad ?? false });
}

/** Throws unless every tensor lives on the same backend instance; returns that backend. */
export function commonBackend(op: string, ...tensors: Tensor[]): Backend {
  const backend = tensors[0].backend;
  for (let i = 1; i < tensors.length; i++) {
    if (tensors[i].backend !== backend) {
      throw new BackendMismatchError(
        `${op}: argument ${i} lives on backend '${tensors[i].backend.name}' (${tensors[i].backend.dtype}) but argument 0 on another backend instance '${backend.name}' (${backend.dtype}); move tensors to one backend first`,
      );
    }
  }
  return backend;
}

/** Disposes every tensor found in a value (tensor, array, or plain object of them). */
export function disposeAll(value: unknown): void {
  if (value instanceof Tensor) value.dispose();
  else if (Array.isArray(value)) for (const v of value) disposeAll(v);
  else if (value && typeof value === 'object') for (const v of Object.values(value)) disposeAll(v);
}
