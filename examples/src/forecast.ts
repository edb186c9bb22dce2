// Forecasting a univariate series, the short way: the last 30 values → LSTM → the next value,
// on daily minimum temperatures, with the last 10% held out. Beside it: pytorch/forecast.py.
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import '@recur/backend-js';
import '@recur/backend-native';
import { Adam, LastHidden, Linear, LSTM, noGrad, Random, Sequential, tensor } from '@recur/core';
import { parse } from 'csv-parse/sync';

const shared = (name: string) => fileURLToPath(new URL(`../../../shared/data/${name}`, import.meta.url));

export async function main({ data = shared('daily-min-temperatures.csv'), column = 'Temp', steps = 1500, W = 30, batch = 64 } = {}) {
  const series = (parse(readFileSync(data), { columns: true }) as Record<string, string>[]).map((row) => Number(row[column]));
  const split = Math.floor(series.length * 0.9);
  const mean = series.slice(0, split).reduce((a, b) => a + b) / split;
  const std = Math.sqrt(series.slice(0, split).reduce((a, v) => a + (v - mean) ** 2, 0) / split);
  const z = series.map((v) => (v - mean) / std);
  // Windows ending at each of `ends` (exclusive): x is time-major [W, B, 1], y [B, 1].
  const windows = (ends: number[]) => {
    const x = Float32Array.from({ length: W * ends.length }, (_, i) => z[ends[i % ends.length] - W + Math.floor(i / ends.length)]);
    const y = Float32Array.from(ends, (end) => z[end]);
    return { x: tensor(x, [W, ends.length, 1]), y: tensor(y, [ends.length, 1]) };
  };
  const model = new Sequential([
    new LSTM({ inputSize: 1, hiddenSize: 32 }),
    new LastHidden(),
    new Linear({ inFeatures: 32, outFeatures: 1 }),
  ]);
  const optimizer = new Adam(model.parameters(), { lr: 3e-3 });
  const random = new Random(0);
  for (let step = 1; step <= steps; step++) {
    const { x, y } = windows(Array.from({ length: batch }, () => W + random.int(split - W)));
    const loss = model.forward(x).mse(y);
    loss.backward();
    optimizer.step();
    optimizer.zeroGrad();
    if (step % 250 === 0) console.log(`step ${step}  mse ${(await loss.item()).toFixed(4)}`);
  }
  const ends = Array.from({ length: series.length - split }, (_, i) => split + i);
  const predicted = await noGrad(() => model.forward(windows(ends).x)).toArray();
  const rmse = (f: (end: number, i: number) => number) =>
    Math.sqrt(ends.reduce((a, end, i) => a + (f(end, i) - series[end]) ** 2, 0) / ends.length);
  const result = { rmse: rmse((_, i) => predicted[i] * std + mean), naive: rmse((end) => series[end - 1]) };
  console.log(`held-out RMSE ${result.rmse.toFixed(3)} (naive: yesterday's value, ${result.naive.toFixed(3)})`);
  return result;
}

if (process.argv[1]?.endsWith('forecast.js')) main({ data: process.argv[2] });
