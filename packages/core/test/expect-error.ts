/**
 * Typed-error assertions. Kept apart from helpers.ts, which imports '@recur/backend-js' (and so
 * registers it): the registry tests need a registry holding nothing but their own fakes.
 */
import { expect } from 'vitest';

/** Calls `fn`, expecting an error of class `type` whose message contains every fragment. */
export function expectError(fn: () => unknown, type: new (...args: never[]) => Error, ...fragments: (string | RegExp)[]): Error {
  let caught: unknown;
  try {
    fn();
  } catch (error) {
    caught = error;
  }
  return checkError(caught, type, fragments);
}

export async function expectRejection(
  fn: () => Promise<unknown>,
  type: new (...args: never[]) => Error,
  ...fragments: (string | RegExp)[]
): Promise<Error> {
  let caught: unknown;
  try {
    await fn();
  } catch (error) {
    caught = error;
  }
  return checkError(caught, type, fragments);
}

function checkError(caught: unknown, type: new (...args: never[]) => Error, fragments: (string | RegExp)[]): Error {
  if (caught === undefined) expect.fail(`expected ${type.name} to be thrown, but nothing was thrown`);
  expect(caught, `error ${String(caught)}`).toBeInstanceOf(type);
  const message = (caught as Error).message;
  for (const f of fragments) {
    if (typeof f === 'string') expect(message, 'error message').toContain(f);
    else expect(message, 'error message').toMatch(f);
  }
  return caught as Error;
}
