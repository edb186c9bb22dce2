/**
 * Inference fast paths: a whole stack of fused layers in one `sequenceStackForward` call when no
 * gradient is recorded, and `fusedSequence` asking the backend not to keep its activations.
 * Each is checked against the recorded layer-by-layer path it replaces.
 */
import {
  type Backend,
  GRU,
  LeakyRNN,
  LSTM,
  noGrad,
  RecurError,
  type RecurrentLayer,
  RNN,
  type Tensor,
  tensor,
  tidy,
  UGRNN,
} from '@recur/core';
import type { CellKind, FusedKernels, SequenceForwardArgs } from '@recur/core/backend';
import { describe, expect, it } from 'vitest';
import type { FusedCellWeights } from '../src/nn/cells.js';
import { fusedStack } from '../src/ops/sequence.js';
import {
  countingBackend,
  expectClose,
  f64,
  implementation,
  randomArray,
  values,
  withoutFusedSequence,
  withoutFusedStack,
} from './helpers.js';

const T = 4;
const B = 2;
const I = 3;
const H = 5;

type Build = (backend: Backend, options: { numLayers: number; batchFirst?: boolean }) => RecurrentLayer;
const models: [string, Build][] = [
  ['RNN tanh', (backend, o) => new RNN({ inputSize: I, hiddenSize: H, ...o, backend, seed: 1 })],
  ['RNN relu', (backend, o) => new RNN({ inputSize: I, hiddenSize: H, nonlinearity: 'relu', ...o, backend, seed: 2 })],
  ['LSTM', (backend, o) => new LSTM({ inputSize: I, hiddenSize: H, ...o, backend, seed: 3 })],
  ['GRU', (backend, o) => new GRU({ inputSize: I, hiddenSize: H, ...o, backend, seed: 4 })],
  ['UGRNN', (backend, o) => new UGRNN({ inputSize: I, hiddenSize: H, ...o, backend, seed: 5 })],
];

/** Counts calls of the fused kernels (keeping the sequence forward's arguments) and live buffers. */
function spying(inner: Backend) {
  const calls = { stack: 0, forward: [] as SequenceForwardArgs[] };
  const { sequence, stack } = implementation(inner).fused;
  const fused: FusedKernels = {
    sequence: sequence && {
      forward: (args) => {
        calls.forward.push(args);
        return sequence.forward(args);
      },
      backward: (args) => sequence.backward(args),
    },
    stack: stack && {
      forward: (args) => {
        calls.stack++;
        return stack.forward(args);
      },
    },
  };
  const { backend, live } = countingBackend(inner, { fused });
  return { backend, live, calls };
}

/** Runs the model on fixed data (synchronously, so it runs under the caller's `noGrad`). */
function forward(model: RecurrentLayer, backend: Backend, batchFirst: boolean, withState: boolean, lengths?: readonly number[]) {
  const L = model.numLayers;
  const x = tensor(randomArray(11, T * B * I, -1.5, 1.5), batchFirst ? [B, T, I] : [T, B, I], { backend });
  const state = withState
    ? Array.from({ length: model.stateSize }, (_, slot) => tensor(randomArray(20 + slot, L * B * H), [L, B, H], { backend }))
    : undefined;
  return model.forward(x, { state, lengths });
}

async function read(out: { output: Tensor; state: Tensor[] }) {
  return { output: await values(out.output), state: await Promise.all(out.state.map(values)) };
}

describe('stacked inference (sequenceStackForward)', () => {
  for (const [name, build] of models) {
    for (const numLayers of [1, 3]) {
      it(`${name}, ${numLayers} layer(s): equals the recorded path, with and without state, lengths, batchFirst`, async () => {
        for (const [batchFirst, withState, lengths] of [
          [false, false, undefined],
          [false, true, undefined],
          [true, true, [4, 2]],
        ] as const) {
          const { backend, calls } = spying(f64());
          const model = build(backend, { numLayers, batchFirst });
          const reference = await read(forward(model, backend, batchFirst, withState, lengths));
          expect(calls.stack).toBe(0);
          expect(calls.forward.length).toBe(numLayers);
          const stacked = await read(noGrad(() => forward(model, backend, batchFirst, withState, lengths)));
          expect(calls.stack).toBe(1);
          expect(calls.forward.length).toBe(numLayers);
          // The reference backend runs the very same per-layer kernel: bit-identical.
          expect(stacked.output).toEqual(reference.output);
          expect(stacked.state).toEqual(reference.state);
          // And the generic unrolled path agrees to rounding.
          const plain = withoutFusedSequence(f64());
          const unrolled = await read(
            noGrad(() => forward(build(plain, { numLayers, batchFirst }), plain, batchFirst, withState, lengths)),
          );
          expectClose(stacked.output, unrolled.output, 1e-10, 1e-12, 'output');
          for (const [slot, s] of stacked.state.entries()) expectClose(s, unrolled.state[slot], 1e-10, 1e-12, `state ${slot}`);
        }
      });
    }
  }

  it('is used only where it computes the same thing: not when a gradient is recorded, bidirectional, residual, in dropout training or for other cells', async () => {
    const cases: [string, (b: Backend) => RecurrentLayer, boolean][] = [
      ['plain', (b) => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, backend: b }), true],
      ['bidirectional', (b) => new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, bidirectional: true, backend: b }), false],
      ['residual', (b) => new GRU({ inputSize: H, hiddenSize: H, numLayers: 2, residual: true, backend: b }), false],
      ['leaky', (b) => new LeakyRNN({ inputSize: I, hiddenSize: H, numLayers: 2, backend: b }), false],
      ['dropout, eval', (b) => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5, backend: b }).eval(), true],
      ['dropout, training', (b) => new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, dropout: 0.5, backend: b }), false],
    ];
    for (const [name, build, expected] of cases) {
      const { backend, calls } = spying(f64());
      const model = build(backend);
      noGrad(() => tidy(() => model.forward(tensor(randomArray(1, 2 * B * model.inputSize), [2, B, model.inputSize], { backend }))));
      expect(calls.stack > 0, name).toBe(expected);
    }
    // Recording on, but nothing requires a gradient (frozen weights): the stack is used too.
    const { backend, calls } = spying(f64());
    const frozen = new UGRNN({ inputSize: I, hiddenSize: H, numLayers: 2, backend });
    for (const p of frozen.parameters()) p.requiresGrad = false;
    tidy(() => frozen.forward(tensor(randomArray(2, T * B * I), [T, B, I], { backend })));
    expect(calls.stack).toBe(1);
  });

  it('leaves no buffer behind when generating token by token with the state carried', async () => {
    const { backend, live } = spying(f64());
    const model = new LSTM({ inputSize: I, hiddenSize: H, numLayers: 2, backend, seed: 7 });
    const before = live();
    let state: Tensor[] = [];
    for (let step = 0; step < 5; step++) {
      const out = noGrad(() =>
        tidy(() => model.forward(tensor(randomArray(step, I), [1, 1, I], { backend }), state.length ? { state } : {}).state),
      );
      for (const s of state) s.dispose();
      state = out;
    }
    expect(live()).toBe(before + 2);
    for (const s of state) s.dispose();
    expect(live()).toBe(before);
  });

  it('fusedStack refuses inputs that need a gradient while recording', () => {
    const backend = f64();
    const model = new RNN({ inputSize: I, hiddenSize: H, numLayers: 2, backend });
    const layers = model.cells.map((row) => row[0].fused as FusedCellWeights);
    const x = tensor(randomArray(3, T * B * I), [T, B, I], { backend });
    expect(() => fusedStack({ kind: 'tanh' as CellKind, x, layers })).toThrow(RecurError);
    expect(noGrad(() => fusedStack({ kind: 'tanh', x, layers })).map((t) => t.shape)).toEqual([
      [T, B, H],
      [2, B, H],
    ]);
  });
});

describe('fusedSequence without saved activations', () => {
  it('asks for none only when no backward can follow, with the same outputs', async () => {
    const { backend, calls } = spying(withoutFusedStack(f64()));
    const model = new GRU({ inputSize: I, hiddenSize: H, numLayers: 2, backend, seed: 9 });
    const x = tensor(randomArray(4, T * B * I), [T, B, I], { backend });
    const recorded = model.forward(x);
    const inferred = noGrad(() => model.forward(x));
    expect(calls.forward.map((a) => a.saveForBackward)).toEqual([undefined, undefined, false, false]);
    expect(await values(inferred.output)).toEqual(await values(recorded.output));
    // The recorded run still back-propagates (its `saved` was kept).
    recorded.output.sum().backward();
    expect(model.parameters().every((p) => p.grad !== null)).toBe(true);
  });
});
