import { checkAllocation } from '../backend/allocation.js';
import { checkedBackend } from '../backend/checked.js';
import type { Backend } from '../backend/interface.js';
import { describeShape, StateDictError } from '../errors.js';
import { checkOptions, isArrayLikeOfNumbers, isPlainObject, type OptionSpec, type OptionsSchema, option } from '../options.js';
import { globalGenerator, Random } from '../random.js';
import { getDefaultBackend } from '../registry.js';
import { assertValidShape, type Shape, sameShape, sizeOf } from '../shape.js';
import { Parameter, type Tensor } from '../tensor.js';

/** A state-dict entry given as host data (e.g. read from a safetensors file). */
export interface HostArray {
  shape: readonly number[];
  data: ArrayLike<number>;
}

export interface ModuleOptions {
  backend?: Backend;
  /** Seed of this module's own generator (initialisation, dropout); the global one otherwise. */
  seed?: number;
  /** A generator to draw from (a parent layer passes its own so init order is PyTorch's). */
  random?: Random;
}

export interface LoadStateDictOptions {
  /** Require exactly the module's entries (default true). */
  strict?: boolean;
}

/** The schema of `ModuleOptions`, which every built-in module's schema extends. */
export const MODULE_OPTIONS: OptionsSchema<ModuleOptions> = {
  backend: option.backend,
  seed: option.finiteNumber,
  random: option.instance(Random, 'a Random generator'),
};

const LOAD_STATE_DICT_OPTIONS: OptionsSchema<LoadStateDictOptions> = { strict: option.boolean };

/**
 * How a subclass that knows every option it accepts has them checked: its name for messages
 * and its whole schema (extending `MODULE_OPTIONS`). Unknown keys are then errors.
 */
export interface ModuleOptionsCheck {
  where: string;
  schema: Readonly<Record<string, OptionSpec>>;
}

/**
 * Base of every layer: named parameters (PyTorch names, registration order), named buffers
 * (non-trained state such as a fixed time constant), child modules, and train/eval mode.
 */
export abstract class Module {
  readonly backend: Backend;
  protected readonly random: Random;
  training = true;
  private readonly ownParameters = new Map<string, Parameter>();
  private readonly ownBuffers = new Map<string, Parameter>();
  private readonly children = new Map<string, Module>();

  /**
   * `check` is for subclasses that pass their whole schema up, so options are checked once,
   * strictly. Without it only `backend`, `seed` and `random` are checked and other keys are
   * left to the subclass (a user-defined cell may receive a factory's arguments, say).
   */
  constructor(options: ModuleOptions = {}, check?: ModuleOptionsCheck) {
    if (check) {
      checkOptions(check.where, options as Record<string, unknown>, check.schema);
    } else {
      const where = new.target.name || 'Module';
      checkOptions(
        where,
        isPlainObject(options) ? { backend: options.backend, seed: options.seed, random: options.random } : options,
        MODULE_OPTIONS,
      );
    }
    this.backend = checkedBackend(options.backend ?? getDefaultBackend());
    this.random = options.random ?? (options.seed === undefined ? globalGenerator() : new Random(options.seed));
  }

  /**
   * Creates and registers a trainable parameter from host data, or from `init(count)` called
   * only once the allocation guard has accepted the shape (so an impossible size fails with a
   * typed error naming the parameter before any host array is made).
   */
  protected addParameter(name: string, data: ArrayLike<number> | ((count: number) => ArrayLike<number>), shape: Shape): Parameter {
    const p = new Parameter(this.backend, this.hostData(name, data, shape), shape);
    this.registerParameter(name, p);
    return p;
  }

  /** Registers an existing parameter under `name` (it may also belong to another module). */
  registerParameter(name: string, parameter: Parameter): void {
    this.ownParameters.set(name, parameter);
    parameter.name = name;
  }

  /** Creates and registers non-trained state that `stateDict` saves (`requiresGrad` false). */
  protected addBuffer(name: string, data: ArrayLike<number> | ((count: number) => ArrayLike<number>), shape: Shape): Parameter {
    const p = new Parameter(this.backend, this.hostData(name, data, shape), shape, { requiresGrad: false });
    this.registerBuffer(name, p);
    return p;
  }

  private hostData(name: string, data: ArrayLike<number> | ((count: number) => ArrayLike<number>), shape: Shape): ArrayLike<number> {
    assertValidShape(shape, `${this.constructor.name}: ${name} shape`);
    const count = sizeOf(shape);
    checkAllocation(this.backend, count, () => `${this.constructor.name}: ${name} of shape ${describeShape(shape)}`);
    return typeof data === 'function' ? data(count) : data;
  }

  registerBuffer(name: string, buffer: Parameter): void {
    this.ownBuffers.set(name, buffer);
    buffer.name = name;
  }

  /** This module's own buffers (not its children's). */
  namedBuffers(): [string, Parameter][] {
    return [...this.ownBuffers];
  }

  registerModule<M extends Module>(name: string, module: M): M {
    this.children.set(name, module);
    return module;
  }

  /** `[name, parameter]` pairs, with dotted prefixes for children (PyTorch's names). */
  *namedParameters(prefix = ''): Generator<[string, Parameter]> {
    for (const [name, p] of this.ownParameters) yield [prefix + name, p];
    for (const [name, child] of this.children) yield* child.namedParameters(`${prefix}${name}.`);
  }

  parameters(): Parameter[] {
    return [...this.namedParameters()].map(([, p]) => p);
  }

  private *namedState(prefix = ''): Generator<[string, Parameter]> {
    for (const [name, p] of this.ownParameters) yield [prefix + name, p];
    for (const [name, p] of this.ownBuffers) yield [prefix + name, p];
    for (const [name, child] of this.children) yield* child.namedState(`${prefix}${name}.`);
  }

  /** Parameters and buffers by name, as views that share storage with the module. */
  stateDict(): Record<string, Tensor> {
    const out: Record<string, Tensor> = {};
    for (const [name, p] of this.namedState()) out[name] = p.detach();
    return out;
  }

  /**
   * Copies values into the module's parameters and buffers, checking every shape. With
   * `strict` (default) missing and unexpected names are errors too; all checks run before
   * anything is written, so a failed load leaves the module unchanged.
   */
  async loadStateDict(dict: Record<string, Tensor | HostArray>, options: LoadStateDictOptions = {}): Promise<void> {
    checkOptions('loadStateDict', options, LOAD_STATE_DICT_OPTIONS);
    const strict = options.strict ?? true;
    const own = new Map(this.namedState());
    const problems: string[] = [];
    for (const [name, entry] of Object.entries(dict)) {
      const target = own.get(name);
      if (!target) {
        if (strict) problems.push(`unexpected key '${name}'`);
        continue;
      }
      if (!sameShape(entry.shape, target.shape)) {
        problems.push(`'${name}' has shape ${describeShape(entry.shape)} but the module expects ${describeShape(target.shape)}`);
      } else if ('data' in entry && !isArrayLikeOfNumbers(entry.data)) {
        problems.push(`'${name}' data must be an array or typed array of numbers`);
      } else if ('data' in entry && entry.data.length !== target.size) {
        problems.push(`'${name}' holds ${entry.data.length} values but its shape ${describeShape(entry.shape)} needs ${target.size}`);
      }
    }
    if (strict) for (const name of own.keys()) if (!(name in dict)) problems.push(`missing key '${name}'`);
    if (problems.length > 0) throw new StateDictError(`loadStateDict: ${problems.join('; ')}`);
    const values = await Promise.all(
      Object.entries(dict)
        .filter(([name]) => own.has(name))
        .map(async ([name, entry]) => [name, 'data' in entry ? entry.data : await entry.toArray()] as const),
    );
    for (const [name, data] of values) (own.get(name) as Parameter).copyFrom(data);
  }

  /** Sets training mode (dropout active) on this module and its children. */
  train(mode = true): this {
    this.training = mode;
    for (const child of this.children.values()) child.train(mode);
    return this;
  }

  eval(): this {
    return this.train(false);
  }

  /** Disposes every parameter's gradient. */
  zeroGrad(): void {
    for (const p of this.parameters()) p.zeroGrad();
  }

  /** Releases every parameter and buffer. The module cannot be used afterwards. */
  dispose(): void {
    for (const [, p] of this.namedState()) p.dispose();
  }
}
