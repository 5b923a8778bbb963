/**
 * `reliquary experiment`'s arms (core/experiment/): every arm starts from the same weights and is evaluated on the
 * same held-out problems under the same stream (their step-0 evaluations are identical problem by problem), the
 * same seed gives the offline arms the same draws, and the market arm trains on the groups its fill-closed window
 * sealed (through MarketValidator, the seal and the real prover).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { runArm, type ArmName, type ArmRun } from '../../core/experiment/arm.ts';
import { armOptions, summarize, type ExperimentConfig } from '../../core/experiment/experiment.ts';
import { marketGatherer } from '../../core/experiment/market-arm.ts';
import { filterGatherer, uniformGatherer } from '../../core/experiment/offline-arms.ts';
import { renderMarkdown, curveSpec, targetsTable } from '../../core/experiment/report.ts';
import { loadCheckpoint, type Checkpoint } from '../../core/model/checkpoint.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { createTrainer, disposeTrainer } from '../../core/training/trainer.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { createNodeWasmBackend } from '../../kernels/wasm/node.ts';
import { arithPromptBucket, envArith } from '../../plugins/env-arith/index.ts';
import { selectorFrontier } from '../../plugins/selector-frontier/index.ts';

const C: ExperimentConfig = { steps: 1, seeds: 1, groups: 2, miners: 2, evalProblems: 12, evalK: 2, evalEvery: 1, learningRate: null, arms: ['uniform', 'filter', 'market'], bootstrap: 100 };
let be: ComputeBackend;
let ckpt: Checkpoint;
const env = envArith();
const deps = { env, tokenizer: DEVNET_CHAR_TOKENIZER, now: () => performance.now() };
const runs = new Map<ArmName, ArmRun>();

beforeAll(async () => {
  be = await createNodeWasmBackend();
  ckpt = await loadCheckpoint(nodeCheckpointFs(), 'models/tiny-arith');
  for (const arm of C.arms) {
    const o = armOptions(C, deps, 0);
    const trainer = createTrainer(be, ckpt, o.profile);
    const gather = arm === 'uniform' ? uniformGatherer(o) : arm === 'filter' ? filterGatherer(o)
      : marketGatherer(o, { selector: (_i, hotkey, seed) => selectorFrontier({ seed, hotkey, sigmaFloor: 0.24, groupSize: 16, bucket: arithPromptBucket }) });
    runs.set(arm, await runArm(arm, o, trainer, gather));
    disposeTrainer(trainer);
  }
}, 120_000);
afterAll(() => be?.destroy());

describe('experiment arms', () => {
  it('share the initial weights, the held-out problems and the eval stream: identical step-0 evaluations', () => {
    const e0 = [...runs.values()].map((r) => r.evals[0]!);
    for (const e of e0) {
      expect(e.step).toBe(0);
      expect(e.eval.perProblem).toEqual(e0[0]!.eval.perProblem);
      expect(e.eval.perProblemK).toEqual(e0[0]!.eval.perProblemK);
      expect(e.eval.problems).toBe(C.evalProblems);
    }
    const opts = C.arms.map(() => armOptions(C, deps, 0));
    for (const o of opts) {
      expect(o.eval).toEqual(opts[0]!.eval);
      expect(o.seed).toBe(opts[0]!.seed);
      expect(o.profile).toEqual(opts[0]!.profile);
    }
  });

  it('spend the same step budget; uniform trains on all B groups, filter on in-zone ones, the market on its sealed window', () => {
    for (const r of runs.values()) expect(r.steps).toHaveLength(C.steps);
    const u = runs.get('uniform')!.steps[0]!;
    expect(u.trainedGroups).toBe(C.groups);
    expect(u.generatedGroups).toBe(C.groups);
    const f = runs.get('filter')!.steps[0]!;
    expect(f.trainedGroups).toBeLessThanOrEqual(C.groups);
    expect(f.generatedGroups).toBeGreaterThanOrEqual(C.groups);
    const m = runs.get('market')!.steps[0]!;
    expect(m.note).toMatch(/^(filled|deadline)/);
    expect(m.trainedGroups).toBeLessThanOrEqual(C.groups);
    if (m.note.startsWith('filled')) expect(m.trainedGroups).toBe(C.groups);
  });

  it('summarises and reports (table, plots specs)', () => {
    const all = [...runs.values()];
    const s = summarize(C, all, all[0]!.evals[0]!.eval);
    expect(s.arms.map((a) => a.arm)).toEqual(C.arms);
    expect(s.differences.map((d) => `${d.a}-${d.b}`)).toEqual(['market-uniform', 'filter-uniform', 'market-filter']);
    const result = { config: C, profile: { id: 'x', learningRate: 3e-4, rollouts: 16, maxNewTokens: 32, sigmaFloor: 0.24 }, evalIndices: [], runs: all, summary: s, wallSeconds: 1 };
    expect(renderMarkdown(result)).toContain('| market |');
    expect((curveSpec(result, 'rollouts')['data'] as { values: unknown[] }).values.length).toBe(3 * 2);
    // The seeds' targets: the filter ÷ market ratio of generated rollouts per trained group, from the runs themselves.
    const per = (arm: ArmName) => { const st = runs.get(arm)!.steps; return st[st.length - 1]!.rollouts / st.reduce((a, x) => a + x.trainedGroups, 0); };
    const t = targetsTable(result);
    expect(t).toContain(`${per('filter').toFixed(1)} ÷ ${per('market').toFixed(1)} = ${(per('filter') / per('market')).toFixed(3)}`);
    expect(t).toMatch(/market steps to the uniform arm's final pass@1 ÷ uniform's \| ≤ 0\.50 \|/);
    expect(renderMarkdown(result)).toContain("## The seeds' targets");
  });
});
