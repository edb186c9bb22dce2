// Train an LSTM to output the sum of a sequence of 10 random numbers.
import '@recur/backend-js'; // registers the pure TypeScript backend and makes it the default
import { Adam, clipGradNorm, Linear, LSTM, Random, tensor, tidy } from '@recur/core';

const [T, B, H] = [10, 16, 16]; // steps, batch, hidden units
const lstm = new LSTM({ inputSize: 1, hiddenSize: H, seed: 0 });
const head = new Linear({ inFeatures: H, outFeatures: 1, seed: 1 });
const params = [...lstm.parameters(), ...head.parameters()];
const optimizer = new Adam(params, { lr: 0.01 });
const random = new Random(42);

let total = 0;
for (let step = 1; step <= 300; step++) {
  const xs = random.uniformArray(T * B, -1, 1); // time-major [T, B, 1]
  const sums = new Float64Array(B);
  for (let i = 0; i < T * B; i++) sums[i % B] += xs[i];
  const loss = tidy(() => {
    const { hN } = lstm.forward(tensor(xs, [T, B, 1])); // hN: [1, B, H]
    const l = head.forward(hN.reshape([B, H])).mse(tensor(sums, [B, 1]));
    l.backward(); // BPTT through all T steps
    return l; // tidy frees every other intermediate tensor
  });
  await clipGradNorm(params, 1);
  optimizer.step();
  optimizer.zeroGrad();
  total += await loss.item();
  loss.dispose();
  if (step % 50 === 0) {
    console.log(`step ${step}  loss ${(total / 50).toFixed(4)}`); // mean of the last 50 steps
    total = 0;
  }
}
