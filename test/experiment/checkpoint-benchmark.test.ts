/**
 * Every checkpoint benchmarked against the last (core/validator/benchmark.ts, issue 13): the evaluation is paired —
 * a checkpoint against identical weights differs by exactly 0 on every problem (same seeds, same samples) — a real
 * step is measured with an interval around its difference, the child's scores become the next parent's, and the
 * benchmark travels with the published checkpoint into the manifest.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { experimentProfile } from '../../core/experiment/experiment.ts';
import { offlineGroup } from '../../core/experiment/offline-arms.ts';
import { armOptions } from '../../core/experiment/experiment.ts';
import { loadCheckpoint } from '../../core/model/checkpoint.ts';
import { Qwen3Model } from '../../core/model/forward.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { spreadIndices } from '../../core/training/loop.ts';
import { createTrainer, disposeTrainer, trainStep, type Trainer } from '../../core/training/trainer.ts';
import { CheckpointBencher, formatBenchmark } from '../../core/validator/benchmark.ts';
import { manifestOf } from '../../core/validator/publish.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { envArith } from '../../plugins/env-arith/index.ts';

const env = envArith();
const C = { steps: 1, seeds: 1, groups: 4, miners: 1, evalProblems: 24, evalK: 2, evalEvery: 1, learningRate: 1e-2, arms: [], bootstrap: 200 } as const;
const heldOut = { env: env.heldOut, indices: spreadIndices(env.heldOut.size, C.evalProblems), randomness: 'a1'.repeat(32), maxNewTokens: 32 };
let be: ComputeBackend;
let trainer: Trainer;

beforeAll(async () => {
  be = await createNodeWasmBackend();
  trainer = createTrainer(be, await loadCheckpoint(nodeCheckpointFs(), 'models/tiny-arith'), experimentProfile(C));
});
afterAll(() => {
  disposeTrainer(trainer);
  be?.destroy();
});

describe('checkpoint vs parent benchmark', () => {
  it('is paired: identical weights differ by exactly 0, problem by problem', async () => {
    const b = await new CheckpointBencher({ profile: trainer.profile, tokenizer: DEVNET_CHAR_TOKENIZER, heldOut, k: 2 }).run(trainer, 0);
    expect(b.paired).toBe(true);
    expect(b.passAt1).toBe(b.parentPassAt1);
    expect(b.diff).toMatchObject({ mean: 0, lo: 0, hi: 0 });
  });

  it('measures a real step, reuses the child as the next parent, and rides in the manifest', async () => {
    const bench = new CheckpointBencher({ profile: trainer.profile, tokenizer: DEVNET_CHAR_TOKENIZER, heldOut, k: 2 });
    const o = armOptions(C, { env, tokenizer: DEVNET_CHAR_TOKENIZER, now: () => 0 }, 0);
    const model = new Qwen3Model(trainer.be, trainer.cfg, trainer.weights);
    const groups = [];
    for (let i = 0; i < 4; i++) groups.push((await offlineGroup(model, o, trainer, 1000 * i + 7, hex(sha256(utf8(`g${i}`))))).rollouts);
    const rec = await trainStep(trainer, [{ name: 'arith', maxNewTokens: 32, groups }]);
    const b1 = await bench.run(trainer, 0);
    expect(b1.diff.lo).toBeLessThanOrEqual(b1.diff.mean);
    expect(b1.diff.hi).toBeGreaterThanOrEqual(b1.diff.mean);
    expect(b1.diff.mean).toBeCloseTo(b1.passAt1 - b1.parentPassAt1, 12);
    if (rec.applied) expect(b1.diff.hi - b1.diff.lo).toBeGreaterThanOrEqual(0);
    // the next publish: its parent (checkpoint 1) is the child just measured, not re-evaluated
    const b2 = await bench.run(trainer, 1);
    expect(b2.parentPassAt1).toBe(b1.passAt1);
    const m = manifestOf({ checkpointN: 1, revision: 'ab'.repeat(20), dir: 'x', window: 0, benchmark: b1 }, signerFromSeed(sha256(utf8('v'))));
    expect(m.benchmark).toEqual(b1);
    expect(formatBenchmark(b1)).toMatch(/pp \[.*\] on 24 held-out problems × 2, paired/);
  });
});
