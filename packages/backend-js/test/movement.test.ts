import { describe, expect, it } from 'vitest';
import { dot, f64, random, randomArray, values } from './helpers.js';

describe('permute', () => {
  it('transposes a matrix', async () => {
    expect(await values(f64.permute(f64.upload([1, 2, 3, 4, 5, 6]), [2, 3], [1, 0]))).toEqual([1, 4, 2, 5, 3, 6]);
  });

  it('moves axes of a rank-3 array: out[k, i, j] = x[i, j, k]', async () => {
    const shape = [2, 3, 4];
    const x = Array.from({ length: 24 }, (_, i) => i);
    const expected: number[] = [];
    for (let k = 0; k < 4; k++) for (let i = 0; i < 2; i++) for (let j = 0; j < 3; j++) expected.push(x[i * 12 + j * 4 + k]);
    expect(await values(f64.permute(f64.upload(x), shape, [2, 0, 1]))).toEqual(expected);
  });
});

describe('concat and slice', () => {
  const m = f64.upload([1, 2, 3, 4]); // [[1, 2], [3, 4]]
  it('concatenates along the last axis', async () => {
    const col = f64.upload([5, 6]); // [2, 1]
    expect(
      await values(
        f64.concat(
          [m, col],
          [
            [2, 2],
            [2, 1],
          ],
          1,
        ),
      ),
    ).toEqual([1, 2, 5, 3, 4, 6]);
  });
  it('concatenates along the first axis, three inputs', async () => {
    const parts = [m, f64.upload([7, 8]), f64.upload([9, 10])];
    expect(
      await values(
        f64.concat(
          parts,
          [
            [2, 2],
            [1, 2],
            [1, 2],
          ],
          0,
        ),
      ),
    ).toEqual([1, 2, 3, 4, 7, 8, 9, 10]);
  });
  it('slices along each axis', async () => {
    const x = f64.upload([1, 2, 3, 4, 5, 6]); // [2, 3]
    expect(await values(f64.slice(x, [2, 3], 1, 1, 2))).toEqual([2, 3, 5, 6]);
    expect(await values(f64.slice(x, [2, 3], 0, 1, 1))).toEqual([4, 5, 6]);
    expect((await values(f64.slice(x, [2, 3], 1, 2, 0))).length).toBe(0);
  });
  it('slice undoes concat', async () => {
    const rng = random(7);
    const a = randomArray(rng, 2 * 3 * 2);
    const b = randomArray(rng, 2 * 1 * 2);
    const joined = f64.concat(
      [f64.upload(a), f64.upload(b)],
      [
        [2, 3, 2],
        [2, 1, 2],
      ],
      1,
    );
    expect(await values(f64.slice(joined, [2, 4, 2], 1, 0, 3))).toEqual(a);
    expect(await values(f64.slice(joined, [2, 4, 2], 1, 3, 1))).toEqual(b);
  });
});

describe('gatherRows and scatterAddRows', () => {
  const index = Int32Array.from([2, 0, 2]);
  it('gathers rows', async () => {
    const x = f64.upload([1, 2, 3, 4, 5, 6]); // [3, 2]
    expect(await values(f64.gatherRows(x, 2, index))).toEqual([5, 6, 1, 2, 5, 6]);
  });
  it('scatter-adds rows, summing repeats and zeroing untouched rows', async () => {
    const g = f64.upload([1, 2, 3, 4, 5, 6]);
    expect(await values(f64.scatterAddRows(g, 2, index, 3))).toEqual([3, 4, 0, 0, 6, 8]);
  });
  it('are adjoint: ⟨gather(x), g⟩ = ⟨x, scatter(g)⟩', async () => {
    const rng = random(11);
    const rows = 5;
    const width = 3;
    const idx = Int32Array.from([4, 1, 1, 0, 4, 4, 2]);
    const x = randomArray(rng, rows * width);
    const g = randomArray(rng, idx.length * width);
    const gathered = await values(f64.gatherRows(f64.upload(x), width, idx));
    const scattered = await values(f64.scatterAddRows(f64.upload(g), width, idx, rows));
    expect(dot(gathered, g)).toBeCloseTo(dot(x, scattered), 12);
  });
});
