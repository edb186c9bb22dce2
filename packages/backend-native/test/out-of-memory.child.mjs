/**
 * Child process of out-of-memory.test.ts: runs one allocation-failure scenario against the
 * compiled package (its path in RECUR_OOM_PACKAGE) and prints one JSON line. It runs under
 * `ulimit -v`, so an allocation past the limit fails; an abort (std::terminate, V8's fatal
 * out-of-memory) shows up in the parent as a crashed child, not a crashed test runner.
 *
 *   node out-of-memory.child.mjs probe       the address space in use after a warm-up (kB)
 *   node out-of-memory.child.mjs <scenario>  { error: { name, message, bytes }, after, ... }
 *
 * Every scenario runs the same warm-up first, so that `probe` measures what the others start
 * from (threads of OpenBLAS, OpenMP and the backend started, their stacks mapped).
 */
import { readFileSync } from 'node:fs';
import { pathToFileURL } from 'node:url';

const { createNativeBackend } = await import(pathToFileURL(process.env.RECUR_OOM_PACKAGE).href);
const core = await import('@recur/core');
const { LSTM, Random, full, noGrad, setAllocationLimit, tensor } = core;
// These scenarios test the C++ guard, so core's allocation limit (which refuses the 6.4 GB of
// full([40000, 40000]) before the backend is asked) is lifted: only the address space limits.
setAllocationLimit(Number.POSITIVE_INFINITY);

const scenario = process.argv[2];
const backend = createNativeBackend({ threads: 2 });

function addressSpaceKb() {
  return Number(/VmSize:\s+(\d+)/.exec(readFileSync('/proc/self/status', 'utf8'))[1]);
}

function data(n, seed) {
  const random = new Random(seed);
  return Float32Array.from({ length: n }, () => random.uniform(-0.5, 0.5));
}

/** A small training-mode LSTM forward, read back: the check that the backend still works. */
async function smallLstm() {
  const lstm = new LSTM({ inputSize: 3, hiddenSize: 8, backend, seed: 1 });
  const x = tensor(data(4 * 2 * 3, 2), [4, 2, 3], { backend });
  const { output } = lstm.forward(x);
  const values = await output.toArray();
  return values.length === 4 * 2 * 8 && values.every(Number.isFinite);
}

function describe(error) {
  return { name: error?.name, message: error?.message, bytes: error?.bytes, code: error?.code };
}

/** A big LSTM ([T, B] = [1200, 64], hidden 1024): 315 MB of output, 1.26 GB of gate scratch. */
function bigLstm() {
  const [T, B, I, H] = [1200, 64, 8, 1024];
  const lstm = new LSTM({ inputSize: I, hiddenSize: H, backend, seed: 3 });
  const x = tensor(data(T * B * I, 4), [T, B, I], { backend });
  return { lstm, x };
}

const scenarios = {
  // A buffer past the limit (2 GB), asked for through the backend and through core's `full`.
  fill: async () => {
    let error;
    try {
      backend.fill(500_000_000, 1);
    } catch (e) {
      error = e;
    }
    let fullError;
    try {
      full([40000, 40000], 1, { backend });
    } catch (e) {
      fullError = e;
    }
    return { error: describe(error), fullError: describe(fullError) };
  },
  // Training-mode forward: the activations saved for backward (2.2 GB) are allocated when the
  // call is made, so forward itself throws.
  'lstm-train': async () => {
    const { lstm, x } = bigLstm();
    try {
      lstm.forward(x);
    } catch (e) {
      return { error: describe(e) };
    }
    return { error: null };
  },
  // Inference forward: the output (315 MB) is allocated at once, but the kernel's gate scratch
  // (1.26 GB) on the worker thread: the call returns, and reading the output rejects.
  'lstm-infer': async () => {
    const { lstm, x } = bigLstm();
    const { output } = noGrad(() => lstm.forward(x));
    let error = null;
    try {
      await output.toArray();
    } catch (e) {
      error = describe(e);
    }
    output.dispose();
    // The failure is reported once: the next sync resolves.
    await backend.sync();
    return { error };
  },
  // The same failure met by a blocking read: thrown by it, and reported once (the next
  // blocking read returns).
  'lstm-infer-blocking': async () => {
    const { lstm, x } = bigLstm();
    const { output } = noGrad(() => lstm.forward(x));
    let error = null;
    try {
      backend.blocking.read(output.buffer);
    } catch (e) {
      error = describe(e);
    }
    output.dispose();
    const probe = backend.fill(2, 3);
    const next = Array.from(backend.blocking.read(probe));
    backend.dispose(probe);
    return { error, next };
  },
  // Reading a 700 MB buffer back needs as much again, past the limit.
  read: async () => {
    const x = backend.fill(175_000_000, 1);
    let error = null;
    try {
      await backend.read(x);
    } catch (e) {
      error = describe(e);
    }
    backend.dispose(x);
    return { error };
  },
  // A backend with 399 helper threads: their stacks (8 MiB each) do not fit, so one fails to
  // start. That must be an error from the constructor, the started helpers stopped.
  threads: async () => {
    try {
      createNativeBackend({ threads: 400 }).destroy();
    } catch (e) {
      return { error: describe(e) };
    }
    return { error: null };
  },
};

// Warm-up: BLAS, OpenMP and the backend's helpers all start their threads.
if (!(await smallLstm())) throw new Error('warm-up failed');

if (scenario === 'probe') {
  console.log(JSON.stringify({ addressSpaceKb: addressSpaceKb() }));
} else {
  const run = scenarios[scenario];
  if (!run) throw new Error(`unknown scenario ${scenario}`);
  const result = await run();
  // The process lives on and the backend still computes.
  result.after = await smallLstm();
  backend.destroy();
  console.log(JSON.stringify(result));
}
