import { noGrad } from '../autograd.js';
import { describeShape, OptionsError, ShapeError, ValueRangeError } from '../errors.js';
import { IntTensor, intTensor } from '../int-tensor.js';
import { concat, gatherRows, permute, reshape, slice } from '../ops/shape-ops.js';
import { logSoftmax } from '../ops/softmax.js';
import { checkOptions, describeValue, type OptionsSchema, option, required } from '../options.js';
import { globalGenerator, Random } from '../random.js';
import { tidy } from '../scope.js';
import { Tensor } from '../tensor.js';
import { beamSearch, type DecodeResult, type DecoderSteps } from './beam-search.js';
import { Embedding } from './embedding.js';
import { Module } from './module.js';
import { RecurrentLayer } from './recurrent.js';

/** A module mapping decoder outputs `[..., H]` to logits `[..., vocabulary]` (e.g. `Linear`). */
export interface Seq2SeqHead extends Module {
  forward(x: Tensor): Tensor;
}

export interface Seq2SeqOptions {
  /** Embeds source ids `[S, B]` for the encoder; omit it to feed float sources `[S, B, I]` as they are. */
  sourceEmbedding?: Embedding;
  /** Reads the source (time-major: `batchFirst` false). */
  encoder: RecurrentLayer;
  /** Embeds target ids for the decoder. */
  targetEmbedding: Embedding;
  /** Unidirectional, time-major; starts from the encoder's final states. */
  decoder: RecurrentLayer;
  /** Decoder outputs to logits over the target vocabulary. */
  head: Seq2SeqHead;
  /**
   * The decoder's initial states (one tensor per state slot, each `[decoder layers, B, width]`)
   * from the encoder's final ones. Default: the encoder's as they are, or with a bidirectional
   * encoder each layer's two directions side by side (forward first), so the decoder's hidden
   * size is twice the encoder's.
   */
  bridge?: (encoderState: Tensor[]) => Tensor[];
}

const SEQ2SEQ_OPTIONS: OptionsSchema<Seq2SeqOptions> = {
  sourceEmbedding: option.instance(Embedding, 'an Embedding'),
  encoder: required(option.instance(RecurrentLayer, 'a recurrent layer (RNN, LSTM, GRU…)')),
  targetEmbedding: required(option.instance(Embedding, 'an Embedding')),
  decoder: required(option.instance(RecurrentLayer, 'a recurrent layer (RNN, LSTM, GRU…)')),
  head: required(option.instance(Module, 'a module mapping decoder outputs to logits, e.g. Linear')),
  bridge: option.function,
};

export interface Seq2SeqForwardOptions {
  /** The token the decoder reads first. */
  startToken: number;
  /**
   * Probability of feeding the target's previous token at each step (teacher forcing) rather
   * than the model's own arg-max prediction: one draw per step for the whole batch. Default 1.
   */
  teacherForcing?: number;
  /** Draws the teacher-forcing decisions (default: the global generator). */
  random?: Random;
  /** Per-sequence source lengths (packed-sequence semantics in the encoder). */
  sourceLengths?: ArrayLike<number>;
}

export interface DecodeOptions {
  /** Most tokens generated per sequence, the end token included. */
  maxLength: number;
  startToken: number;
  /** A sequence ends when it emits this token (not included in the result); none by default. */
  endToken?: number;
  sourceLengths?: ArrayLike<number>;
}

export interface BeamSearchOptions extends DecodeOptions {
  beamWidth: number;
  /** α of the ranking score `log p / length^α` (length counts the end token). Default 0. */
  lengthPenalty?: number;
}

const token = option.nonNegativeInteger;
const FORWARD_OPTIONS: OptionsSchema<Seq2SeqForwardOptions> = {
  startToken: required(token),
  teacherForcing: option.numberIn(0, 1),
  random: option.instance(Random, 'a Random'),
  sourceLengths: option.arrayLikeOfNumbers,
};
const DECODE_OPTIONS: OptionsSchema<DecodeOptions> = {
  maxLength: required(option.positiveInteger),
  startToken: required(token),
  endToken: token,
  sourceLengths: option.arrayLikeOfNumbers,
};
const BEAM_OPTIONS: OptionsSchema<BeamSearchOptions> = {
  ...DECODE_OPTIONS,
  beamWidth: required(option.positiveInteger),
  lengthPenalty: option.finiteNumber,
};

/**
 * An encoder–decoder over any two recurrent layers (the RNN notes' translation model): the
 * encoder reads the source, its final states start the decoder, which reads the target shifted
 * right (the start token first) and predicts it token by token through `head`.
 *
 * ```ts
 * const model = new Seq2Seq({
 *   sourceEmbedding: new Embedding({ numEmbeddings: SRC, embeddingDim: 64 }),
 *   encoder: new GRU({ inputSize: 64, hiddenSize: 256 }),
 *   targetEmbedding: new Embedding({ numEmbeddings: TGT, embeddingDim: 64 }),
 *   decoder: new GRU({ inputSize: 64, hiddenSize: 256 }),
 *   head: new Linear({ inFeatures: 256, outFeatures: TGT }),
 * });
 * const logits = await model.forward(source, target, { startToken: SOS, teacherForcing: 0.5 });
 * logits.crossEntropy(target).backward();
 * const { tokens } = await model.beamSearch(source, { beamWidth: 5, maxLength: 40, startToken: SOS, endToken: EOS });
 * ```
 *
 * Ids are int32 tensors, time-major: source `[S, B]`, target `[T, B]`. Children are named
 * `sourceEmbedding`, `encoder`, `targetEmbedding`, `decoder`, `head` in the state dict.
 */
export class Seq2Seq extends Module {
  readonly sourceEmbedding: Embedding | null;
  readonly encoder: RecurrentLayer;
  readonly targetEmbedding: Embedding;
  readonly decoder: RecurrentLayer;
  readonly head: Seq2SeqHead;
  private readonly bridge: (state: Tensor[]) => Tensor[];

  constructor(options: Seq2SeqOptions) {
    checkOptions('Seq2Seq', options, SEQ2SEQ_OPTIONS);
    super({ backend: options.encoder.backend });
    const { sourceEmbedding, encoder, targetEmbedding, decoder, head } = options;
    if (typeof (head as { forward?: unknown }).forward !== 'function') throw new OptionsError('Seq2Seq: head must have a forward method');
    if (encoder.batchFirst || decoder.batchFirst) {
      throw new OptionsError(`Seq2Seq: ${encoder.batchFirst ? 'encoder' : 'decoder'} must be time-major (batchFirst false)`);
    }
    if (decoder.bidirectional) throw new OptionsError('Seq2Seq: decoder must be unidirectional: it decodes one token at a time');
    if (sourceEmbedding && sourceEmbedding.embeddingDim !== encoder.inputSize) {
      throw new ShapeError(
        `Seq2Seq: sourceEmbedding.embeddingDim ${sourceEmbedding.embeddingDim} ≠ encoder.inputSize ${encoder.inputSize}`,
      );
    }
    if (targetEmbedding.embeddingDim !== decoder.inputSize) {
      throw new ShapeError(
        `Seq2Seq: targetEmbedding.embeddingDim ${targetEmbedding.embeddingDim} ≠ decoder.inputSize ${decoder.inputSize}`,
      );
    }
    this.bridge = options.bridge ?? defaultBridge(encoder, decoder);
    this.sourceEmbedding = sourceEmbedding ?? null;
    this.encoder = encoder;
    this.targetEmbedding = targetEmbedding;
    this.decoder = decoder;
    this.head = head;
    if (sourceEmbedding) this.registerModule('sourceEmbedding', sourceEmbedding);
    this.registerModule('encoder', encoder);
    this.registerModule('targetEmbedding', targetEmbedding);
    this.registerModule('decoder', decoder);
    this.registerModule('head', head);
  }

  /** The decoder's initial states from a source (`[S, B]` ids, or `[S, B, I]` features). Recorded for autograd. */
  encode(source: IntTensor | Tensor, sourceLengths?: ArrayLike<number>): Tensor[] {
    let x: Tensor;
    if (this.sourceEmbedding) {
      if (!(source instanceof IntTensor) || source.shape.length !== 2) {
        throw new OptionsError(
          `Seq2Seq: source must be int32 ids [S, B] (this model embeds its source), received ${describeSource(source)}`,
        );
      }
      x = this.sourceEmbedding.forward(source);
    } else {
      if (!(source instanceof Tensor)) {
        throw new OptionsError(
          `Seq2Seq: source must be a float tensor [S, B, ${this.encoder.inputSize}] (this model has no sourceEmbedding), received ${describeSource(source)}`,
        );
      }
      x = source;
    }
    return this.bridge(this.encoder.forward(x, { lengths: sourceLengths }).state);
  }

  /**
   * Training pass: logits `[T, B, vocabulary]` for every step of `target` `[T, B]`, ready for
   * `logits.crossEntropy(target)`. Step 0 reads `startToken`; step t reads `target[t − 1]` with
   * probability `teacherForcing` (one draw per step), else the arg-max of step t − 1's logits,
   * which is read back (hence the Promise). Runs of teacher-forced steps go through the decoder
   * in one call, so ratio 1 costs one decoder call and draws nothing from `random`.
   */
  async forward(source: IntTensor | Tensor, target: IntTensor, options: Seq2SeqForwardOptions): Promise<Tensor> {
    checkOptions('Seq2Seq.forward', options, FORWARD_OPTIONS);
    const [steps, batch] = this.checkTarget(target);
    const ratio = options.teacherForcing ?? 1;
    const random = options.random ?? globalGenerator();
    const forced = Array.from({ length: steps }, (_, t) => t === 0 || ratio === 1 || (ratio > 0 && random.next() < ratio));
    let state = this.encode(source, options.sourceLengths);
    this.checkBatch(state, batch);
    const pieces: Tensor[] = [];
    let first: Int32Array = new Int32Array(batch).fill(options.startToken);
    for (let t = 0; t < steps; ) {
      let last = t;
      while (last + 1 < steps && forced[last + 1]) last++;
      // Steps t..last read `first`, then the target's tokens t..last − 1.
      const ids = new Int32Array((last - t + 1) * batch);
      ids.set(first);
      ids.set(target.data.subarray(t * batch, last * batch), batch);
      const out = this.decoder.forward(this.targetEmbedding.forward(intTensor(ids, [last - t + 1, batch])), { state });
      state = out.state;
      const logits = this.head.forward(out.output);
      pieces.push(logits);
      if (last + 1 < steps) {
        const tail = noGrad(() => slice(logits, 0, last - t, 1));
        first = argmaxRows(await tail.toArray(), batch);
        tail.dispose();
      }
      t = last + 1;
    }
    return pieces.length === 1 ? pieces[0] : concat(pieces, 0);
  }

  /**
   * Greedy decoding: each step feeds back the most likely token. Resolves with each sequence's
   * tokens (without start and end tokens) and its log-probability (the end token's included).
   */
  async greedy(source: IntTensor | Tensor, options: DecodeOptions): Promise<DecodeResult> {
    checkOptions('Seq2Seq.greedy', options, DECODE_OPTIONS);
    const decoder = this.steps(source, options.sourceLengths);
    const batch = decoder.rows;
    const tokens: number[][] = Array.from({ length: batch }, () => []);
    const scores = new Array<number>(batch).fill(0);
    const ended = new Array<boolean>(batch).fill(false);
    let input: Int32Array = new Int32Array(batch).fill(options.startToken);
    try {
      for (let t = 0; t < options.maxLength && ended.includes(false); t++) {
        const logProbs = await decoder.step(input);
        const vocabulary = logProbs.length / batch;
        checkEndToken('greedy', options.endToken, vocabulary);
        input = argmaxRows(logProbs, batch);
        for (let b = 0; b < batch; b++) {
          if (ended[b]) continue;
          scores[b] += logProbs[b * vocabulary + input[b]];
          if (input[b] === options.endToken) ended[b] = true;
          else tokens[b].push(input[b]);
        }
      }
    } finally {
      decoder.dispose();
    }
    return { tokens, scores };
  }

  /**
   * Beam search (see `beamSearch` in beam-search.ts): keeps the `beamWidth` most likely partial
   * sequences of each source sequence and resolves with the best finished one of each, ranked by
   * `log p / length^lengthPenalty`, with that score. Width 1 is `greedy`.
   */
  async beamSearch(source: IntTensor | Tensor, options: BeamSearchOptions): Promise<DecodeResult> {
    checkOptions('Seq2Seq.beamSearch', options, BEAM_OPTIONS);
    const { beamWidth, maxLength, startToken, endToken } = options;
    const decoder = this.steps(source, options.sourceLengths, beamWidth);
    try {
      return await beamSearch(decoder, {
        batch: decoder.rows / beamWidth,
        beamWidth,
        maxLength,
        startToken,
        endToken,
        lengthPenalty: options.lengthPenalty ?? 0,
      });
    } finally {
      decoder.dispose();
    }
  }

  /** The decoder one token at a time, without recording, each source row repeated `copies` times. */
  private steps(source: IntTensor | Tensor, sourceLengths: ArrayLike<number> | undefined, copies = 1) {
    let state = noGrad(() =>
      tidy(() => {
        const encoded = this.encode(source, sourceLengths);
        const batch = encoded[0].shape[1];
        return copies === 1
          ? encoded
          : encoded.map((s) =>
              rows(
                s,
                Int32Array.from({ length: batch * copies }, (_, i) => Math.floor(i / copies)),
              ),
            );
      }),
    );
    const count = state[0].shape[1];
    const replace = (next: Tensor[]) => {
      for (const s of state) s.dispose();
      state = next;
    };
    const steps: DecoderSteps & { rows: number; dispose(): void } = {
      rows: count,
      step: async (tokens) => {
        const out = noGrad(() =>
          tidy(() => {
            const decoded = this.decoder.forward(this.targetEmbedding.forward(intTensor(tokens, [1, count])), { state });
            const logits = this.head.forward(decoded.output);
            return { logProbs: logSoftmax(reshape(logits, [count, logits.shape[2]])), state: decoded.state };
          }),
        );
        replace(out.state);
        try {
          return await out.logProbs.toArray();
        } finally {
          out.logProbs.dispose();
        }
      },
      reorder: (index) => replace(noGrad(() => tidy(() => state.map((s) => rows(s, index))))),
      dispose: () => replace([]),
    };
    return steps;
  }

  private checkTarget(target: unknown): [number, number] {
    if (!(target instanceof IntTensor) || target.shape.length !== 2 || target.shape[0] < 1) {
      throw new OptionsError(`Seq2Seq.forward: target must be int32 ids [T, B] with T ≥ 1, received ${describeSource(target)}`);
    }
    return [target.shape[0], target.shape[1]];
  }

  private checkBatch(state: Tensor[], batch: number): void {
    if (state[0].shape[1] !== batch) {
      throw new ShapeError(`Seq2Seq.forward: target holds ${batch} sequences but source holds ${state[0].shape[1]}`);
    }
  }
}

function describeSource(value: unknown): string {
  if (value instanceof IntTensor) return `int32 ids ${describeShape(value.shape)}`;
  if (value instanceof Tensor) return `a float tensor ${describeShape(value.shape)}`;
  return describeValue(value);
}

function checkEndToken(where: string, endToken: number | undefined, vocabulary: number): void {
  if (endToken !== undefined && endToken >= vocabulary) {
    throw new ValueRangeError(`Seq2Seq.${where}: endToken ${endToken} is out of range [0, ${vocabulary})`);
  }
}

/** The arg-max of each of `batch` rows (the first of equal values, as PyTorch's `argmax`). */
function argmaxRows(values: ArrayLike<number>, batch: number): Int32Array<ArrayBuffer> {
  const width = values.length / batch;
  const out = new Int32Array(batch);
  for (let b = 0; b < batch; b++) {
    let best = 0;
    for (let v = 1; v < width; v++) if (values[b * width + v] > values[b * width + best]) best = v;
    out[b] = best;
  }
  return out;
}

/** Rows `index` of a state `[layers, N, W]` along its batch axis. */
function rows(state: Tensor, index: Int32Array): Tensor {
  const [layers, , width] = state.shape;
  const byRow = reshape(permute(state, [1, 0, 2]), [state.shape[1], layers * width]);
  return permute(reshape(gatherRows(byRow, index), [index.length, layers, width]), [1, 0, 2]);
}

/** The default `bridge`, after checking that the encoder's states fit the decoder. */
function defaultBridge(encoder: RecurrentLayer, decoder: RecurrentLayer): (state: Tensor[]) => Tensor[] {
  const D = encoder.directions;
  const fits =
    encoder.numLayers === decoder.numLayers &&
    encoder.stateSize === decoder.stateSize &&
    encoder.stateWidths.every((w, i) => D * w === decoder.stateWidths[i]);
  if (!fits) {
    throw new ShapeError(
      `Seq2Seq: the encoder's final states (${encoder.numLayers} layer(s)${D === 2 ? ', bidirectional' : ''}, widths [${encoder.stateWidths.join(', ')}]) do not fit the decoder (${decoder.numLayers} layer(s), widths [${decoder.stateWidths.join(', ')}]); match them${D === 2 ? ' (the decoder twice as wide)' : ''} or pass a bridge`,
    );
  }
  if (D === 1) return (state) => state;
  // [L·2, B, W] → [L, 2, B, W] → [L, B, 2, W] → [L, B, 2W]: each layer's directions side by side.
  return (state) =>
    state.map((s) => {
      const [rowsCount, batch, width] = s.shape;
      return reshape(permute(reshape(s, [rowsCount / 2, 2, batch, width]), [0, 2, 1, 3]), [rowsCount / 2, batch, 2 * width]);
    });
}
