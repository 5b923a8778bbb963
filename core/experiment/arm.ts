/**
 * What every arm of the experiment shares (issue 13): the options of one run (arm × seed), the per-step and
 * per-eval records, and the bookkeeping loop around a step function — the step budget S, the held-out evals every
 * `evalEvery` steps (and at 0 and S), cumulative generated rollouts and tokens, in-zone hit rate, truncation and
 * wall time. The arms only differ in how one step gathers its groups (offline-arms.ts, market-arm.ts); the trainer
 * step (core/training/trainer.ts `trainStep`), the profile, the initial checkpoint and the eval are the same.
 *
 * @example
 *   const run = await runArm('uniform', opts, uniformStep(opts));
 */
import type { Tokenizer } from '../tokenizer/types.ts';
import type { LoopEnvironment } from '../training/loop.ts';
import { Qwen3Model } from '../model/forward.ts';
import type { Profile } from '../profile/index.ts';
import { markPublished, trainStep, type StepRollout, type Trainer } from '../training/trainer.ts';
import { evaluateHeldOut, type HeldOutEval, type HeldOutOptions } from './eval.ts';

export type ArmName = 'uniform' | 'filter' | 'market';
export const ARMS: readonly ArmName[] = ['uniform', 'filter', 'market'];

/** One run's options (the same for every arm but `arm`). */
export interface ArmOptions {
  readonly profile: Profile;
  readonly env: LoopEnvironment;
  readonly tokenizer: Tokenizer;
  /** Step budget S. */
  readonly steps: number;
  /** Groups per step B (the market's window size N). */
  readonly groups: number;
  /** Rollouts per group M. */
  readonly rollouts: number;
  readonly maxNewTokens: number;
  /** The training seed of this run (prompt draws, forced-seed streams, miners' keys). */
  readonly seed: string;
  /** Held-out eval every K steps (and at 0 and S). */
  readonly evalEvery: number;
  readonly eval: Omit<HeldOutOptions, 'onProgress' | 'profile' | 'tokenizer' | 'maxNewTokens'>;
  /** The filter arm's cap on prompts tried per step (default 16 × groups). */
  readonly maxCandidates?: number;
  /** Market: competing miners K. */
  readonly miners?: number;
  /** A monotonic clock, ms. */
  readonly now: () => number;
  /** The step-0 eval when already known (it is the same checkpoint and stream for every arm and seed). */
  readonly initialEval?: HeldOutEval;
  readonly onProgress?: (p: ArmProgress) => void;
}

export interface ArmProgress {
  readonly step: number;
  readonly steps: number;
  readonly phase: 'generate' | 'train' | 'eval';
  readonly detail: string;
}

/** One generated group, as a step gathers it. */
export interface GatheredGroup {
  readonly promptIdx: number;
  readonly rollouts: StepRollout[];
  readonly rewards: number[];
  readonly tokens: number;
  readonly truncated: number;
  readonly inZone: boolean;
}

/** What one step's gathering did: every group generated (compute), and the ones trained on. */
export interface Gathered {
  readonly generated: readonly GatheredGroup[];
  readonly trained: readonly GatheredGroup[];
  /** Market: how the window closed, and its pool. */
  readonly note?: string;
}

/** Gathers the groups of step `s` on the current weights. */
export type StepGatherer = (s: number, model: Qwen3Model, trainer: Trainer) => Promise<Gathered>;

export interface ArmStepRecord {
  /** Steps done (1-based). */
  readonly step: number;
  readonly applied: boolean;
  readonly trainedGroups: number;
  /** This step: generated groups, in-zone share of them, truncated share of their rollouts. */
  readonly generatedGroups: number;
  readonly inZoneHitRate: number;
  readonly truncation: number;
  /** Cumulative. */
  readonly rollouts: number;
  readonly tokens: number;
  readonly wallMs: number;
  readonly loss: number;
  readonly note: string;
}

export interface ArmEvalPoint {
  readonly step: number;
  readonly rollouts: number;
  readonly tokens: number;
  readonly wallMs: number;
  readonly eval: HeldOutEval;
}

export interface ArmRun {
  readonly arm: ArmName;
  readonly seed: string;
  readonly steps: ArmStepRecord[];
  readonly evals: ArmEvalPoint[];
}

/** The held-out options of a run. */
export function heldOutOptions(o: ArmOptions): HeldOutOptions {
  return { ...o.eval, profile: o.profile, tokenizer: o.tokenizer, maxNewTokens: o.maxNewTokens };
}

/** Runs S steps of one arm on `trainer` (fresh from the shared initial checkpoint); see the header. */
export async function runArm(arm: ArmName, o: ArmOptions, trainer: Trainer, gather: StepGatherer): Promise<ArmRun> {
  const run: ArmRun = { arm, seed: o.seed, steps: [], evals: [] };
  const t0 = o.now();
  let rollouts = 0;
  let tokens = 0;
  let evalMs = 0;
  const evaluate = async (step: number): Promise<void> => {
    const e0 = o.now();
    const e = step === 0 && o.initialEval ? o.initialEval : await evaluateHeldOut(new Qwen3Model(trainer.be, trainer.cfg, trainer.weights), {
      ...heldOutOptions(o), onProgress: (d, n) => { if (d % 50 === 0 || d === n) o.onProgress?.({ step, steps: o.steps, phase: 'eval', detail: `eval ${d}/${n}` }); },
    });
    evalMs += o.now() - e0;
    run.evals.push({ step, rollouts, tokens, wallMs: o.now() - t0 - evalMs, eval: e });
  };
  await evaluate(0);
  for (let s = 0; s < o.steps; s++) {
    o.onProgress?.({ step: s, steps: o.steps, phase: 'generate', detail: '' });
    const g = await gather(s, new Qwen3Model(trainer.be, trainer.cfg, trainer.weights), trainer);
    o.onProgress?.({ step: s, steps: o.steps, phase: 'train', detail: `${g.trained.length} groups` });
    const record = await trainStep(trainer, [{ name: o.env.name, maxNewTokens: o.maxNewTokens, groups: g.trained.map((x) => x.rollouts) }], { window: s });
    if (record.applied) markPublished(trainer);
    const gen = g.generated;
    const genRollouts = gen.reduce((a, x) => a + x.rollouts.length, 0);
    rollouts += genRollouts;
    tokens += gen.reduce((a, x) => a + x.tokens, 0);
    run.steps.push({
      step: s + 1, applied: record.applied, trainedGroups: g.trained.length, generatedGroups: gen.length,
      inZoneHitRate: gen.length ? gen.filter((x) => x.inZone).length / gen.length : NaN,
      truncation: genRollouts ? gen.reduce((a, x) => a + x.truncated, 0) / genRollouts : NaN,
      rollouts, tokens, wallMs: o.now() - t0 - evalMs, loss: record.loss, note: g.note ?? '',
    });
    if ((s + 1) % Math.max(1, o.evalEvery) === 0 || s + 1 === o.steps) await evaluate(s + 1);
  }
  return run;
}
