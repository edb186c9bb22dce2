import { describe, expect, it } from 'vitest';
import { DEFAULTS, parseArgs, TASK_DEFAULTS, UsageError } from '../src/args.js';

const train = (...argv: string[]) => {
  const command = parseArgs(['train', ...argv]);
  if (command.command !== 'train') throw new Error('expected the train command');
  return command.options;
};

describe('parseArgs', () => {
  it('uses the defaults, with per-task steps and learning rate', () => {
    expect(train()).toEqual({ ...DEFAULTS, logEvery: DEFAULTS.steps / 10 });
    const copy = train('--task', 'copy');
    expect(copy.steps).toBe(TASK_DEFAULTS.copy.steps);
    expect(copy.lr).toBe(TASK_DEFAULTS.copy.lr);
  });

  it('reads --flag value and --flag=value', () => {
    const o = train('--cell=gru', '--steps', '40', '--hidden=8', '--batch', '4', '--seq-len', '6', '--lr', '1e-3', '--seed', '0', '--json');
    expect(o).toMatchObject({ cell: 'gru', steps: 40, hidden: 8, batch: 4, seqLen: 6, lr: 0.001, seed: 0, json: true, logEvery: 4 });
  });

  it('recognises info, which takes no arguments', () => {
    expect(parseArgs(['info'])).toEqual({ command: 'info' });
    expect(() => parseArgs(['info', '--verbose'])).toThrow(UsageError);
  });

  it('shows help for no command, help and --help', () => {
    expect(parseArgs([]).command).toBe('help');
    expect(parseArgs(['--help']).command).toBe('help');
    expect(parseArgs(['train', '--help']).command).toBe('help');
  });

  it.each([
    [['fit'], /unknown command 'fit'/],
    [['train', '--epochs', '3'], /unknown flag --epochs/],
    [['train', '--steps', 'ten'], /--steps must be an integer ≥ 1, received 'ten'/],
    [['train', '--steps', '1.5'], /--steps must be an integer/],
    [['train', '--steps', '0'], /--steps must be an integer ≥ 1/],
    [['train', '--steps='], /--steps must be an integer/],
    [['train', '--lr', '-1'], /--lr must be a number > 0, received '-1'/],
    [['train', '--lr', 'NaN'], /--lr must be a number > 0/],
    [['train', '--cell', 'transformer'], /--cell must be one of lstm, gru, rnn, ugrnn/],
    [['train', '--task', 'sort'], /--task must be one of adding, copy/],
    [['train', '--hidden'], /--hidden needs a value/],
    [['train', '--hidden', '--json'], /--hidden needs a value/],
    [['train', '--json=yes'], /--json takes no value/],
    [['train', '--seed', '1', '--seed', '2'], /more than once/],
    [['train', 'extra'], /unexpected argument 'extra'/],
    [['train', '--seq-len', '1'], /--seq-len must be at least 2/],
  ])('rejects %j', (argv, message) => {
    expect(() => parseArgs(argv)).toThrow(UsageError);
    expect(() => parseArgs(argv)).toThrow(message);
  });
});
