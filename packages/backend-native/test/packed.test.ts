/**
 * The fused sequence methods on batches of several rows. Where W_hh has at least 2^17 elements
 * each step's recurrent product runs on packed weight panels (packed_gemm.h), below that on
 * OpenBLAS. Both are compared with the float32 JS reference, on shapes whose batch is not a
 * multiple of the kernel's 6 rows and whose widths are not multiples of its 16-column panels,
 * with 1 and 2 threads, with and without lengths.
 */
import { createJsBackend } from '@recur/backend-js';
import { type Backend, Random } from '@recur/core';
import { type CellKind, GATE_COUNT, type SequenceForwardArgs } from '@recur/core/backend';
import { afterAll, expect, it } from 'vitest';
import { createNativeBackend } from '../src/index.js';
import { describeNative, sequenceKernels } from './helpers.js';

const KINDS: CellKind[] = ['tanh', 'relu', 'lstm', 'gru', 'ugrnn'];

interface Shape {
  T: number;
  B: number;
  I: number;
  H: number;
  lengths?: number[];
}

function arrays(kind: CellKind, { T, B, I, H }: Shape, seed: number) {
  const random = new Random(seed);
  const data = (n: number, s: number) => Float32Array.from({ length: n }, () => random.uniform(-s, s));
  const G = GATE_COUNT[kind];
  const scale = 1 / Math.sqrt(H);
  return {
    x: data(T * B * I, 1),
    wIh: data(G * H * I, scale),
    wHh: data(G * H * H, scale),
    bIh: data(G * H, scale),
    bHh: data(G * H, scale),
    h0: data(B * H, 0.5),
    c0: data(B * H, 0.5),
    dOutput: data(T * B * H, 1),
    dhN: data(B * H, 1),
    dcN: data(B * H, 1),
  };
}

/** Every output of a forward and a backward call, read back. */
async function run(b: Backend, kind: CellKind, shape: Shape, a: ReturnType<typeof arrays>) {
  const lstm = kind === 'lstm';
  const args: SequenceForwardArgs = {
    kind,
    steps: shape.T,
    batch: shape.B,
    inputSize: shape.I,
    hidden: shape.H,
    x: b.upload(a.x),
    wIh: b.upload(a.wIh),
    wHh: b.upload(a.wHh),
    bIh: b.upload(a.bIh),
    bHh: b.upload(a.bHh),
    h0: b.upload(a.h0),
    c0: lstm ? b.upload(a.c0) : undefined,
    lengths: shape.lengths && Int32Array.from(shape.lengths),
  };
  const seqForward = sequenceKernels(b).forward;
  const seqBackward = sequenceKernels(b).backward;
  const fwd = seqForward(args);
  const dcN = lstm ? b.upload(a.dcN) : undefined;
  const bwd = seqBackward({ ...args, saved: fwd.saved, dOutput: b.upload(a.dOutput), dhN: b.upload(a.dhN), dcN });
  const named = { output: fwd.output, hN: fwd.hN, cN: fwd.cN, ...bwd };
  const out: Record<string, ArrayLike<number>> = {};
  for (const [name, buffer] of Object.entries(named)) if (buffer) out[name] = await b.read(buffer);
  return out;
}

describeNative('fused sequences on several batch rows (packed recurrent products)', () => {
  const js = createJsBackend();
  const backends = [createNativeBackend({ threads: 1 }), createNativeBackend({ threads: 2 })];
  afterAll(() => {
    for (const b of backends) b.destroy();
  });

  // The smallest odd hidden size whose W_hh [G·H, H] reaches the packed path's 2^17 elements.
  const packedHidden = (kind: CellKind) => {
    let H = Math.ceil(Math.sqrt(2 ** 17 / GATE_COUNT[kind]));
    while (GATE_COUNT[kind] * H * H < 2 ** 17) H++;
    return H % 2 ? H : H + 1;
  };
  const shapes = (kind: CellKind): [string, Shape][] => {
    const H = packedHidden(kind);
    return [
      [`packed, B 7, H ${H} (one row past a 6-row block, partial last panels)`, { T: 3, B: 7, I: 5, H }],
      [`packed, B 13, H ${H}, variable lengths`, { T: 4, B: 13, I: 9, H, lengths: [4, 1, 3, 4, 2, 4, 4, 1, 3, 2, 4, 4, 3] }],
      [`packed, B 32, H ${H} (the benchmark batch: 6·4 + 4 + 4 rows)`, { T: 2, B: 32, I: 8, H }],
      ['OpenBLAS, B 2, H 40', { T: 2, B: 2, I: 3, H: 40 }],
    ];
  };
  for (const kind of KINDS) {
    for (const [label, shape] of shapes(kind)) {
      it(`${kind}, ${label}: outputs and gradients equal the JS reference with 1 and 2 threads`, async () => {
        const a = arrays(kind, shape, 11);
        const expected = await run(js, kind, shape, a);
        for (const b of backends) {
          const actual = await run(b, kind, shape, a);
          expect(Object.keys(actual).sort()).toEqual(Object.keys(expected).sort());
          for (const [name, want] of Object.entries(expected)) {
            const got = actual[name];
            expect(got.length, name).toBe(want.length);
            let worst = 0;
            for (let i = 0; i < got.length; i++) worst = Math.max(worst, Math.abs(got[i] - want[i]) / (1 + Math.abs(want[i])));
            // float32 sums of at most G·H + H terms in another order: a few ulps per term.
            expect(worst, `${name} (${b.description})`).toBeLessThan(2e-5);
          }
        }
      });
    }
  }
});
