/**
 * The benchmark's command line and its FLOP count. The FLOP count is checked against the model
 * itself: every multiply-add of a step goes through one weight matrix (W_ih, W_hh of each layer,
 * the head's W) once per token, forward, and twice backward (an input and a weight gradient).
 */
import { createJsBackend } from '@recur/backend-js';
import { describe, expect, it } from 'vitest';
import { type Cell, type Config, flopsPerStep, parseCommandLine } from '../src/config.js';
import { buildModel } from '../src/workloads.js';

const base: Config = {
  backend: 'js',
  cell: 'lstm',
  hidden: 256,
  embedding: 64,
  layers: 2,
  vocab: 65,
  batch: 32,
  steps: 64,
  warmup: 0,
  timed: 1,
  threads: 1,
};

describe('flopsPerStep', () => {
  it.each(['lstm', 'gru', 'rnn'] as Cell[])('counts 6 FLOPs per token per weight of the %s model', (cell) => {
    const c = { ...base, cell, hidden: 24 };
    const model = buildModel(createJsBackend(), c);
    const named = [...model.rnn.namedParameters(), ...model.head.namedParameters()];
    const weights = named.filter(([name]) => name.startsWith('weight')).reduce((n, [, p]) => n + p.size, 0);
    expect(flopsPerStep(c)).toBe(6 * c.batch * c.steps * weights);
    model.dispose();
  });

  it('is 10.67 GFLOP for the issue’s LSTM 2×256 step', () => {
    expect(flopsPerStep(base) / 1e9).toBeCloseTo(10.67, 2);
  });
});

describe('parseCommandLine', () => {
  it('has the issue’s defaults', () => {
    const o = parseCommandLine([]);
    expect(o).toMatchObject({ backend: 'native', cell: 'lstm', hidden: 256, mode: 'both', json: false, torch: true, torchDevice: 'cpu' });
    expect(o.dawn).toBeUndefined();
  });

  it('reads every option', () => {
    const o = parseCommandLine(
      ['--backend', 'webgpu', '--cell', 'gru', '--hidden', '128', '--mode', 'train', '--json', '--no-torch', '--timed', '3'].concat([
        '--warmup',
        '1',
        '--threads',
        '4',
        '--dawn',
        'backend=vulkan,enable-dawn-features=x',
        '--out',
        'r.json',
      ]),
    );
    expect(o).toMatchObject({ backend: 'webgpu', cell: 'gru', hidden: 128, mode: 'train', json: true, torch: false, timed: 3 });
    expect(o).toMatchObject({ warmup: 1, threads: 4, out: 'r.json', dawn: ['backend=vulkan', 'enable-dawn-features=x'] });
  });

  it.each([
    [['--backend', 'cuda'], /--backend must be js, native or webgpu, received cuda/],
    [['--cell', 'rnn_relu'], /--cell must be lstm, gru or rnn/],
    [['--hidden', '0'], /--hidden must be a positive integer, received 0/],
    [['--timed', '2.5'], /--timed must be a positive integer/],
    [['--mode', 'fast'], /--mode must be train, latency or both/],
    [['--torch-device', 'gpu'], /--torch-device must be cpu, cuda or cuda:N, received gpu/],
    [['--hidden'], /--hidden needs a value/],
  ])('rejects %j with a RangeError naming the option', (argv, message) => {
    expect(() => parseCommandLine(argv)).toThrow(RangeError);
    expect(() => parseCommandLine(argv)).toThrow(message);
  });
});
