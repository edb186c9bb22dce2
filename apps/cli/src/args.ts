/** Command-line parsing for `recur`: one command, `--name value` / `--name=value` flags. */

export const TASKS = ['adding', 'copy'] as const;
export const CELLS = ['lstm', 'gru', 'rnn', 'ugrnn'] as const;
export type TaskName = (typeof TASKS)[number];
export type CellName = (typeof CELLS)[number];

export interface TrainOptions {
  task: TaskName;
  cell: CellName;
  steps: number;
  hidden: number;
  batch: number;
  seqLen: number;
  lr: number;
  seed: number;
  backend: string;
  logEvery: number;
  json: boolean;
}

export type Command = { command: 'help'; topic?: string } | { command: 'info' } | { command: 'train'; options: TrainOptions };

/** A mistake in the command line; `main` prints it with the usage hint and exits with status 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** Defaults that depend on the task (tuned for about a minute on 2 cores with the JS backend; seconds on native). */
export const TASK_DEFAULTS: Record<TaskName, { steps: number; lr: number }> = {
  adding: { steps: 1500, lr: 0.01 },
  copy: { steps: 800, lr: 0.003 },
};

export const DEFAULTS: TrainOptions = {
  task: 'adding',
  cell: 'lstm',
  ...TASK_DEFAULTS.adding,
  hidden: 32,
  batch: 32,
  seqLen: 20,
  seed: 1,
  backend: 'auto',
  logEvery: 150,
  json: false,
};

type Kind = 'int' | 'positive' | 'string' | 'bool' | readonly string[];

/** Flag name → option key and value kind. */
const FLAGS: Record<string, { key: keyof TrainOptions; kind: Kind; help: string }> = {
  task: { key: 'task', kind: TASKS, help: `task to learn: ${TASKS.join(' | ')} (default ${DEFAULTS.task})` },
  cell: { key: 'cell', kind: CELLS, help: `recurrent cell: ${CELLS.join(' | ')} (default ${DEFAULTS.cell})` },
  steps: { key: 'steps', kind: 'int', help: `optimizer steps (default ${defaultsText('steps')})` },
  hidden: { key: 'hidden', kind: 'int', help: `hidden units (default ${DEFAULTS.hidden})` },
  batch: { key: 'batch', kind: 'int', help: `sequences per step (default ${DEFAULTS.batch})` },
  'seq-len': { key: 'seqLen', kind: 'int', help: `sequence length T (default ${DEFAULTS.seqLen})` },
  lr: { key: 'lr', kind: 'positive', help: `peak Adam learning rate, decayed along a cosine to a tenth (default ${defaultsText('lr')})` },
  seed: { key: 'seed', kind: 'int', help: `seed of initialisation and data (default ${DEFAULTS.seed})` },
  backend: {
    key: 'backend',
    kind: 'string',
    help: `js | native | webgpu, or 'auto': native where its addon is built, else js (default ${DEFAULTS.backend})`,
  },
  'log-every': { key: 'logEvery', kind: 'int', help: 'print a table row every N steps (default: a tenth of --steps)' },
  json: { key: 'json', kind: 'bool', help: 'print one JSON summary on stdout (the table goes to stderr)' },
};

const KNOWN_FLAGS = Object.keys(FLAGS)
  .map((flag) => `--${flag}`)
  .join(', ');

function defaultsText(key: 'steps' | 'lr'): string {
  return TASKS.map((task) => `${TASK_DEFAULTS[task][key]} for ${task}`).join(', ');
}

export function usage(): string {
  const width = Math.max(...Object.keys(FLAGS).map((f) => f.length)) + 2;
  const lines = Object.entries(FLAGS).map(([flag, { help }]) => `  --${flag.padEnd(width)}${help}`);
  return [
    'Usage: recur train [options]',
    '       recur info      the backends that work on this machine, and the default one',
    '',
    'Trains a recurrent network on a synthetic task and reports loss and held-out accuracy.',
    '',
    'Options:',
    ...lines,
    `  --${'help'.padEnd(width)}show this help`,
  ].join('\n');
}

function parseValue(flag: string, kind: Kind, raw: string): string | number {
  if (Array.isArray(kind)) {
    if (!kind.includes(raw)) throw new UsageError(`--${flag} must be one of ${kind.join(', ')}, received '${raw}'`);
    return raw;
  }
  if (kind === 'string') {
    if (raw === '') throw new UsageError(`--${flag} needs a non-empty value`);
    return raw;
  }
  const value = raw.trim() === '' ? Number.NaN : Number(raw);
  if (kind === 'int') {
    const min = flag === 'seed' ? 0 : 1;
    if (!Number.isSafeInteger(value) || value < min) {
      throw new UsageError(`--${flag} must be an integer ≥ ${min}, received '${raw}'`);
    }
  } else if (!Number.isFinite(value) || value <= 0) {
    throw new UsageError(`--${flag} must be a number > 0, received '${raw}'`);
  }
  return value;
}

/** Parses `argv` (without `node` and the script). Throws `UsageError` on any mistake. */
export function parseArgs(argv: readonly string[]): Command {
  const [command, ...rest] = argv;
  if (command === undefined || command === 'help' || command === '--help' || command === '-h') return { command: 'help' };
  if (command === 'info') {
    if (rest.length > 0) throw new UsageError(`recur info takes no arguments, received '${rest[0]}'`);
    return { command: 'info' };
  }
  if (command !== 'train') {
    throw new UsageError(`unknown command '${command}' (available: train, info)`);
  }
  const options: TrainOptions = { ...DEFAULTS };
  const seen = new Set<string>();
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i];
    if (arg === '--help' || arg === '-h') return { command: 'help', topic: 'train' };
    if (!arg.startsWith('--')) throw new UsageError(`unexpected argument '${arg}' (flags look like --steps 100)`);
    const eq = arg.indexOf('=');
    const flag = eq >= 0 ? arg.slice(2, eq) : arg.slice(2);
    const spec = FLAGS[flag];
    if (!spec) throw new UsageError(`unknown flag --${flag} (known: ${KNOWN_FLAGS})`);
    if (seen.has(flag)) throw new UsageError(`--${flag} was given more than once`);
    seen.add(flag);
    if (spec.kind === 'bool') {
      if (eq >= 0) throw new UsageError(`--${flag} takes no value`);
      (options[spec.key] as boolean) = true;
      continue;
    }
    let raw: string;
    if (eq >= 0) raw = arg.slice(eq + 1);
    else {
      const next = rest[i + 1];
      if (next === undefined || next.startsWith('--')) throw new UsageError(`--${flag} needs a value`);
      raw = next;
      i++;
    }
    (options as unknown as Record<string, unknown>)[spec.key] = parseValue(flag, spec.kind, raw);
  }
  for (const key of ['steps', 'lr'] as const) if (!seen.has(key)) options[key] = TASK_DEFAULTS[options.task][key];
  if (!seen.has('log-every')) options.logEvery = Math.max(1, Math.round(options.steps / 10));
  if (options.seqLen < 2) throw new UsageError(`--seq-len must be at least 2 for the ${options.task} task, received ${options.seqLen}`);
  return { command: 'train', options };
}
