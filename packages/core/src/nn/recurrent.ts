import { isGradEnabled } from '../autograd.js';
import type { Backend, CellKind } from '../backend/interface.js';
import { describeShape, ShapeError, ValueRangeError } from '../errors.js';
import { add, mul } from '../ops/elementwise.js';
import { fusedSequence, fusedStack } from '../ops/sequence.js';
import { concat, permute, reshape, slice, stack, unstack } from '../ops/shape-ops.js';
import { checkOptions, describeValue, type OptionSpec, type OptionsSchema, option, required } from '../options.js';
import type { Random } from '../random.js';
import { commonBackend, type Parameter, Tensor } from '../tensor.js';
import type { Cell, FusedCellWeights } from './cells.js';
import { dropoutMask } from './dropout.js';
import { learnedStateName, withLearnedStates } from './initial-state.js';
import { MODULE_OPTIONS, Module, type ModuleOptions } from './module.js';
import { unbatchedForward } from './unbatched.js';
import { reverseSequences, unroll, widthsOf } from './unroll.js';

export interface CellFactoryArgs {
  inputSize: number;
  hiddenSize: number;
  /** 0-based layer index and direction (0 forward, 1 reverse), for cells that vary by position. */
  layer: number;
  direction: number;
  backend: Backend;
  random: Random;
}

export interface RecurrentLayerOptions extends ModuleOptions {
  inputSize: number;
  hiddenSize: number;
  /** Default 1. */
  numLayers?: number;
  /** Default false. */
  bidirectional?: boolean;
  /** Input and output are `[B, T, ·]` instead of `[T, B, ·]` (never the states). Default false. */
  batchFirst?: boolean;
  /** Inverted-dropout probability on every layer's output but the last, in training. Default 0. */
  dropout?: number;
  /**
   * Add each layer's input to its output for layers k ≥ 1 (where both are `D·H` wide): residual
   * stacking. Default false.
   */
  residual?: boolean;
  /**
   * Learn the initial state: parameters `h0_l{k}` `[D, 1, W]` per layer (and `c0_l{k}` for
   * two-slot cells such as LSTM; `state{s}_l{k}` beyond), zeros at first, broadcast over the
   * batch and used for every slot `forward` is not given. They take precedence over a cell's
   * own `initialState`. Default false.
   */
  learnInitialState?: boolean;
  /** Makes the cell of one layer and direction. */
  cell: (args: CellFactoryArgs) => Cell;
}

/** The options every recurrent layer accepts, without `cell` (built-in layers supply their own). */
export const LAYER_OPTIONS: OptionsSchema<Omit<RecurrentLayerOptions, 'cell'>> = {
  ...MODULE_OPTIONS,
  inputSize: required(option.positiveInteger),
  hiddenSize: required(option.positiveInteger),
  numLayers: option.positiveInteger,
  bidirectional: option.boolean,
  batchFirst: option.boolean,
  dropout: option.numberIn(0, 1, '[)'),
  residual: option.boolean,
  learnInitialState: option.boolean,
};

const RECURRENT_LAYER_OPTIONS: OptionsSchema<RecurrentLayerOptions> = { ...LAYER_OPTIONS, cell: required(option.function) };

/**
 * What a subclass with a built-in cell (`LSTM`, `LeakyRNN`…) passes to `RecurrentLayer`: its
 * name for messages, the schema of the options it accepts (`LAYER_OPTIONS` plus its own, and
 * no `cell`) and its cell factory.
 */
export interface BuiltInCell {
  where: string;
  schema: Readonly<Record<string, OptionSpec>>;
  cell: (args: CellFactoryArgs) => Cell;
}

export interface RecurrentForwardOptions {
  /**
   * Initial hidden state `[numLayers·D, B, H]` (`[numLayers·D, H]` for unbatched input); when
   * omitted, the learned one (`learnInitialState`), else the cell's own, else zeros.
   */
  h0?: Tensor;
  /** Initial cell state (cells with two state tensors, e.g. LSTM); defaults as for `h0`. */
  c0?: Tensor;
  /** Initial states for every state slot of a custom cell (overrides h0/c0). */
  state?: Tensor[];
  /** Per-sequence lengths in [1, T] (PyTorch packed-sequence semantics). */
  lengths?: ArrayLike<number>;
}

const FORWARD_OPTIONS: OptionsSchema<RecurrentForwardOptions> = {
  h0: option.instance(Tensor, 'a Tensor'),
  c0: option.instance(Tensor, 'a Tensor'),
  state: option.arrayOf(Tensor, 'a Tensor'),
  lengths: option.arrayLikeOfNumbers,
};

export interface RecurrentOutput {
  /** `[T, B, D·H]` (or `[B, T, D·H]` with batchFirst); zero past each sequence's length. */
  output: Tensor;
  /** Final hidden state `[numLayers·D, B, H]`, index `layer·D + direction`. */
  hN: Tensor;
  /** Final cell state, for cells with a second state tensor. */
  cN?: Tensor;
  /** Final value of every state slot, each `[numLayers·D, B, H]`. */
  state: Tensor[];
  /**
   * The last layer's final hidden state with its directions side by side, `[B, D·H]`, forward
   * direction first: PyTorch's `torch.cat([hN[-2], hN[-1]], dim=1)`, the usual input of a
   * classifier head. A method, not a field: nothing is computed unless it is called, and each
   * call records its ops from `hN` in the caller's grad mode and `tidy` scope (so gradients
   * flow back into the layer, and a cached tensor can never outlive a scope or a `noGrad`).
   */
  lastHidden(): Tensor;
  /** The same for the final cell state `cN` (LSTM-like cells); a `ShapeError` for cells without one. */
  lastCell(): Tensor;
}

/** What `forward` returns, from the output and the final states (each `[numLayers·D, B, H]`). */
function recurrentOutput(where: string, output: Tensor, state: Tensor[], directions: number): RecurrentOutput {
  return {
    output,
    hN: state[0],
    cN: state[1],
    state,
    lastHidden: () => lastLayer(state[0], directions),
    lastCell: () => {
      if (state.length < 2) {
        throw new ShapeError(`${where}: lastCell(): this layer's cells have 1 state tensor (hN only); lastCell is for LSTM-like cells`);
      }
      return lastLayer(state[1], directions);
    },
  };
}

/** The last layer's rows of a final state `[numLayers·D, B, H]`, directions concatenated: `[B, D·H]`. */
function lastLayer(s: Tensor, directions: number): Tensor {
  const [rows, batch, hidden] = s.shape;
  const last = rows === directions ? s : slice(s, 0, rows - directions, directions);
  // [D, B, H] → [B, D, H] puts each sequence's directions next to each other, forward first.
  return reshape(directions === 1 ? last : permute(last, [1, 0, 2]), [batch, directions * hidden]);
}

/**
 * A stack of recurrent layers over any `Cell`: sequence unrolling, variable lengths,
 * bidirectionality, residual stacking and inter-layer dropout. `RNN`, `LSTM`, `GRU`, `UGRNN`
 * and `LeakyRNN` are this class with a built-in cell; pass your own `cell` factory for others.
 */
export class RecurrentLayer extends Module {
  readonly inputSize: number;
  readonly hiddenSize: number;
  readonly numLayers: number;
  readonly bidirectional: boolean;
  readonly batchFirst: boolean;
  readonly dropout: number;
  readonly residual: boolean;
  /** `cells[layer][direction]`. */
  readonly cells: Cell[][];
  /** With `learnInitialState`: `[layer][slot]`, each `[D, 1, width]`; empty otherwise. */
  readonly learnedStates: Parameter[][] = [];
  /** Set when every layer is one fused cell of one kind in one direction, with no residual connections. */
  private readonly stack: { kind: CellKind; layers: FusedCellWeights[] } | null;
  /** The class name in messages (`LSTM.forward: …`). */
  private readonly where: string;

  /**
   * `builtIn` is for subclasses that supply the cell: their options are then checked against
   * their own schema (once, here), and `options.cell` is not read.
   */
  constructor(options: RecurrentLayerOptions, builtIn?: BuiltInCell) {
    super(options, builtIn ?? { where: 'RecurrentLayer', schema: RECURRENT_LAYER_OPTIONS });
    this.where = builtIn?.where ?? 'RecurrentLayer';
    const makeCell = builtIn?.cell ?? options.cell;
    const dropout = options.dropout ?? 0;
    this.inputSize = options.inputSize;
    this.hiddenSize = options.hiddenSize;
    this.numLayers = options.numLayers ?? 1;
    this.bidirectional = options.bidirectional ?? false;
    this.batchFirst = options.batchFirst ?? false;
    this.dropout = dropout;
    this.residual = options.residual ?? false;
    const directions = this.bidirectional ? 2 : 1;
    this.cells = [];
    for (let layer = 0; layer < this.numLayers; layer++) {
      const row: Cell[] = [];
      for (let direction = 0; direction < directions; direction++) {
        // Layer k > 0 reads the previous layer's output: each direction's state[0].
        const inputSize = layer === 0 ? this.inputSize : directions * widthsOf(this.cells[0][0])[0];
        const cell = makeCell({ inputSize, hiddenSize: this.hiddenSize, layer, direction, backend: this.backend, random: this.random });
        if (cell.inputSize !== inputSize || cell.hiddenSize !== this.hiddenSize) {
          throw new ShapeError(
            `cell factory returned a cell of inputSize ${cell.inputSize}, hiddenSize ${cell.hiddenSize} for layer ${layer}; expected ${inputSize}, ${this.hiddenSize}`,
          );
        }
        const suffix = `_l${layer}${direction === 1 ? '_reverse' : ''}`;
        for (const [name, p] of cell.namedParameters()) this.registerParameter(name + suffix, p);
        for (const [name, b] of cell.namedBuffers()) this.registerBuffer(name + suffix, b);
        row.push(cell);
      }
      this.cells.push(row);
      if (options.learnInitialState) {
        // Zeros: the layer starts out as it would without learned states.
        const slots = widthsOf(row[0]).map((w, slot) =>
          this.addParameter(learnedStateName(slot, layer), (n) => new Float64Array(n), [directions, 1, w]),
        );
        this.learnedStates.push(slots);
      }
    }
    const kind = this.cells[0][0].fused?.kind;
    const stackable = kind !== undefined && directions === 1 && !this.residual && this.cells.every((row) => row[0].fused?.kind === kind);
    this.stack = stackable ? { kind, layers: this.cells.map((row) => row[0].fused as FusedCellWeights) } : null;
  }

  /** Also reaches the cells, which are not child modules (their parameters carry flat names). */
  override train(mode = true): this {
    super.train(mode);
    for (const row of this.cells) for (const cell of row) cell.train(mode);
    return this;
  }

  get directions(): number {
    return this.bidirectional ? 2 : 1;
  }

  get stateSize(): number {
    return this.cells[0][0].stateSize;
  }

  /** The width of each state slot (`hN` is `[numLayers·D, B, stateWidths[0]]`). */
  get stateWidths(): readonly number[] {
    return widthsOf(this.cells[0][0]);
  }

  /** Features per step of `output`: `D · stateWidths[0]` (`D · hiddenSize` for the usual cells). */
  get outputSize(): number {
    return this.directions * this.stateWidths[0];
  }

  /**
   * Runs the stack over `input` `[T, B, I]` (`[B, T, I]` with `batchFirst`), or over one
   * unbatched sequence `[T, I]` as PyTorch does: then `output` is `[T, D·H]` and the states
   * (given and returned) `[numLayers·D, H]`.
   */
  forward(input: Tensor, options: RecurrentForwardOptions = {}): RecurrentOutput {
    checkOptions(`${this.where}.forward`, options, FORWARD_OPTIONS);
    if (!(input instanceof Tensor)) {
      throw new ShapeError(`${this.where}.forward: input must be a Tensor, received ${describeValue(input)}`);
    }
    if ((input.rank !== 3 && input.rank !== 2) || input.shape[input.rank - 1] !== this.inputSize) {
      const expected = `${this.batchFirst ? '[B, T' : '[T, B'}, ${this.inputSize}] or [T, ${this.inputSize}] (unbatched)`;
      throw new ShapeError(`forward: input must be ${expected}, received ${describeShape(input.shape)}`);
    }
    if (input.backend !== this.backend) commonBackend('forward', this.parameters()[0] ?? input, input);
    if (input.rank === 2) {
      const rows = this.numLayers * this.directions;
      const layer = { where: this.where, batchFirst: this.batchFirst, rows, stateWidths: this.stateWidths };
      return unbatchedForward({ ...layer, forward: (x, o) => this.forward(x, o) }, input, options);
    }
    let x = this.batchFirst ? permute(input, [1, 0, 2]) : input;
    const steps = x.shape[0];
    const batch = x.shape[1];
    const lengths = this.checkLengths(options.lengths, steps, batch);
    const given = withLearnedStates(this.learnedStates, this.givenStates(options, batch), batch);
    if (this.stack && this.canStack(this.stack, x, given)) {
      const out = fusedStack({ kind: this.stack.kind, x, layers: this.stack.layers, h0: given[0], c0: given[1], lengths });
      const state = out.length > 2 ? [out[1], out[2]] : [out[1]];
      return recurrentOutput(this.where, this.batchFirst ? permute(out[0], [1, 0, 2]) : out[0], state, this.directions);
    }
    const initial = this.initialStates(given, batch);
    const finals: Tensor[][] = initial.map(() => []);
    for (let layer = 0; layer < this.numLayers; layer++) {
      const outputs: Tensor[] = [];
      for (let direction = 0; direction < this.directions; direction++) {
        const index = layer * this.directions + direction;
        const state = initial.map((s) => s[index]);
        const run = this.runDirection(this.cells[layer][direction], x, state, lengths, direction === 1);
        outputs.push(run.output);
        for (const [slot, s] of run.state.entries()) finals[slot].push(s);
      }
      let y = outputs.length === 1 ? outputs[0] : concat(outputs, 2);
      if (this.residual && layer > 0) y = add(y, x);
      if (this.training && this.dropout > 0 && layer < this.numLayers - 1) y = mul(y, dropoutMask(y, this.dropout, this.random));
      x = y;
    }
    const state = finals.map((perLayer) => stack(perLayer));
    return recurrentOutput(this.where, this.batchFirst ? permute(x, [1, 0, 2]) : x, state, this.directions);
  }

  private checkLengths(lengths: ArrayLike<number> | undefined, steps: number, batch: number): Int32Array | undefined {
    if (lengths === undefined) return undefined;
    if (lengths.length !== batch)
      throw new ShapeError(`forward: lengths must hold one length per sequence (${batch}), received ${lengths.length}`);
    const out = new Int32Array(batch);
    for (let b = 0; b < batch; b++) {
      const n = lengths[b];
      if (!Number.isInteger(n) || n < 1 || n > steps)
        throw new ValueRangeError(`forward: lengths[${b}] = ${n} must be an integer in [1, ${steps}]`);
      out[b] = n;
    }
    return out.every((n) => n === steps) ? undefined : out;
  }

  /** Per state slot, the caller's `[numLayers·D, B, H]` initial state (checked), or undefined for zeros. */
  private givenStates(options: RecurrentForwardOptions, batch: number): (Tensor | undefined)[] {
    if (options.c0 && !options.state && this.stateSize < 2) {
      throw new ShapeError(
        `forward: c0 was given but this layer's cells have ${this.stateSize} state tensor (only h0); c0 is for LSTM-like cells`,
      );
    }
    const given = options.state ?? [options.h0, options.c0];
    const rows = this.numLayers * this.directions;
    const widths = this.stateWidths;
    const states: (Tensor | undefined)[] = [];
    for (let slot = 0; slot < this.stateSize; slot++) {
      const s = given[slot];
      if (s && (s.rank !== 3 || s.shape[0] !== rows || s.shape[1] !== batch || s.shape[2] !== widths[slot])) {
        throw new ShapeError(
          `forward: ${slot === 0 ? 'h0' : slot === 1 ? 'c0' : `state[${slot}]`} must be ${describeShape([rows, batch, widths[slot]])}, received ${describeShape(s.shape)}`,
        );
      }
      if (s && s.backend !== this.backend) commonBackend('forward', s, this.parameters()[0] ?? s);
      states.push(s);
    }
    return states;
  }

  /**
   * Per state slot, the `[B, width]` initial state of every (layer, direction): the caller's, else
   * the cell's own `initialState` (a learned or data-dependent start), else zeros.
   */
  private initialStates(given: (Tensor | undefined)[], batch: number): Tensor[][] {
    const cells = this.cells.flat();
    const own = cells.map((cell) => (given.every((s) => s) ? undefined : cell.initialState?.(batch)));
    const widths = this.stateWidths;
    return given.map((s, slot) => {
      if (s) return unstack(s);
      return cells.map(
        (_, row) => own[row]?.[slot] ?? Tensor.fromBuffer(this.backend, this.backend.fill(batch * widths[slot], 0), [batch, widths[slot]]),
      );
    });
  }

  /**
   * Whether the whole stack can run as one `sequenceStackForward` call: one fused cell kind,
   * one direction, no residual connections or active dropout, and no gradient to record
   * (inference). It computes exactly what the layer-by-layer path computes.
   */
  private canStack(stack: { layers: FusedCellWeights[] }, x: Tensor, given: (Tensor | undefined)[]): boolean {
    if (this.training && this.dropout > 0) return false;
    if (!this.backend.fused.stack) return false;
    if (!isGradEnabled()) return true;
    if (x.requiresGrad || given.some((s) => s?.requiresGrad)) return false;
    return !stack.layers.some(
      (w) => w.weightIh.requiresGrad || w.weightHh.requiresGrad || w.biasIh?.requiresGrad || w.biasHh?.requiresGrad,
    );
  }

  /** One direction of one layer over time-major `x` `[T, B, F]`. */
  private runDirection(
    cell: Cell,
    x: Tensor,
    state: Tensor[],
    lengths: Int32Array | undefined,
    reverse: boolean,
  ): { output: Tensor; state: Tensor[] } {
    const [steps, batch] = x.shape;
    const input = reverse ? reverseSequences(x, lengths) : x;
    let result: { output: Tensor; state: Tensor[] };
    if (cell.fused && this.backend.fused.sequence) {
      const { kind, weightIh, weightHh, biasIh, biasHh } = cell.fused;
      const [output, ...final] = fusedSequence({ kind, x: input, weightIh, weightHh, biasIh, biasHh, h0: state[0], c0: state[1], lengths });
      result = { output, state: final };
    } else {
      result = unroll(cell, input, state, lengths, steps, batch);
    }
    return reverse ? { output: reverseSequences(result.output, lengths), state: result.state } : result;
  }
}
