/**
 * The beam search itself, over scripted decoders whose next-token distribution is any function
 * of the whole prefix (so a beam carried with the wrong state is caught): exhaustive searches
 * against brute-force enumeration, width 1 against greedy decoding written here, and small cases
 * worked out by hand.
 */
import { describe, expect, it } from 'vitest';
import { beamSearch, type DecoderSteps } from '../src/nn/beam-search.js';
import { rng } from './helpers.js';

const END = 1;
const START = 0;

/**
 * A decoder over `rows` rows whose log-probabilities are `model(prefix, row)` (the prefix starts
 * with START): its "state" is each row's prefix, which `reorder` permutes as a real state.
 */
function scripted(model: (prefix: number[], row: number) => number[], rows: number): DecoderSteps {
  let prefixes: number[][] = Array.from({ length: rows }, () => []);
  return {
    step: async (tokens) => {
      prefixes = prefixes.map((p, r) => [...p, tokens[r]]);
      return prefixes.flatMap((p, r) => model(p, r));
    },
    reorder: (index) => {
      prefixes = Array.from(index, (i) => prefixes[i]);
    },
  };
}

/** Log-probabilities drawn from a hash of the prefix: a different distribution for every prefix. */
function randomModel(seed: number, vocabulary: number, sharpness = 3): (prefix: number[]) => number[] {
  return (prefix) => {
    const r = rng(prefix.reduce((h, v) => Math.imul(h ^ (v + 1), 0x9e3779b1) >>> 0, seed));
    const logits = Array.from({ length: vocabulary }, () => sharpness * r());
    const max = Math.max(...logits);
    const total = Math.log(logits.reduce((s, z) => s + Math.exp(z - max), 0));
    return logits.map((z) => z - max - total);
  };
}

/** Every output of at most `maxLength` tokens, with its log-probability under `model`. */
function enumerate(model: (prefix: number[]) => number[], vocabulary: number, maxLength: number) {
  const out: { tokens: number[]; length: number; logProb: number }[] = [];
  const grow = (prefix: number[], logProb: number) => {
    const logp = model([START, ...prefix]);
    for (let v = 0; v < vocabulary; v++) {
      const total = logProb + logp[v];
      if (v === END) out.push({ tokens: prefix, length: prefix.length + 1, logProb: total });
      else if (prefix.length + 1 === maxLength) out.push({ tokens: [...prefix, v], length: maxLength, logProb: total });
      else grow([...prefix, v], total);
    }
  };
  grow([], 0);
  return out;
}

/** Greedy decoding written directly: the arg-max (first of equals) until END or maxLength. */
function greedy(model: (prefix: number[]) => number[], maxLength: number) {
  const prefix = [START];
  let logProb = 0;
  for (let t = 0; t < maxLength; t++) {
    const logp = model(prefix);
    const v = logp.indexOf(Math.max(...logp));
    logProb += logp[v];
    if (v === END) return { tokens: prefix.slice(1), logProb };
    prefix.push(v);
  }
  return { tokens: prefix.slice(1), logProb };
}

describe('beamSearch', () => {
  it('exhaustive widths find the exact best sequence of random prefix-dependent models, for several length penalties', async () => {
    const [vocabulary, maxLength] = [4, 4];
    // Step 4 extends at most 27 live beams by 4 tokens: 108 beams prune nothing.
    const beamWidth = 108;
    let greedyBeaten = 0;
    for (let seed = 1; seed <= 12; seed++) {
      const models = [randomModel(seed, vocabulary), randomModel(seed + 100, vocabulary)];
      for (const lengthPenalty of [0, 0.6, 1]) {
        const result = await beamSearch(
          scripted((prefix, row) => models[Math.floor(row / beamWidth)](prefix), 2 * beamWidth),
          { batch: 2, beamWidth, maxLength, startToken: START, endToken: END, lengthPenalty },
        );
        for (const [b, model] of models.entries()) {
          const all = enumerate(model, vocabulary, maxLength).map((c) => ({ ...c, score: c.logProb / c.length ** lengthPenalty }));
          const best = all.reduce((a, c) => (c.score > a.score ? c : a));
          expect(result.tokens[b], `seed ${seed} source ${b} α ${lengthPenalty}`).toEqual(best.tokens);
          expect(result.scores[b]).toBeCloseTo(best.score, 12);
          if (lengthPenalty === 0 && greedy(model, maxLength).tokens.join() !== best.tokens.join()) greedyBeaten++;
        }
      }
    }
    expect(greedyBeaten).toBeGreaterThan(3);
  });

  it('width 1 is greedy decoding: the same tokens and log-probability', async () => {
    for (let seed = 1; seed <= 30; seed++) {
      const model = randomModel(seed, 5, 2);
      const result = await beamSearch(scripted(model, 1), {
        batch: 1,
        beamWidth: 1,
        maxLength: 6,
        startToken: START,
        endToken: END,
        lengthPenalty: 0,
      });
      const expected = greedy(model, 6);
      expect(result.tokens[0]).toEqual(expected.tokens);
      expect(result.scores[0]).toBeCloseTo(expected.logProb, 12);
    }
  });

  // Tokens: 0 "a" (also START), 1 END, 2 "b". Tables of next-token probabilities by prefix.
  const table = (rows: Record<string, number[]>) => (prefix: number[]) =>
    (rows[prefix.slice(1).join()] ?? [1 / 3, 1 / 3, 1 / 3]).map(Math.log);
  const search = (model: (prefix: number[]) => number[], beamWidth: number, maxLength = 3) =>
    beamSearch(scripted(model, beamWidth), { batch: 1, beamWidth, maxLength, startToken: START, endToken: END, lengthPenalty: 0 });

  it('by hand: an END ranked above the K-th kept beam finishes a hypothesis; width 2 finds what greedy misses', async () => {
    // Greedy: a (0.5), then END (0.4): p = 0.2. Width 2 keeps END at step 1 (rank 1 < 2): p = 0.3.
    const model = table({ '': [0.5, 0.3, 0.2], '0': [0.3, 0.4, 0.3], '2': [0.05, 0.9, 0.05] });
    const wide = await search(model, 2);
    expect(wide.tokens[0]).toEqual([]);
    expect(wide.scores[0]).toBeCloseTo(Math.log(0.3), 12);
    // Width 1: END ranks after the one kept beam at step 1, so it is not a hypothesis: greedy's result.
    const narrow = await search(model, 1);
    expect(narrow.tokens[0]).toEqual([0]);
    expect(narrow.scores[0]).toBeCloseTo(Math.log(0.2), 12);
  });

  it('by hand: an END ranked after the K kept beams is dropped, even when it would have won', async () => {
    // Step 1 ranks a 0.45, b 0.35, END 0.2: with K = 2 END is rank 2. The best kept then is
    // a·END = 0.15, though END alone (0.2) is the most likely sequence.
    const model = table({ '': [0.45, 0.2, 0.35] });
    expect((await search(model, 2)).tokens[0]).toEqual([0]);
    expect((await search(model, 3)).tokens[0]).toEqual([]);
  });

  it('without an end token every hypothesis runs maxLength tokens; several searches run side by side', async () => {
    const models = [randomModel(7, 3), randomModel(8, 3)];
    const result = await beamSearch(
      scripted((p, row) => models[Math.floor(row / 9)](p), 18),
      {
        batch: 2,
        beamWidth: 9,
        maxLength: 3,
        startToken: START,
        lengthPenalty: 0,
      },
    );
    for (const [b, model] of models.entries()) {
      // All 27 sequences of length 3, by brute force.
      let best = { tokens: [] as number[], logProb: Number.NEGATIVE_INFINITY };
      for (let i = 0; i < 27; i++) {
        const tokens = [Math.floor(i / 9), Math.floor(i / 3) % 3, i % 3];
        const logProb = tokens.reduce((sum, v, t) => sum + model([START, ...tokens.slice(0, t)])[v], 0);
        if (logProb > best.logProb) best = { tokens, logProb };
      }
      expect(result.tokens[b]).toEqual(best.tokens);
      expect(result.scores[b]).toBeCloseTo(best.logProb, 12);
    }
  });
});
