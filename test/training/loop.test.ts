/**
 * The offline GRPO loop learns (issue 6, tests: "Learning"). On the shipped tiny model when `models/tiny-arith/`
 * exists, else on a fixture warm-started here by a short supervised phase (core/model/tiny.ts, 120 steps × 32).
 *
 * Method (wasm backend, everything seeded, no timing assertions):
 *   1. scan RUN.candidates training prompts spread over levels 0–4 with 16 rollouts each under a fixed stream; the in-zone
 *      ones (σ ≥ 0.24) are the pool;
 *   2. held-out pass@1 (sample 0, fixed stream) on 100 held-out problems of the same levels;
 *   3. RUN.steps GRPO steps of the loop on the pool (4 groups of 16 per step, the DEVNET profile);
 *   4. the same scan and eval again: the pool's mean reward must rise clearly, pass@1 must not collapse.
 * Figures seen: shipped model (44 in-zone prompts, lr 3e-4, 25 steps) mean reward 0.591 → 0.695, held-out pass@1
 * 0.780 → 0.770; fixture (30 prompts, lr 1e-3, 40 steps) 0.196 → 0.362, pass@1 0.070 → 0.080.
 */
import { existsSync } from 'node:fs';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { meanStd } from '../../core/market/zone.ts';
import { loadCheckpoint, type Checkpoint } from '../../core/model/checkpoint.ts';
import { Qwen3Model } from '../../core/model/forward.ts';
import { makeTinyArith, tinyArithConfigJson } from '../../core/model/tiny.ts';
import { DEVNET as DEVNET_V2, V4, type Profile } from '../../core/profile/index.ts';

/**
 * The devnet profile on the v4 forced-seed stream: this learning test's thresholds were measured on that stream's
 * draws (the v5 stream of proof v2 adds the hotkey to the message, so every draw moves); GRPO is the same either way.
 */
const DEVNET: Profile = { ...DEVNET_V2, forcedSeed: V4.forcedSeed };
import { DEVNET_CHAR_TOKENIZER as tok } from '../../core/tokenizer/char.ts';
import {
  gradedGroup, passAtOneOf, promptPicker, runTrainLoop, spreadIndices, stepRandomness, type TrainLoopResult,
} from '../../core/training/loop.ts';
import { createTrainer, disposeTrainer, type Trainer } from '../../core/training/trainer.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { envArith } from '../../plugins/env-arith/index.ts';

const SHIPPED = 'models/tiny-arith';
const SCAN_RANDOMNESS = 'ab'.repeat(32);
const EVAL_RANDOMNESS = 'cd'.repeat(32);
const USE_SHIPPED = !process.env.LOOP_TEST_FIXTURE && existsSync(`${SHIPPED}/config.json`);
/**
 * Run settings per starting point. The shipped model runs at 3e-4, below DEVNET's 1e-3: at 1e-3 its held-out pass@1
 * fell 0.78 → 0.54–0.62 in 25–40 steps on a small pool. The weak fixture needs the full 1e-3 to move in 40 steps.
 * (LOOP_TEST_FIXTURE=1 forces the fixture.)
 */
const RUN = USE_SHIPPED ? { lr: 3e-4, steps: 25, candidates: 150 } : { lr: 1e-3, steps: 40, candidates: 60 };

async function startingCheckpoint(be: ComputeBackend): Promise<Checkpoint> {
  if (USE_SHIPPED) return loadCheckpoint(nodeCheckpointFs(), SHIPPED);
  const made = await makeTinyArith(be, { env: envArith(), tokenizer: tok, recipe: { steps: 120, batchSize: 32 } });
  return { config: tinyArithConfigJson(), tensors: made.tensors, generationConfig: { eos_token_id: 1 } };
}

describe('runTrainLoop', () => {
  const env = envArith();
  const candidates = spreadIndices(5000, RUN.candidates); // the first 5 level bands of the 9000-problem training split
  const heldOut = spreadIndices(500, 100);
  let be: ComputeBackend;
  let trainer: Trainer;

  const scan = async (): Promise<number[]> => {
    const model = new Qwen3Model(be, trainer.cfg, trainer.weights);
    const means: number[] = [];
    for (const i of candidates) means.push(meanStd((await gradedGroup(model, env, tok, DEVNET, i, SCAN_RANDOMNESS, 16, 32)).rewards).mean);
    return means;
  };
  const passAt1 = async (): Promise<number> => (await passAtOneOf(new Qwen3Model(be, trainer.cfg, trainer.weights), {
    env: env.heldOut, tokenizer: tok, profile: DEVNET, indices: heldOut, randomness: EVAL_RANDOMNESS, maxNewTokens: 32,
  })).passAt1;

  beforeAll(async () => {
    be = await createNodeWasmBackend();
    trainer = createTrainer(be, await startingCheckpoint(be), { ...DEVNET, grpo: { ...DEVNET.grpo, learningRate: RUN.lr } });
  }, 60_000);

  it('raises the mean reward of in-zone training prompts without collapsing held-out pass@1', async () => {
    const before = await scan();
    const pool = candidates.filter((_, k) => before[k]! > 0 && before[k]! < 1);
    expect(pool.length).toBeGreaterThanOrEqual(8);
    const mean = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
    const poolMean = (m: readonly number[]): number => mean(pool.map((i) => m[candidates.indexOf(i)]!));
    const passBefore = await passAt1();

    const result: TrainLoopResult = await runTrainLoop(trainer, {
      env, tokenizer: tok, pool, pick: 'uniform', steps: RUN.steps, evalEvery: 0, seed: 'loop-test',
    });
    const after = await scan();
    const passAfter = await passAt1();
    const rewardBefore = poolMean(before), rewardAfter = poolMean(after);
    console.log(`in-zone pool of ${pool.length}: mean reward ${rewardBefore.toFixed(3)} → ${rewardAfter.toFixed(3)}; ` +
      `held-out pass@1 ${passBefore.toFixed(3)} → ${passAfter.toFixed(3)}`);

    expect(result.steps).toHaveLength(RUN.steps);
    expect(result.steps.filter((s) => s.record.applied).length).toBeGreaterThanOrEqual(RUN.steps - 3);
    for (const s of result.steps) expect(s.inZone).toBeGreaterThan(0);
    expect(rewardAfter).toBeGreaterThan(rewardBefore + 0.08);
    expect(passAfter).toBeGreaterThanOrEqual(Math.min(passBefore - 0.05, 0.5 * passBefore));
  }, 120_000);

  it('reports evals before the first step, every K steps and after the last', async () => {
    const evals: number[] = [];
    const res = await runTrainLoop(trainer, {
      env, tokenizer: tok, steps: 3, evalEvery: 2, evalProblems: 5, groups: 1, maxCandidates: 2,
      onEval: (e) => evals.push(e.step),
    });
    expect(evals).toEqual([0, 2, 3]);
    expect(res.evals.map((e) => e.problems)).toEqual([5, 5, 5]);
    for (const s of res.steps) {
      expect(s.candidates).toBeLessThanOrEqual(2);
      if (s.inZone === 0) expect(s.record.skipped).toBe('empty_batch');
      expect(Number.isNaN(s.tokensPerSecond)).toBe(true); // no clock injected
    }
  });

  it('draws fresh randomness per step and frontier picks within the pool', () => {
    expect(stepRandomness('s', 0)).toMatch(/^[0-9a-f]{64}$/);
    expect(stepRandomness('s', 0)).not.toBe(stepRandomness('s', 1));
    let x = 0;
    const rand = (): number => (x = (x + 0.377) % 1);
    const picker = promptPicker(env, 'frontier', [10, 20, 4500, 4600], rand);
    for (let k = 0; k < 50; k++) expect([10, 20, 4500, 4600]).toContain(picker.next());
    picker.observe(10, 1); // level 0 always right: fades to the 0.05 exploration weight
    const counts = new Map<number, number>();
    for (let k = 0; k < 400; k++) {
      const i = picker.next();
      counts.set(env.level(i), (counts.get(env.level(i)) ?? 0) + 1);
    }
    expect(counts.get(4)!).toBeGreaterThan(5 * (counts.get(0) ?? 0));
  });

  afterAll(() => {
    if (trainer) disposeTrainer(trainer);
    be?.destroy();
  });
});
