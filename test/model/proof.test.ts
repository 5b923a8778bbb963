/**
 * The proof forward (core/model/proof.ts): its per-row reductions against the spec functions of
 * core/protocol/sampling.ts (warp, classifyPosition, pick) and float64 references, under v4 sampling and under
 * temperature / top-k / top-p; chunking invariance; P = 0; agreement with the training log-prob op; and the record's
 * structural fit to the checks' `ProofForward` contract (core/protocol/checks.ts).
 */
import { describe, expect, it } from 'vitest';
import {
  eosProbability, logSoftmaxAt, parseQwen3Config, proofForward, qwen3ConfigJson, Qwen3Model, randomQwen3Weights, rowStats,
  uploadQwen3Weights, type ProofForward, type Qwen3Config,
} from '../../core/model/index.ts';
import { rowStatsReference, type RowStats } from '../../core/model/proof.ts';
import { V4 } from '../../core/profile/index.ts';
import type { ProofForward as CheckedProofForward } from '../../core/protocol/checks.ts';
import { classifyPosition, pick, uAt, warp } from '../../core/protocol/sampling.ts';
import { RefBackend } from '../../kernels/ref/index.ts';
import { randomF32, randomTokens } from '../kernels/check.ts';

const CFG: Qwen3Config = parseQwen3Config({
  ...qwen3ConfigJson({
    C: 64, F: 128, L: 2, NH: 4, NKV: 2, HD: 16, V: 97, eps: 1e-6, ropeTheta: 1e6, tied: false, dtype: 'float32', maxPositions: 4096,
  }),
});
const RANDOMNESS = '5eed'.repeat(16);

/** log_softmax in float64 from scratch. */
function logSoftmax64(z: ArrayLike<number>, tok: number): number {
  let m = -Infinity;
  for (let i = 0; i < z.length; i++) m = Math.max(m, z[i]!);
  let s = 0;
  for (let i = 0; i < z.length; i++) s += Math.exp(z[i]! - m);
  return z[tok]! - m - Math.log(s);
}

describe('rowStats: one logits row against the spec functions', () => {
  const SAMPLINGS = [
    { label: 'v4 (T=1, k=0, p=1)', sampling: V4.sampling },
    { label: 'T=0.7, k=20, p=0.9', sampling: { ...V4.sampling, temperature: 0.7, topK: 20, topP: 0.9 } },
  ];
  it.each(SAMPLINGS)('interval, max p, chosen and argmax probabilities, log-prob ($label)', ({ sampling }) => {
    for (let seed = 1; seed <= 20; seed++) {
      const z = randomF32(1000, seed, 4);
      const tok = (seed * 37) % 1000;
      const s = rowStats(z, tok, sampling);
      const probs = warp(z, sampling.temperature, sampling.topK, sampling.topP);
      const u = uAt(RANDOMNESS, seed, '', 0, 0, V4.forcedSeed);
      const c = classifyPosition(probs, tok, u, V4.forcedSeed);
      expect([s.lower, s.upper]).toEqual([c.lower, c.upper]);
      expect(s.maxP < Math.fround(V4.forcedSeed.stochasticMaxP)).toBe(c.stochastic);
      // The picked token's interval contains u (an honest position is exact).
      const picked = pick(probs, u);
      const sp = rowStats(z, picked, sampling);
      expect(sp.lower <= Math.fround(u) && Math.fround(u) < sp.upper).toBe(true);
      // chosen / argmax: softmax(z/T) over the full vocabulary, no top-k/p.
      const soft = warp(z, sampling.temperature, 0, 1);
      expect(Math.abs(s.chosenP - soft[tok]!)).toBeLessThan(1e-7);
      const amax = soft.indexOf(Math.max(...soft));
      expect(s.argmaxId).toBe(amax);
      expect(Math.abs(s.argmaxP - soft[amax]!)).toBeLessThan(1e-7);
      expect(Math.abs(s.logprob - logSoftmax64(z, tok))).toBeLessThan(2e-6);
    }
  });

  it('log-probs do not underflow where log(softmax) would', () => {
    const z = new Float32Array(50).fill(0);
    z[0] = 200;
    expect(Math.log(warp(z, 1, 0, 1)[1]!)).toBe(-Infinity);
    expect(logSoftmaxAt(z, 1)).toBeCloseTo(-200, 4);
  });

  it('eos probability sums the EOS ids once each', () => {
    const z = randomF32(64, 3, 2);
    const p = warp(z, 1, 0, 1);
    expect(eosProbability(z, [5, 9, 9, 1000])).toBeCloseTo(p[5]! + p[9]!, 6);
  });
});

describe('proofForward on a tiny model (ref)', () => {
  const be = new RefBackend();
  const model = new Qwen3Model(be, CFG, uploadQwen3Weights(be, CFG, randomQwen3Weights(CFG, 7)));
  const tokens = Array.from(randomTokens(40, CFG.V, 5));
  const P = 9;
  const opts = { promptLength: P, randomness: RANDOMNESS, profile: V4, eosTokenIds: [3, 14] };

  it('fits the checks contract, and chunking does not change it', async () => {
    const pf = await proofForward(model, tokens, { ...opts, seed: { promptIdx: 4, checkpointHash: '', rolloutIndex: 2 } });
    const asChecked: CheckedProofForward = pf;
    expect(asChecked.tokens).toEqual(tokens);
    expect(pf.chosenLogprob.length).toBe(tokens.length - P);
    expect(pf.sketches.length).toBe(tokens.length);
    expect(pf.sketches.every((s) => Number.isInteger(s))).toBe(true);
    const chunked = await proofForward(model, tokens, { ...opts, seed: { promptIdx: 4, checkpointHash: '', rolloutIndex: 2 }, chunkRows: 5 });
    expect(chunked).toEqual(pf);
    // Terminal pick and eos probability come from row L−2.
    const u = uAt(RANDOMNESS, 4, '', 2, tokens.length - P - 1, V4.forcedSeed);
    const j = tokens.length - P - 1;
    const exactLast = pf.cdfLower[j]! <= Math.fround(u) && Math.fround(u) < pf.cdfUpper[j]!;
    if (exactLast) expect(pf.terminalPickId).toBe(tokens.at(-1));
    else expect(pf.terminalPickId).not.toBe(tokens.at(-1));
    expect(pf.eosProb).toBeGreaterThan(0);
    expect((await proofForward(model, tokens, opts)).terminalPickId).toBeNull();
  });

  it('returns only the challenged sketches, equal to the full ones', async () => {
    const full = await proofForward(model, tokens, opts);
    const some = await proofForward(model, tokens, { ...opts, sketchPositions: [0, 7, 39] });
    expect(some.sketches.filter((s) => s !== undefined)).toEqual([0, 7, 39].map((i) => full.sketches[i]));
    expect(some.sketches[1]).toBeUndefined();
  });

  it('log-probs equal the training op (lmHeadLogprobsForward) within 1e-5; P = 0 leaves entry 0 empty', async () => {
    const pf: ProofForward = await proofForward(model, tokens, { ...opts, promptLength: 0 });
    expect(pf.chosenLogprob.length).toBe(tokens.length);
    expect(pf.chosenLogprob[0]).toBeNaN();
    const targets = Int32Array.from(tokens.slice(1).concat([0]));
    const { logprobs } = await model.forward(Int32Array.from(tokens), 1, tokens.length, { targets });
    let worst = 0;
    for (let j = 1; j < tokens.length; j++) worst = Math.max(worst, Math.abs(pf.chosenLogprob[j]! - logprobs![j - 1]!));
    console.log(`proof forward vs lmHeadLogprobsForward (ref): max |Δlogprob| ${worst.toExponential(2)}`);
    expect(worst).toBeLessThan(1e-5);
  });

  it('refuses tokens out of range and a bad prompt length', async () => {
    await expect(proofForward(model, [1, 2, 97], { ...opts, promptLength: 1 })).rejects.toThrow(/token 97 at position 2 outside \[0, 97\)/);
    await expect(proofForward(model, [1, 2, 3], { ...opts, promptLength: 4 })).rejects.toThrow(/prompt length 4/);
  });
});

describe('rowStats (one pass) = rowStatsReference (the definition), bit for bit', () => {
  const same = (a: RowStats, b: RowStats): void => {
    for (const k of Object.keys(b) as (keyof RowStats)[]) expect(Object.is(a[k], b[k]) || (Number.isNaN(a[k]) && Number.isNaN(b[k])), `${k}: ${a[k]} vs ${b[k]}`).toBe(true);
  };
  it.each([
    ['v4 (T=1, k=0, p=1)', V4.sampling],
    ['T=0.7, p=0.9', { ...V4.sampling, temperature: 0.7, topP: 0.9 }],
    ['T=1.3', { ...V4.sampling, temperature: 1.3 }],
    ['k=20 (the reference path)', { ...V4.sampling, topK: 20 }],
  ])('%s: random rows of several scales, ties, −inf and NaN entries', (_l, sampling) => {
    for (let seed = 1; seed <= 40; seed++) {
      const z = randomF32(2000, seed, seed % 5 === 0 ? 30 : 4);
      if (seed % 7 === 0) z.fill(z[3]!, 100, 140); // ties, at the max too
      if (seed % 7 === 0) z[5] = Math.max(...z);
      if (seed % 9 === 0) z[17] = -Infinity;
      if (seed % 11 === 0) z[23] = NaN;
      for (const tok of [0, (seed * 37) % 2000, 1999]) same(rowStats(z, tok, sampling), rowStatsReference(z, tok, sampling));
    }
  });
});
