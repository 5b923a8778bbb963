/**
 * The batched proof forward (core/model/proof.ts `proofForwards`, what the validator's prover runs): every rollout's
 * ProofForward is, bit for bit, what `proofForward` gives it alone, on the wasm backend (1 and 2 threads), on ref and
 * on WebGPU (lavapipe in CI, never skipped, as test/kernels/webgpu.test.ts), under proof v4 (sketches of every row)
 * and v2 (challenged rows); with sequences of different lengths (right padding), sequences under 4 tokens (run
 * alone), a P = 0 sequence, and a row budget that splits the group into several batches. Hostile input refuses the
 * whole call before any forward.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { parseQwen3Config, proofForward, proofForwards, qwen3ConfigJson, Qwen3Model, randomQwen3Weights, uploadQwen3Weights, type ProofForward } from '../../core/model/index.ts';
import { DEVNET, V4 } from '../../core/profile/index.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { RefBackend } from '../../kernels/ref/index.ts';
import { createNodeWebGPUBackend } from '../../kernels/webgpu/node-device.ts';
import { randomTokens } from '../kernels/check.ts';

const CFG = parseQwen3Config({
  ...qwen3ConfigJson({ C: 64, F: 128, L: 2, NH: 4, NKV: 2, HD: 16, V: 97, eps: 1e-6, ropeTheta: 1e6, tied: false, dtype: 'float32', maxPositions: 4096 }),
});
const RANDOMNESS = '5eed'.repeat(16);

/** The record's numbers as exact bit patterns (NaN-safe), for toEqual. */
function bits(pf: ProofForward): unknown {
  const f = (a: Float32Array) => Array.from(new Uint32Array(Float32Array.from(a).buffer));
  return {
    ...pf, chosenProb: f(pf.chosenProb), chosenLogprob: f(pf.chosenLogprob), argmaxProb: f(pf.argmaxProb), cdfLower: f(pf.cdfLower),
    cdfUpper: f(pf.cdfUpper), maxProb: f(pf.maxProb), argmaxId: Array.from(pf.argmaxId), stochastic: Array.from(pf.stochastic),
    eosProb: pf.eosProb === null ? null : f(Float32Array.of(pf.eosProb)),
  };
}

const backends: [string, () => Promise<ComputeBackend>][] = [
  ['wasm 1 thread', () => createNodeWasmBackend({ threads: 1 })],
  ['wasm 2 threads, every op split', () => createNodeWasmBackend({ threads: 2, minWork: 0 })],
  ['ref', async () => new RefBackend()],
  ['webgpu', () => createNodeWebGPUBackend()],
];

describe.each(backends)('proofForwards = proofForward per sequence, bit for bit (%s)', (_label, open) => {
  let be: ComputeBackend;
  let model: Qwen3Model;
  beforeAll(async () => {
    be = await open();
    model = new Qwen3Model(be, CFG, uploadQwen3Weights(be, CFG, randomQwen3Weights(CFG, 3)));
  });
  afterAll(() => be?.destroy());

  // lengths: a group of mixed lengths, one under 4 tokens, one with P = 0
  const seqs = [[5, 12], [5, 9], [3, 3], [5, 20], [0, 7], [5, 6]].map(([P, L], i) => ({ P: P!, tokens: Array.from(randomTokens(L!, CFG.V, 40 + i)) }));

  it.each([['v4', V4], ['v2', DEVNET]] as const)('%s, one batch and a row budget of 30 (several batches)', async (_s, profile) => {
    // v2: the first two completion rows are the challenged ones (as the prover's challenge would name some)
    const input = seqs.map((s, m) => ({
      tokens: s.tokens,
      opts: {
        promptLength: s.P, randomness: RANDOMNESS, profile, eosTokenIds: [3, 7],
        ...(profile.proof.scheme === 'v2' ? { sketchPositions: [s.P, s.P + 1].filter((p) => p < s.tokens.length) } : {}),
        seed: { promptIdx: 11, checkpointHash: 'ab'.repeat(20), rolloutIndex: m },
      },
    }));
    const alone = [];
    for (const x of input) alone.push(bits(await proofForward(model, x.tokens, x.opts)));
    expect((await proofForwards(model, input)).map(bits)).toEqual(alone);
    expect((await proofForwards(model, input, 30)).map(bits)).toEqual(alone);
  });

  it('a token outside the vocabulary anywhere, or sequences of different windows, refuse the whole call', async () => {
    const o = { promptLength: 2, randomness: RANDOMNESS, profile: V4, eosTokenIds: [] };
    await expect(proofForwards(model, [{ tokens: [1, 2, 3, 4, 5], opts: o }, { tokens: [1, 2, CFG.V, 4], opts: o }])).rejects.toThrow(/token 97 at position 2 outside \[0, 97\)/);
    await expect(proofForwards(model, [{ tokens: [1, 2, 3, 4, 5], opts: { ...o, promptLength: 9 } }])).rejects.toThrow(/prompt length 9/);
    await expect(proofForwards(model, [{ tokens: [1, 2, 3, 4, 5], opts: o }, { tokens: [1, 2, 3, 4], opts: { ...o, randomness: 'ab'.repeat(32) } }])).rejects.toThrow(/share the window randomness and the profile/);
  });
});
