#!/usr/bin/env node
/** The `recur` command line. */
import { RecurError } from '@recur/core';
import { parseArgs, UsageError, usage } from './args.js';
import { train } from './train.js';

async function main(argv: readonly string[]): Promise<number> {
  let command: ReturnType<typeof parseArgs>;
  try {
    command = parseArgs(argv);
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    process.stderr.write(`recur: ${error.message}\nRun 'recur train --help' for the options.\n`);
    return 2;
  }
  if (command.command === 'help') {
    process.stdout.write(`${usage()}\n`);
    return 0;
  }
  if (command.command === 'info') {
    // Loaded only here: it imports every backend package, which `train` deliberately does not.
    const { info } = await import('./info.js');
    await info((line) => process.stdout.write(`${line}\n`));
    return 0;
  }
  const { options } = command;
  try {
    // With --json, stdout carries only the JSON summary; the table goes to stderr.
    const log = options.json ? (line: string) => process.stderr.write(`${line}\n`) : (line: string) => process.stdout.write(`${line}\n`);
    const summary = await train(options, log);
    if (options.json) process.stdout.write(`${JSON.stringify(summary)}\n`);
    return 0;
  } catch (error) {
    if (!(error instanceof RecurError)) throw error;
    process.stderr.write(`recur: ${error.name}: ${error.message}\n`);
    return 1;
  }
}

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`recur: unexpected error: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
