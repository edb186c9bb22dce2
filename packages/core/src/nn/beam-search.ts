import { ValueRangeError } from '../errors.js';

/**
 * One decoding step of a batch of `rows` hypotheses, as the search needs it: `step` feeds one
 * token per row and resolves with the next token's log-probabilities `[rows, vocabulary]` on
 * the host (advancing the decoder state); `reorder` makes row i of the state a copy of row
 * `index[i]` (beams that survive, duplicated or dropped).
 */
export interface DecoderSteps {
  step(tokens: Int32Array): Promise<ArrayLike<number>>;
  reorder(index: Int32Array): void;
}

export interface SearchSettings {
  /** Independent searches (source sequences). */
  batch: number;
  beamWidth: number;
  /** Most tokens generated per hypothesis, the end token included. */
  maxLength: number;
  startToken: number;
  endToken?: number;
  /** α of the ranking score `log p(y) / |y|^α` (|y| counts the end token). */
  lengthPenalty: number;
}

/** The best hypothesis of each source sequence: tokens without the start and end tokens. */
export interface DecodeResult {
  tokens: number[][];
  /** `log p(tokens, end | source) / |y|^α`: the sum of the log-probabilities (α = 0 by default). */
  scores: number[];
}

interface Hypothesis {
  tokens: number[];
  /** Sum of log-probabilities. */
  logProb: number;
}

interface Finished extends Hypothesis {
  score: number;
}

/** Whether `a` should be taken before `b`: higher score, then the lower row, then the lower token (arg-max order). */
function before(a: readonly [number, number, number], b: readonly [number, number, number]): number {
  return b[0] - a[0] || a[1] - b[1] || a[2] - b[2];
}

/** The `count` most likely tokens of one row but `excluded`, most likely first (ties: lower id first). */
function bestTokens(logProbs: ArrayLike<number>, offset: number, vocabulary: number, count: number, excluded?: number): number[] {
  const best: number[] = [];
  for (let v = 0; v < vocabulary; v++) {
    if (v === excluded) continue;
    const p = logProbs[offset + v];
    if (best.length === count) {
      if (!(p > logProbs[offset + best[count - 1]])) continue;
      best.pop();
    }
    let i = best.length;
    while (i > 0 && p > logProbs[offset + best[i - 1]]) i--;
    best.splice(i, 0, v);
  }
  return best;
}

/**
 * Beam search over `batch` independent searches of `beamWidth` rows each (row `b·K + k` is beam k
 * of search b), the usual way: every step extends each live beam by every token, ranks the
 * extensions by log-probability, and keeps the best `K` that do not end; an extension by the end
 * token ranked above the last of them becomes a finished hypothesis. Beams still live after
 * `maxLength` tokens finish unended. A search stops once no live beam can still beat its best
 * finished hypothesis (log-probabilities only fall as a hypothesis grows, so the bound is exact),
 * and the best finished hypothesis by `score` wins.
 *
 * With `K` = 1 this is greedy decoding; with `K` at least the number of extensions of every step,
 * nothing is ever pruned and the result is the exact best sequence.
 */
export async function beamSearch(decoder: DecoderSteps, settings: SearchSettings): Promise<DecodeResult> {
  const { batch, beamWidth: K, maxLength, startToken, endToken, lengthPenalty: alpha } = settings;
  const rows = batch * K;
  // Row b·K starts the only live beam of search b; the others wait as empty slots.
  const live: (Hypothesis | null)[] = Array.from({ length: rows }, (_, r) => (r % K === 0 ? { tokens: [], logProb: 0 } : null));
  const finished: Finished[][] = Array.from({ length: batch }, () => []);
  const done = new Array<boolean>(batch).fill(false);
  const score = (logProb: number, length: number) => logProb / length ** alpha;
  for (let t = 1; t <= maxLength && done.includes(false); t++) {
    const tokens = Int32Array.from(live, (h) => (h && h.tokens.length > 0 ? h.tokens[h.tokens.length - 1] : startToken));
    const logProbs = await decoder.step(tokens);
    const vocabulary = logProbs.length / rows;
    if (endToken !== undefined && endToken >= vocabulary) {
      throw new ValueRangeError(`beamSearch: endToken ${endToken} is out of range [0, ${vocabulary})`);
    }
    const source = new Int32Array(rows);
    for (let b = 0; b < batch; b++) {
      if (done[b]) {
        for (let k = 0; k < K; k++) source[b * K + k] = b * K + k;
        continue;
      }
      // Each live beam offers its K best continuations that do not end, plus the end token:
      // enough for the global top K of either kind.
      const candidates: [number, number, number][] = [];
      for (let k = 0; k < K; k++) {
        const h = live[b * K + k];
        if (!h) continue;
        const offset = (b * K + k) * vocabulary;
        for (const v of bestTokens(logProbs, offset, vocabulary, K, endToken)) candidates.push([h.logProb + logProbs[offset + v], k, v]);
        if (endToken !== undefined) candidates.push([h.logProb + logProbs[offset + endToken], k, endToken]);
      }
      candidates.sort(before);
      const kept: [Hypothesis, number][] = [];
      // Ends ranked after the K-th kept beam are dropped: a step keeps K hypotheses of either
      // kind, which makes width 1 greedy decoding (and a wide enough search exhaustive).
      for (const [logProb, k, v] of candidates) {
        if (kept.length === K) break;
        const parent = live[b * K + k] as Hypothesis;
        if (v === endToken) {
          finished[b].push({ tokens: parent.tokens, logProb, score: score(logProb, t) });
        } else {
          kept.push([{ tokens: [...parent.tokens, v], logProb }, b * K + k]);
        }
      }
      for (let k = 0; k < K; k++) {
        live[b * K + k] = kept[k]?.[0] ?? null;
        source[b * K + k] = kept[k]?.[1] ?? b * K;
      }
      if (t === maxLength) for (const [h] of kept) finished[b].push({ ...h, score: score(h.logProb, t) });
      // A live beam's log-probability can only fall; its best score is at the length of largest |y|^α.
      const best = Math.max(...finished[b].map((f) => f.score));
      const reach = Math.max((t + 1) ** alpha, maxLength ** alpha);
      const hope = Math.max(...kept.map(([h]) => h.logProb / reach));
      if (kept.length === 0 || (finished[b].length > 0 && best >= hope)) done[b] = true;
    }
    if (t < maxLength && done.includes(false)) decoder.reorder(source);
  }
  const tokens: number[][] = [];
  const scores: number[] = [];
  for (const list of finished) {
    // The first of equal scores wins: it ranked higher when found, or was found earlier.
    const best = list.reduce((a, f) => (f.score > a.score ? f : a));
    tokens.push(best.tokens);
    scores.push(best.score);
  }
  return { tokens, scores };
}
