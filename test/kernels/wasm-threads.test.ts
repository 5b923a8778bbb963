/**
 * The wasm backend on several threads (kernels-threads.wasm over one shared memory, worker_threads helpers):
 * - the per-op golden suites against ref with 3 threads and every op split (minWork 0: uneven, unaligned ranges);
 * - bit-for-bit equality with the single-thread backend: large ops (over the default split threshold), many small
 *   split ops back to back (chunks claimed by whichever thread is awake), and a tiny Qwen3 forward, prefill + decode
 *   against a KV cache, with bf16 weights;
 * - the proof's forward (proofForward and the commitments' sketchesOf, both proof schemes) identical on 1, 2, 3 and 5
 *   threads, split at the default threshold and at every op: a validator and a miner may run different counts;
 * - the thread count a Node host picks (wasmThreads: option, RELIQUARY_WASM_THREADS, auto).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend, Tensor } from '../../core/compute/backend.ts';
import type { BackwardOps } from '../../core/compute/backward.ts';
import { f32ToBf16 } from '../../core/compute/bf16.ts';
import {
  disposeQwen3Weights, parseQwen3Config, qwen3ConfigJson, Qwen3Model, randomQwen3Weights, uploadQwen3Weights,
} from '../../core/model/index.ts';
import { proofForward, sketchesOf } from '../../core/model/proof.ts';
import { DEVNET, V4 } from '../../core/profile/index.ts';
import type { WasmBackend } from '../../kernels/wasm/index.ts';
import { createNodeWasmBackend, WASM_AUTO_THREADS_MAX, WASM_THREADS_ENV, wasmThreads } from '../../kernels/wasm/node.ts';
import { splitRange } from '../../kernels/wasm/threads.ts';
import { backwardSuite } from './backward-suite.ts';
import { randomF32, randomTokens } from './check.ts';
import { opSuite } from './suite.ts';
import { WASM_BACKWARD_TOLERANCES, WASM_TOLERANCES } from './wasm-tolerances.ts';

const splitAll = () => createNodeWasmBackend({ threads: 3, minWork: 0 });
opSuite('wasm (3 threads, every op split)', splitAll, WASM_TOLERANCES);
backwardSuite('wasm (3 threads, every op split)', splitAll, WASM_BACKWARD_TOLERANCES);

describe('splitRange', () => {
  it('covers [0, total) with aligned inner boundaries', () => {
    expect(splitRange(1024, 2, 8)).toEqual([[0, 512], [512, 1024]]);
    expect(splitRange(20, 3, 8)).toEqual([[0, 8], [8, 16], [16, 20]]);
    expect(splitRange(5, 4, 8)).toEqual([[0, 5]]);
    expect(splitRange(7, 3)).toEqual([[0, 2], [2, 5], [5, 7]]);
  });
});

type Train = ComputeBackend & BackwardOps;

/** The same computation on the single-thread and the threaded backend must give identical bits. */
describe('wasm threads equal one thread bit for bit', () => {
  let one: WasmBackend;
  let two: WasmBackend;
  beforeAll(async () => {
    one = await createNodeWasmBackend({ threads: 1 });
    two = await createNodeWasmBackend({ threads: 2 });
  });
  afterAll(() => {
    one?.destroy();
    two?.destroy();
  });

  /** Runs `op` on both backends with the same inputs; returns the downloaded outputs (bits compared). */
  async function same(label: string, outs: number[][], inputs: (Float32Array | Uint16Array)[], shapes: number[][],
    op: (be: Train, outs: Tensor<'f32'>[], ins: Tensor<'f32'>[]) => void): Promise<void> {
    const results: Uint32Array[][] = [];
    for (const be of [one, two]) {
      const ins = inputs.map((x, i) => be.upload(x as Float32Array, shapes[i]!) as Tensor<'f32'>);
      const os = outs.map((s) => be.empty(s));
      op(be, os, ins);
      results.push(await Promise.all(os.map(async (o) => new Uint32Array((await be.download(o)).buffer))));
      for (const t of [...ins, ...os]) be.dispose(t);
    }
    results[0]!.forEach((r, i) => {
      const d = r.findIndex((x, j) => x !== results[1]![i]![j]);
      expect(d, `${label} output ${i}: first differing element`).toBe(-1);
    });
  }

  it('matmul (f32 and bf16 weights, prefill and decode rows)', async () => {
    for (const [N, C, OC, bf16] of [[67, 300, 530, false], [64, 1024, 1000, true], [3, 1024, 3000, true]] as const) {
      const w = randomF32(OC * C, 2);
      await same(`matmul ${N}x${C}x${OC}`, [[N, OC]], [randomF32(N * C, 1), bf16 ? f32ToBf16(w) : w], [[N, C], [OC, C]],
        (be, [o], [x, ww]) => be.matmulForward(o!, x!, ww!, 1, N, C, OC));
    }
  });

  it('matmulForwardShared (q/k/v, gate/up in one split) = one matmulForward per weight on one thread', async () => {
    for (const [N, C, OCs] of [[128, 256, [512, 256, 256]], [8, 512, [1000, 1000]], [2, 64, [24, 8, 8]]] as const) {
      const ws = OCs.map((OC, i) => f32ToBf16(randomF32(OC * C, 10 + i)));
      await same(`shared ${N}x${C}x[${OCs.join(',')}]`, OCs.map((OC) => [N, OC]), [randomF32(N * C, 1), ...ws], [[N, C], ...OCs.map((OC) => [OC, C])],
        (be, os, [x, ...w]) => (be === one ? os.forEach((o, i) => be.matmulForward(o, x!, w[i]!, 1, N, C, OCs[i]!)) : be.matmulForwardShared!(os, x!, w, 1, N, C, OCs)));
    }
    const x = two.upload(randomF32(8 * 16, 1), [8, 16]);
    const w = two.upload(randomF32(32 * 16, 2), [32, 16]);
    const o = two.empty([8, 32]);
    expect(() => two.matmulForwardShared([o], x, [w, w], 1, 8, 16, [32])).toThrow(/1 outputs, 2 weights and 1 widths/);
    expect(() => two.matmulForwardShared([o], x, [w], 1, 8, 16, [16])).toThrow();
    for (const t of [x, w, o]) two.dispose(t);
  });

  it('many small ops back to back on 3 threads: a helper that wakes late claims only chunks of the current op', async () => {
    const three = await createNodeWasmBackend({ threads: 3, minWork: 0 });
    try {
      const [N, C, OC] = [5, 64, 200];
      const x = randomF32(N * C, 30);
      const w = f32ToBf16(randomF32(OC * C, 31));
      const runs: Uint32Array[][] = [];
      for (const be of [one, three]) {
        const xt = be.upload(x, [N, C]);
        const wt = be.upload(w, [OC, C]);
        const outs: Uint32Array[] = [];
        for (let i = 0; i < 400; i++) {
          const y = be.empty([N, OC]);
          const z = be.empty([N, OC]);
          be.matmulForward(y, xt, wt, 1, N, C, OC);
          be.residualForward(z, y, y, N * OC);
          outs.push(new Uint32Array((await be.download(y)).buffer), new Uint32Array((await be.download(z)).buffer));
          be.dispose(y);
          be.dispose(z);
        }
        runs.push(outs);
      }
      runs[1]!.forEach((r, i) => expect(r.findIndex((v, j) => v !== runs[0]![i]![j]), `call ${i}`).toBe(-1));
    } finally {
      three.destroy();
    }
  });

  it('attention prefill and decode, rmsnorm, swiglu, LM head', async () => {
    const [B, T, NH, NKV, HD, S] = [2, 40, 8, 2, 64, 300];
    await same('attention prefill', [[B, T, NH, HD]], [randomF32(B * T * NH * HD, 3), randomF32(B * S * NKV * HD, 4), randomF32(B * S * NKV * HD, 5)],
      [[B, T, NH, HD], [B, S, NKV, HD], [B, S, NKV, HD]], (be, [o], [q, k, v]) => be.attentionForward(o!, q!, k!, v!, B, T, NH, NKV, HD, 200, S));
    const [N, C, V] = [256, 1024, 3000];
    await same('rmsnorm + swiglu', [[N, C], [N, C]], [randomF32(N * C, 6, 3), randomF32(C, 7), randomF32(N * C, 8)], [[N, C], [C], [N, C]],
      (be, [o, g], [x, w, u]) => {
        be.rmsnormForward(o!, x!, w!, 1, N, C, 1e-6);
        be.swigluForward(g!, o!, u!, N * C);
      });
    const targets = randomTokens(N, V, 9);
    await same('lm head', [[N], [N, V]], [randomF32(N * C, 10), f32ToBf16(randomF32(V * C, 11, 0.1))], [[N, C], [V, C]],
      (be, [lp, p], [x, w]) => {
        be.lmHeadLogprobsForward(lp!, x!, w!, targets, 1, N, C, V);
        be.lmHeadProbsForward(p!, x!, w!, N, C, V);
      });
  });

  it('backward: matmul, attention, LM head', async () => {
    const [N, C, OC] = [96, 512, 768];
    await same('matmulBackward', [[N, C], [OC, C]], [randomF32(N * OC, 12), randomF32(N * C, 13), f32ToBf16(randomF32(OC * C, 14))],
      [[N, OC], [N, C], [OC, C]], (be, [dx, dw], [dout, x, w]) => be.matmulBackward(dx!, dw!, dout!, x!, w!, 1, N, C, OC));
    const [B, T, NH, NKV, HD] = [1, 128, 8, 4, 64];
    const q = B * T * NH * HD, kv = B * T * NKV * HD;
    await same('attentionBackward', [[q], [kv], [kv]], [randomF32(q, 15), randomF32(q, 16), randomF32(kv, 17), randomF32(kv, 18)],
      [[q], [q], [kv], [kv]], (be, [dq, dk, dv], [dout, qq, k, v]) => be.attentionBackward(dq!, dk!, dv!, dout!, qq!, k!, v!, B, T, NH, NKV, HD));
    const V = 2000;
    const targets = randomTokens(N, V, 19);
    const dlp = randomF32(N, 20);
    dlp[3] = 0; // a gathered row set
    await same('lmHeadLogprobsBackward', [[N, C], [V, C]], [dlp, randomF32(N * C, 21), randomF32(V * C, 22, 0.1)], [[N], [N, C], [V, C]],
      (be, [dx, dw], [g, x, w]) => be.lmHeadLogprobsBackward(dx!, dw!, g!, x!, w!, targets, 1, N, C, V));
  });

  it('a tiny Qwen3: prefill hidden states and log-probs, then decode steps against the KV cache', async () => {
    const cfg = parseQwen3Config({
      ...qwen3ConfigJson({ C: 256, F: 768, L: 2, NH: 8, NKV: 4, HD: 32, V: 4096, eps: 1e-6, ropeTheta: 1e6, tied: false, dtype: 'bfloat16', maxPositions: 4096 }),
    });
    const host = randomQwen3Weights(cfg, 3, { bf16: true });
    const [B, T] = [2, 48];
    const tokens = randomTokens(B * T, cfg.V, 4);
    const targets = randomTokens(B * T, cfg.V, 5);
    const got: Uint32Array[][] = [];
    for (const be of [one, two]) {
      const w = uploadQwen3Weights(be, cfg, host);
      const model = new Qwen3Model(be, cfg, w);
      const full = await model.forward(tokens, B, T, { targets });
      const cache = model.createCache(B, T + 4);
      await model.forward(tokens, B, T, { cache, returnHidden: false });
      const step = await model.decodeStep(cache, new Int32Array([7, 9]));
      const step2 = await model.decodeStep(cache, new Int32Array([1, 2]));
      got.push([full.hidden, full.logprobs!, step.probs, step2.probs].map((a) => new Uint32Array(a.buffer, a.byteOffset, a.length)));
      for (const t of [...cache.k, ...cache.v]) be.dispose(t);
      disposeQwen3Weights(be, w);
    }
    got[0]!.forEach((a, i) => expect(a.findIndex((x, j) => x !== got[1]![i]![j]), `result ${i}`).toBe(-1));
  });
});

describe('the proof forward is the same on any thread count', () => {
  // widths that make the default threshold split the matmuls, attention and the LM head, and odd enough that the
  // ranges are uneven (OC 200 over 3 threads: 64 + 72 + 64; V 3000 over 5 threads)
  const cfg = parseQwen3Config({
    ...qwen3ConfigJson({ C: 256, F: 712, L: 2, NH: 8, NKV: 2, HD: 32, V: 3000, eps: 1e-6, ropeTheta: 1e6, tied: true, dtype: 'bfloat16', maxPositions: 4096 }),
  });
  const host = randomQwen3Weights(cfg, 23, { bf16: true });
  const tokens = Array.from(randomTokens(80, cfg.V, 24));
  const randomness = 'a5'.repeat(32);
  const P = 17;

  /** Every output of proofForward and sketchesOf under both schemes, as bits. */
  async function proofBits(be: WasmBackend): Promise<number[][]> {
    const w = uploadQwen3Weights(be, cfg, host);
    try {
      const model = new Qwen3Model(be, cfg, w);
      const out: number[][] = [];
      for (const profile of [V4, DEVNET]) {
        const pf = await proofForward(model, tokens, {
          promptLength: P, randomness, profile, eosTokenIds: [2], seed: { promptIdx: 5, checkpointHash: '00'.repeat(32), rolloutIndex: 1 },
        });
        const f32 = [pf.chosenLogprob, pf.chosenProb, pf.argmaxProb, pf.cdfLower, pf.cdfUpper, pf.maxProb];
        out.push(...f32.map((a) => Array.from(new Uint32Array(a.buffer, a.byteOffset, a.length))));
        out.push(Array.from(pf.argmaxId), Array.from(pf.stochastic), pf.sketches.map((x) => x ?? -1));
        out.push((pf.sketchCandidates ?? []).flatMap((c) => c ?? [-1]), [pf.eosProb ?? NaN, pf.terminalPickId ?? -1]);
        out.push(Array.from(await sketchesOf(model, Int32Array.from(tokens), randomness, profile)));
      }
      return out;
    } finally {
      disposeQwen3Weights(be, w);
    }
  }

  it('logprobs, CDF bounds, argmax, sketches and commitments: 1 thread = 2 = 3 = 5 threads, bit for bit', async () => {
    const variants: [string, () => Promise<WasmBackend>][] = [
      ['2 threads', () => createNodeWasmBackend({ threads: 2 })],
      ['3 threads, every op split', () => createNodeWasmBackend({ threads: 3, minWork: 0 })],
      ['5 threads, every op split', () => createNodeWasmBackend({ threads: 5, minWork: 0 })],
    ];
    const one = await createNodeWasmBackend({ threads: 1 });
    const want = await proofBits(one).finally(() => one.destroy());
    for (const [label, make] of variants) {
      const be = await make();
      const got = await proofBits(be).finally(() => be.destroy());
      got.forEach((a, i) => {
        const d = a.findIndex((x, j) => !Object.is(x, want[i]![j]));
        expect(d, `${label}, output ${i}: first differing element`).toBe(-1);
        expect(a.length).toBe(want[i]!.length);
      });
    }
  }, 60_000);
});

describe('wasmThreads: the thread count of a Node host', () => {
  it('auto is the available cores, capped, and 1 on one core', () => {
    expect(wasmThreads(undefined, 2, undefined)).toBe(2);
    expect(wasmThreads(undefined, 1, undefined)).toBe(1);
    expect(wasmThreads('auto', 64, undefined)).toBe(WASM_AUTO_THREADS_MAX);
  });
  it(`${WASM_THREADS_ENV} sets the default; an explicit count wins over it`, () => {
    expect(wasmThreads(undefined, 4, '1')).toBe(1);
    expect(wasmThreads(undefined, 4, ' 3 ')).toBe(3);
    expect(wasmThreads(undefined, 4, 'auto')).toBe(4);
    expect(wasmThreads(undefined, 4, '')).toBe(4);
    expect(wasmThreads(2, 4, '1')).toBe(2);
  });
  it('refuses a malformed count, naming where it came from', () => {
    expect(() => wasmThreads(undefined, 4, 'two')).toThrow(WASM_THREADS_ENV);
    expect(() => wasmThreads(undefined, 4, '0')).toThrow(/not a thread count/);
    expect(() => wasmThreads(1.5, 4, undefined)).toThrow(/threads 1.5/);
  });
});
