/**
 * `runExperiment` (issue 13): the seeds' experiment, reproducible. Three arms — `uniform` (vanilla GRPO),
 * `filter` (DAPO dynamic sampling), `market` (K miners in fill-closed windows) — each R times (seeds), every run
 * from the same initial checkpoint with the same profile and hyperparameters, the same held-out problems and eval
 * stream, and the same step budget S; then the summary: final pass@1 per arm, paired-bootstrap intervals of every
 * difference and of each arm's gain over the initial checkpoint, steps and generated rollouts to reach the uniform
 * arm's final pass@1, and the curves (mean over seeds with a 95 % band) the report plots.
 *
 * Runtime-agnostic: the backend, checkpoint, environment, tokenizer, clock and the market's selectors are injected.
 *
 * @example
 *   const result = await runExperiment(QUICK_EXPERIMENT, { be, ckpt, env: envArith(), tokenizer, now, selector });
 *   renderMarkdown(result);
 */
import type { ComputeBackend } from '../compute/backend.ts';
import type { Checkpoint } from '../model/checkpoint.ts';
import { Qwen3Model } from '../model/forward.ts';
import { DEVNET, type Profile } from '../profile/index.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { spreadIndices, type LoopEnvironment } from '../training/loop.ts';
import { createTrainer, disposeTrainer } from '../training/trainer.ts';
import { ARMS, heldOutOptions, runArm, type ArmName, type ArmOptions, type ArmProgress, type ArmRun } from './arm.ts';
import { evaluateHeldOut, type HeldOutEval } from './eval.ts';
import { marketGatherer, type MarketArmDeps } from './market-arm.ts';
import { filterGatherer, uniformGatherer } from './offline-arms.ts';
import { firstReach, matrixMean, pairedBootstrap, pairedDiff, type Interval } from './stats.ts';

export interface ExperimentConfig {
  /** Step budget S. */
  readonly steps: number;
  /** Seeds R. */
  readonly seeds: number;
  /** Groups per step B (= the market's window size N). */
  readonly groups: number;
  /** Competing miners K (market arm). */
  readonly miners: number;
  readonly evalProblems: number;
  /** Samples per held-out problem (pass@k's k; pass@1 is c/k). */
  readonly evalK: number;
  readonly evalEvery: number;
  /** Learning rate (null: the profile's). */
  readonly learningRate: number | null;
  readonly arms: readonly ArmName[];
  /** Bootstrap replicates. */
  readonly bootstrap: number;
}

/** `--quick`: a smoke run (≤ 5 min on 2 cores): fields and plots, a few steps. */
export const QUICK_EXPERIMENT: ExperimentConfig = Object.freeze({
  steps: 6, seeds: 3, groups: 4, miners: 3, evalProblems: 500, evalK: 2, evalEvery: 6, learningRate: null, arms: ARMS, bootstrap: 1000,
});

/**
 * The default run (≤ 30 min on 2 cores), on the run-on base model (models/tiny-arith-base, TINY_ARITH_BASE_RECIPE in
 * core/model/tiny.ts) at the devnet's lr 3e-4, B = 8, M = 16. Measured while choosing it (one seed, 500 × 4 held-out):
 * the uniform arm went 0.202 → 0.342 in 20 steps (+14.1 pp [+12.0, +16.4]); at lr 1e-3 it fell to 0.155; on the
 * devnet model (models/tiny-arith) 150 uniform steps of B = 32 at 3e-4 moved it +0.1 pp [−0.8, +1.1], so that model
 * cannot show learning in any budget this command can afford.
 */
export const DEFAULT_EXPERIMENT: ExperimentConfig = Object.freeze({
  steps: 30, seeds: 3, groups: 8, miners: 3, evalProblems: 500, evalK: 4, evalEvery: 5, learningRate: null, arms: ARMS, bootstrap: 2000,
});

/** The profile every arm runs: DEVNET, fill-closed windows of B groups, quotas that let K miners fill them. */
export function experimentProfile(c: Pick<ExperimentConfig, 'groups' | 'miners' | 'learningRate'>, base: Profile = DEVNET): Profile {
  const B = c.groups;
  const room = Math.max(32, 4 * B * c.miners);
  return {
    ...base,
    window: { ...base.window, close: 'fill' },
    environments: { ...base.environments, arith: { ...base.environments['arith']!, batchGroups: B } },
    environmentMix: [['arith', B]],
    auction: { ...base.auction, winnersPerEnv: B },
    quotas: { ...base.quotas, precommitsPerHotkey: Math.max(8, 4 * B), receiptsPerEnv: room, gradingsPerEnv: room, queuePerEnv: room },
    grpo: { ...base.grpo, ...(c.learningRate !== null ? { learningRate: c.learningRate } : {}) },
  };
}

export interface ExperimentDeps {
  readonly be: ComputeBackend;
  readonly ckpt: Checkpoint;
  readonly env: LoopEnvironment;
  readonly tokenizer: Tokenizer;
  readonly now: () => number;
  readonly selector: MarketArmDeps['selector'];
  readonly onProgress?: (p: ArmProgress & { readonly arm: ArmName | 'initial'; readonly seed: number; readonly run: number; readonly runs: number }) => void;
  readonly onRun?: (run: ArmRun) => void;
}

export interface CurvePoint {
  readonly step: number;
  readonly rollouts: number;
  readonly passAt1: Interval;
  readonly passAtK: number;
  readonly truncation: number;
}

export interface ArmSummary {
  readonly arm: ArmName;
  readonly finalPassAt1: Interval;
  readonly finalPassAtK: number;
  /** Final − initial, paired by (seed, problem). */
  readonly gain: Interval;
  readonly rollouts: number;
  readonly tokens: number;
  readonly wallSeconds: number;
  readonly inZoneHitRate: number;
  readonly truncation: number;
  /** First eval step whose mean pass@1 reaches the uniform arm's final (null: never within S). */
  readonly stepsToUniformFinal: number | null;
  readonly rolloutsToUniformFinal: number | null;
  readonly curve: CurvePoint[];
}

export interface ExperimentSummary {
  readonly initial: { readonly passAt1: number; readonly passAtK: number; readonly problems: number };
  readonly arms: ArmSummary[];
  readonly differences: { readonly a: ArmName; readonly b: ArmName; readonly diff: Interval }[];
  readonly uniformFinal: number;
}

export interface ExperimentResult {
  readonly config: ExperimentConfig;
  readonly profile: { readonly id: string; readonly learningRate: number; readonly rollouts: number; readonly maxNewTokens: number; readonly sigmaFloor: number };
  readonly evalIndices: readonly number[];
  readonly runs: ArmRun[];
  readonly summary: ExperimentSummary;
  readonly wallSeconds: number;
}

/** The options of arm run (arm, seed r): identical for every arm. */
export function armOptions(c: ExperimentConfig, d: Pick<ExperimentDeps, 'env' | 'tokenizer' | 'now'>, r: number, initialEval?: HeldOutEval): ArmOptions {
  const profile = experimentProfile(c);
  return {
    profile, env: d.env, tokenizer: d.tokenizer, steps: c.steps, groups: c.groups, rollouts: profile.sampling.rollouts,
    maxNewTokens: profile.environments['arith']?.maxNewTokens ?? 32, seed: `seed-${r}`, evalEvery: c.evalEvery, miners: c.miners, now: d.now,
    eval: { env: d.env.heldOut, indices: spreadIndices(d.env.heldOut.size, c.evalProblems), randomness: 'e7'.repeat(32), k: c.evalK },
    ...(initialEval ? { initialEval } : {}),
  };
}

/** Runs every arm × seed (see the header). */
export async function runExperiment(c: ExperimentConfig, d: ExperimentDeps): Promise<ExperimentResult> {
  const t0 = d.now();
  const runs: ArmRun[] = [];
  const total = c.arms.length * c.seeds;
  // Step 0 is the same checkpoint under the same stream for every arm and seed: evaluated once.
  const base = armOptions(c, d, 0);
  const first = createTrainer(d.be, d.ckpt, base.profile);
  const initial = await evaluateHeldOut(new Qwen3Model(first.be, first.cfg, first.weights), {
    ...heldOutOptions(base), onProgress: (n, of) => { if (n % 50 === 0) d.onProgress?.({ arm: 'initial', seed: 0, run: 0, runs: total, step: 0, steps: c.steps, phase: 'eval', detail: `eval ${n}/${of}` }); },
  });
  disposeTrainer(first);
  let k = 0;
  for (let r = 0; r < c.seeds; r++) {
    for (const arm of c.arms) {
      k++;
      const o: ArmOptions = { ...armOptions(c, d, r, initial), onProgress: (p) => d.onProgress?.({ ...p, arm, seed: r, run: k, runs: total }) };
      const trainer = createTrainer(d.be, d.ckpt, o.profile);
      try {
        const gather = arm === 'uniform' ? uniformGatherer(o) : arm === 'filter' ? filterGatherer(o) : marketGatherer(o, { selector: d.selector });
        const run = await runArm(arm, o, trainer, gather);
        runs.push(run);
        d.onRun?.(run);
      } finally {
        disposeTrainer(trainer);
      }
    }
  }
  const profile = base.profile;
  return {
    config: c,
    profile: { id: profile.id, learningRate: profile.grpo.learningRate, rollouts: base.rollouts, maxNewTokens: base.maxNewTokens, sigmaFloor: profile.zone.sigmaMin },
    evalIndices: base.eval.indices,
    runs,
    summary: summarize(c, runs, initial),
    wallSeconds: (d.now() - t0) / 1000,
  };
}

const avg = (xs: readonly number[]): number => (xs.length ? xs.reduce((a, b) => a + b, 0) / xs.length : NaN);

/** The summary of finished runs (see the header); pure. */
export function summarize(c: Pick<ExperimentConfig, 'bootstrap' | 'arms'>, runs: readonly ArmRun[], initial: HeldOutEval): ExperimentSummary {
  const byArm = new Map<ArmName, ArmRun[]>();
  for (const r of runs) byArm.set(r.arm, [...(byArm.get(r.arm) ?? []), r]);
  const finalMatrix = (arm: ArmName): number[][] => (byArm.get(arm) ?? []).map((r) => r.evals[r.evals.length - 1]!.eval.perProblem);
  const opts = (tag: string) => ({ iterations: c.bootstrap, seed: tag });
  const uniformFinal = byArm.has('uniform') ? matrixMean(finalMatrix('uniform')) : NaN;
  const arms: ArmSummary[] = c.arms.filter((a) => byArm.has(a)).map((arm) => {
    const rs = byArm.get(arm)!;
    const steps = [...new Set(rs.flatMap((r) => r.evals.map((e) => e.step)))].sort((a, b) => a - b);
    const curve: CurvePoint[] = steps.map((step) => {
      const at = rs.map((r) => r.evals.find((e) => e.step === step)).filter((e) => e !== undefined);
      return {
        step,
        rollouts: avg(at.map((e) => e.rollouts)),
        passAt1: pairedBootstrap(at.map((e) => e.eval.perProblem), opts(`${arm}|curve|${step}`)),
        passAtK: avg(at.map((e) => e.eval.passAtK)),
        truncation: avg(at.map((e) => e.eval.truncation)),
      };
    });
    const fin = finalMatrix(arm);
    const last = rs.map((r) => r.steps[r.steps.length - 1]).filter((s) => s !== undefined);
    const allSteps = rs.flatMap((r) => r.steps);
    const reach = firstReach(curve.map((p) => ({ x: p.step, y: p.passAt1.mean })), uniformFinal);
    return {
      arm,
      finalPassAt1: pairedBootstrap(fin, opts(`${arm}|final`)),
      finalPassAtK: avg(rs.map((r) => r.evals[r.evals.length - 1]!.eval.passAtK)),
      gain: pairedBootstrap(pairedDiff(fin, fin.map(() => initial.perProblem)), opts(`${arm}|gain`)),
      rollouts: avg(last.map((s) => s.rollouts)),
      tokens: avg(last.map((s) => s.tokens)),
      wallSeconds: avg(last.map((s) => s.wallMs / 1000)),
      inZoneHitRate: avg(allSteps.map((s) => s.inZoneHitRate).filter(Number.isFinite)),
      truncation: avg(allSteps.map((s) => s.truncation).filter(Number.isFinite)),
      stepsToUniformFinal: reach,
      rolloutsToUniformFinal: reach === null ? null : curve.find((p) => p.step === reach)!.rollouts,
      curve,
    };
  });
  const pairs: [ArmName, ArmName][] = [['market', 'uniform'], ['filter', 'uniform'], ['market', 'filter']];
  const differences = pairs
    .filter(([a, b]) => byArm.has(a) && byArm.has(b) && byArm.get(a)!.length === byArm.get(b)!.length)
    .map(([a, b]) => ({ a, b, diff: pairedBootstrap(pairedDiff(finalMatrix(a), finalMatrix(b)), opts(`${a}-${b}`)) }));
  return { initial: { passAt1: initial.passAt1, passAtK: initial.passAtK, problems: initial.problems }, arms, differences, uniformFinal };
}
