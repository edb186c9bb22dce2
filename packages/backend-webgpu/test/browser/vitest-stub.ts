/** Stands in for `vitest` in the browser bundle: the runner never calls the suite's vitest registration. */
const unavailable = () => {
  throw new Error('vitest is not available in the browser bundle; use conformanceCases()');
};
export const describe = unavailable;
export const it = unavailable;
export const beforeAll = unavailable;
export const afterAll = unavailable;
export const expect = unavailable;
