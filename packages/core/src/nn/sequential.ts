import { ShapeError } from '../errors.js';
import { checkOptions, type OptionsSchema, option } from '../options.js';
import type { Tensor } from '../tensor.js';
import { Module } from './module.js';
import { RecurrentLayer, type RecurrentOutput } from './recurrent.js';

/** A module `Sequential` can hold: anything with a one-argument `forward`. */
export interface SequentialLayer extends Module {
  forward(input: never, ...rest: never[]): unknown;
}

export interface SequentialForwardOptions {
  /**
   * The initial states of the recurrent layers, in order: for each, its `state` array (as
   * `forwardWithState` returns it); zeros where omitted.
   */
  state?: readonly (readonly Tensor[] | undefined)[];
  /** Per-sequence lengths, passed to every recurrent layer (packed-sequence semantics). */
  lengths?: ArrayLike<number>;
}

export interface SequentialOutput {
  /** What the last module returned. */
  output: Tensor;
  /** The final states of the recurrent layers, in order (each layer's `state` array). */
  state: Tensor[][];
}

const FORWARD_OPTIONS: OptionsSchema<SequentialForwardOptions> = { state: option.anything, lengths: option.anything };

/**
 * The final hidden state of the recurrent layer before it: the last layer's, with both
 * directions concatenated (`[B, D·H]`, forward first), as a classifier's head wants it. Only
 * meaningful inside a `Sequential`, right after a recurrent layer.
 */
export class LastHidden extends Module {
  forward(recurrent: RecurrentOutput): Tensor {
    return recurrent.lastHidden();
  }
}

/**
 * Modules applied one after the other, each one's output the next one's input, like PyTorch's
 * `nn.Sequential` — with recurrent layers in it: a `RecurrentLayer` passes its `output` on
 * (`LastHidden` after it takes its final state instead), and `forwardWithState` carries the
 * recurrent states from call to call (truncated BPTT, generating one token at a time).
 * Children are named `0`, `1`, … as in PyTorch, so state dicts carry PyTorch's keys
 * (`1.weight_ih_l0`).
 *
 * ```ts
 * const model = new Sequential([
 *   new Embedding({ numEmbeddings: 65, embeddingDim: 64 }),
 *   new LSTM({ inputSize: 64, hiddenSize: 256, numLayers: 2 }),
 *   new Linear({ inFeatures: 256, outFeatures: 65 }),
 * ]);
 * const loss = model.forward(inputs).crossEntropy(targets);
 * ```
 */
export class Sequential extends Module {
  readonly layers: readonly SequentialLayer[];

  constructor(layers: readonly SequentialLayer[]) {
    if (!Array.isArray(layers) || layers.length === 0) {
      throw new ShapeError('Sequential: layers must be a non-empty array of modules');
    }
    layers.forEach((layer, i) => {
      if (!(layer instanceof Module) || typeof (layer as { forward?: unknown }).forward !== 'function') {
        throw new ShapeError(`Sequential: layers[${i}] must be a module with a forward method`);
      }
    });
    super({ backend: layers[0].backend });
    this.layers = [...layers];
    this.layers.forEach((layer, i) => {
      this.registerModule(String(i), layer);
    });
  }

  /** Runs every module in order and returns the last one's output. */
  forward(input: unknown, options: SequentialForwardOptions = {}): Tensor {
    return this.forwardWithState(input, options).output;
  }

  /** `forward`, also returning the recurrent layers' final states (pass them back as `state`). */
  forwardWithState(input: unknown, options: SequentialForwardOptions = {}): SequentialOutput {
    checkOptions('Sequential.forward', options, FORWARD_OPTIONS);
    const recurrent = this.layers.filter((layer) => layer instanceof RecurrentLayer).length;
    if (options.state !== undefined && (!Array.isArray(options.state) || options.state.length !== recurrent)) {
      throw new ShapeError(
        `Sequential.forward: state must hold one entry (a state array, or undefined) per recurrent layer (${recurrent}), received ${Array.isArray(options.state) ? options.state.length : typeof options.state}`,
      );
    }
    const states: Tensor[][] = [];
    let value: unknown = input;
    for (const layer of this.layers) {
      if (layer instanceof RecurrentLayer) {
        const given = options.state?.[states.length];
        const out = layer.forward(outputOf(value) as Tensor, { state: given ? [...given] : undefined, lengths: options.lengths });
        states.push(out.state);
        value = out;
      } else if (layer instanceof LastHidden) {
        if (!isRecurrentOutput(value)) throw new ShapeError('Sequential: LastHidden must follow a recurrent layer');
        value = layer.forward(value);
      } else {
        value = (layer.forward as (x: unknown) => unknown)(outputOf(value));
      }
    }
    return { output: outputOf(value) as Tensor, state: states };
  }
}

function isRecurrentOutput(value: unknown): value is RecurrentOutput {
  return typeof value === 'object' && value !== null && 'state' in value && 'output' in value && 'hN' in value;
}

/** What a module passes on: a recurrent layer its `output`, any other module its result. */
function outputOf(value: unknown): unknown {
  return isRecurrentOutput(value) ? value.output : value;
}
