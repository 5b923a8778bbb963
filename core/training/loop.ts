/**
 * A small offline GRPO loop (issue 6, deliverable 6): the market's job done by one process on one environment, to
 * train the embedded model on its task and to show that the step of trainer.ts learns.
 *
 *   per step s
 *     randomness  = sha256("reliquary/train-loop|" ‖ seed ‖ "|" ‖ s), hex   (a fresh forced-seed stream per step)
 *     pick        prompts from the training split (uniform, or the frontier heuristic below), `groups` at a time
 *     generate    M rollouts each with the forced-seed sampler of the current policy (core/model/generate.ts)
 *     grade       env.computeReward of each completion (the market's grading text: the final EOS text kept)
 *     zone        keep a group when its population σ passes the σ floor of the profile (core/market/zone.ts);
 *                 keep drawing until `groups` groups are in zone or `maxCandidates` prompts have been tried
 *     step        trainStep on the kept groups, π_old = the sampler's own log-probs (the generating policy)
 *     publish     every `publishEverySteps` applied steps (markPublished)
 *   every K steps (and before the first): held-out pass@1 = sample 0 of each eval problem under a fixed stream
 *
 * Frontier heuristic (`pick: 'frontier'`, needs `env.level`): a level is drawn with weight σ̂ = √(p̂(1−p̂)) + 0.05,
 * p̂ the last observed mean reward of the level (0.5 before any), then an index uniformly in its band. Levels that are
 * always right or always wrong fade, the ones in zone dominate; the 0.05 keeps every level explored.
 *
 * Runtime-agnostic: no clock is read (the caller injects `now`), nothing is printed (records go to callbacks).
 *
 * @example
 *   const trainer = createTrainer(be, ckpt, DEVNET);
 *   await runTrainLoop(trainer, { env: envArith(), tokenizer: DEVNET_CHAR_TOKENIZER, steps: 20,
 *     onStep: (r) => log(formatStepRecord(r.record)), onEval: (e) => log(`pass@1 ${e.passAt1}`) });
 */
import type { Environment } from '../interfaces/environment.ts';
import { meanStd, passesSigmaGate, sigmaFloor } from '../market/zone.ts';
import { Qwen3Model } from '../model/forward.ts';
import { generateRollouts, type Rollout } from '../model/generate.ts';
import { hex, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { markPublished, trainStep, type StepRecord, type StepRollout, type Trainer } from './trainer.ts';
import { mulberry32 } from '../model/rng.ts';

/** The environment the loop trains on: a training split, a held-out split, optionally a level per index. */
export interface LoopEnvironment extends Environment {
  readonly heldOut: Environment;
  level?(i: number): number;
}

export interface TrainLoopOptions {
  readonly env: LoopEnvironment;
  readonly tokenizer: Tokenizer;
  /** Optimizer steps to attempt. */
  readonly steps: number;
  /** In-zone groups wanted per step (default: the profile's `batchGroups` of the environment, else 4). */
  readonly groups?: number;
  /** Prompts tried per step at most (default 4 × groups). */
  readonly maxCandidates?: number;
  /** Rollouts per group (default the profile's M). */
  readonly rollouts?: number;
  /** Completion cap (default the profile's `maxNewTokens` of the environment, else 32). */
  readonly maxNewTokens?: number;
  /** How training prompts are drawn (default 'frontier' when the environment has levels, else 'uniform'). */
  readonly pick?: 'uniform' | 'frontier';
  /** Restrict the training prompts to these indices (default the whole training split). */
  readonly pool?: readonly number[];
  /** Seed of the per-step randomness and of the prompt draws. */
  readonly seed?: string;
  /** Held-out pass@1 every K steps, and before the first and after the last (0: never; default 10). */
  readonly evalEvery?: number;
  /** Held-out problems in an eval, spread evenly over the split (default 90). */
  readonly evalProblems?: number;
  /** Exactly these held-out indices instead (overrides `evalProblems`). */
  readonly evalIndices?: readonly number[];
  /** Randomness of the fixed eval stream (hex). */
  readonly evalRandomness?: string;
  /** A monotonic clock in ms (default: none, tokens/s reported as NaN). */
  readonly now?: () => number;
  readonly onStep?: (r: LoopStepRecord) => void;
  readonly onEval?: (e: EvalRecord) => void;
  /** Called as prompts are generated within a step (candidates done / the step's cap). */
  readonly onProgress?: (p: { step: number; candidates: number; maxCandidates: number; inZone: number }) => void;
}

/** What one loop step did: the trainer's record plus the generation side. */
export interface LoopStepRecord {
  /** loop step index (0-based; the trainer's `record.step` is the scheduler position) */
  readonly step: number;
  readonly record: StepRecord;
  /** prompts generated this step and how many of their groups passed the σ floor */
  readonly candidates: number;
  readonly inZone: number;
  /** mean reward over every generated rollout / over the in-zone groups only */
  readonly meanReward: number;
  readonly inZoneMeanReward: number;
  /** completion tokens sampled */
  readonly generatedTokens: number;
  /** wall time of generation and of the trainer step (NaN without `now`) */
  readonly generateMs: number;
  readonly stepMs: number;
  /** trained tokens per second of the trainer step */
  readonly tokensPerSecond: number;
}

/** Held-out pass@1 after `step` loop steps. */
export interface EvalRecord {
  readonly step: number;
  readonly problems: number;
  readonly correct: number;
  readonly passAt1: number;
}

export interface TrainLoopResult {
  readonly steps: LoopStepRecord[];
  readonly evals: EvalRecord[];
}

export const TRAIN_LOOP_DEFAULTS = Object.freeze({
  seed: 'reliquary-train',
  evalEvery: 10,
  evalProblems: 90,
  evalRandomness: '5e'.repeat(32),
});

/** The forced-seed randomness of loop step `step` (hex, 64 chars). */
export function stepRandomness(seed: string, step: number): string {
  return hex(sha256(utf8(`reliquary/train-loop|${seed}|${step}`)));
}

/** mulberry32 seeded from a string: the prompt draws. */
function seededRandom(seed: string): () => number {
  const h = sha256(utf8(`reliquary/train-loop/draw|${seed}`));
  return mulberry32(((h[0]! << 24) | (h[1]! << 16) | (h[2]! << 8) | h[3]!) >>> 0);
}

/**
 * The completion text a grader sees: the same text the market grades (`gradingText` of core/miner/submission.ts,
 * training.md §2: `decode(completion, skip_special_tokens=False)`, the final EOS text kept), so a reward in the
 * offline loop is the reward the miner claims and the validator recomputes; environments strip one trailing EOS text
 * themselves (env-arith's `arithAnswerText`).
 */
export function completionText(r: Rollout, tok: Tokenizer): string {
  return tok.decode(Array.from(r.tokens.subarray(r.promptLength)));
}

/** A prompt picker: uniform over the pool, or by level with weight √(p̂(1−p̂)) + 0.05 (see the header). */
export function promptPicker(env: LoopEnvironment, pick: 'uniform' | 'frontier', pool: readonly number[] | null, rand: () => number) {
  const indices = pool ?? null;
  const size = indices?.length ?? env.size;
  const at = (k: number): number => (indices ? indices[k]! : k);
  const uniform = (): number => at(Math.floor(rand() * size));
  if (pick === 'uniform' || !env.level) return { next: uniform, observe: (_i: number, _mean: number) => {} };
  const level = env.level.bind(env);
  const bands = new Map<number, number[]>();
  for (let k = 0; k < size; k++) {
    const l = level(at(k));
    const band = bands.get(l) ?? [];
    band.push(at(k));
    bands.set(l, band);
  }
  const levels = [...bands.keys()].sort((a, b) => a - b);
  const pHat = new Map(levels.map((l) => [l, 0.5]));
  return {
    next(): number {
      const w = levels.map((l) => Math.sqrt(pHat.get(l)! * (1 - pHat.get(l)!)) + 0.05);
      let x = rand() * w.reduce((a, b) => a + b, 0);
      let l = levels[levels.length - 1]!;
      for (let j = 0; j < levels.length; j++) if ((x -= w[j]!) < 0) { l = levels[j]!; break; }
      const band = bands.get(l)!;
      return band[Math.floor(rand() * band.length)]!;
    },
    observe(i: number, mean: number): void {
      pHat.set(level(i), mean);
    },
  };
}

/** Evenly spread indices of a split: ⌊k·size/n⌋ for k < n (every level band of env-arith is covered). */
export function spreadIndices(size: number, n: number): number[] {
  const m = Math.min(n, size);
  return Array.from({ length: m }, (_, k) => Math.floor((k * size) / m));
}

export interface EvalOptions {
  readonly env: Environment;
  readonly tokenizer: Tokenizer;
  readonly profile: Trainer['profile'];
  readonly indices: readonly number[];
  readonly randomness: string;
  readonly maxNewTokens: number;
}

/** pass@1 of `model` on `indices` of `env`: rollout 0 of each problem under the fixed stream (randomness, i, ""). */
export async function passAtOneOf(model: Qwen3Model, o: EvalOptions): Promise<{ problems: number; correct: number; passAt1: number }> {
  let correct = 0;
  for (const i of o.indices) {
    const problem = o.env.getProblem(i);
    const [r] = await generateRollouts(model, {
      prompt: o.tokenizer.encode(problem.prompt), profile: o.profile, rollouts: 1, maxNewTokens: o.maxNewTokens,
      eosTokenIds: o.tokenizer.eosTokenIds, stream: { randomness: o.randomness, promptIdx: i, checkpointHash: '' },
    });
    correct += o.env.computeReward(problem, completionText(r!, o.tokenizer));
  }
  const n = o.indices.length;
  return { problems: n, correct, passAt1: n > 0 ? correct / n : NaN };
}

/** One graded group: the rollouts as the trainer takes them, their rewards and completion tokens. */
export interface GradedGroup {
  readonly index: number;
  readonly rollouts: StepRollout[];
  readonly rewards: number[];
  readonly tokens: number;
}

/** Generates and grades the group of training prompt `index` under `randomness` (π_old = the sampler's log-probs). */
export async function gradedGroup(
  model: Qwen3Model, env: Environment, tok: Tokenizer, profile: Trainer['profile'], index: number, randomness: string,
  rollouts: number, maxNewTokens: number,
): Promise<GradedGroup> {
  const problem = env.getProblem(index);
  const out = await generateRollouts(model, {
    prompt: tok.encode(problem.prompt), profile, rollouts, maxNewTokens, eosTokenIds: tok.eosTokenIds,
    stream: { randomness, promptIdx: index, checkpointHash: '' },
  });
  const rewards = out.map((r) => env.computeReward(problem, completionText(r, tok)));
  return {
    index,
    rewards,
    tokens: out.reduce((a, r) => a + r.completionLength, 0),
    rollouts: out.map((r, m) => ({ tokens: r.tokens, promptLen: r.promptLength, reward: rewards[m]!, logpOld: r.logprobs })),
  };
}

/** Runs the loop on `trainer` (see the file header); resolves to every step and eval record. */
export async function runTrainLoop(trainer: Trainer, o: TrainLoopOptions): Promise<TrainLoopResult> {
  const { profile, be, cfg } = trainer;
  const envProfile = profile.environments[o.env.name];
  const groups = o.groups ?? envProfile?.batchGroups ?? 4;
  const maxCandidates = o.maxCandidates ?? 4 * groups;
  const M = o.rollouts ?? profile.sampling.rollouts;
  const maxNew = o.maxNewTokens ?? envProfile?.maxNewTokens ?? 32;
  const seed = o.seed ?? TRAIN_LOOP_DEFAULTS.seed;
  const evalEvery = o.evalEvery ?? TRAIN_LOOP_DEFAULTS.evalEvery;
  const now = o.now ?? (() => NaN);
  const picker = promptPicker(o.env, o.pick ?? (o.env.level ? 'frontier' : 'uniform'), o.pool ?? null, seededRandom(seed));
  const evalOpts: EvalOptions = {
    env: o.env.heldOut, tokenizer: o.tokenizer, profile, maxNewTokens: maxNew,
    indices: o.evalIndices ?? spreadIndices(o.env.heldOut.size, o.evalProblems ?? TRAIN_LOOP_DEFAULTS.evalProblems),
    randomness: o.evalRandomness ?? TRAIN_LOOP_DEFAULTS.evalRandomness,
  };
  const result: TrainLoopResult = { steps: [], evals: [] };
  const evaluate = async (step: number): Promise<void> => {
    const e = { step, ...(await passAtOneOf(new Qwen3Model(be, cfg, trainer.weights), evalOpts)) };
    result.evals.push(e);
    o.onEval?.(e);
  };
  if (evalEvery > 0) await evaluate(0);
  let applied = 0;
  for (let s = 0; s < o.steps; s++) {
    const floor = sigmaFloor(profile, trainer.state.scheduleStep);
    const randomness = stepRandomness(seed, s);
    const model = new Qwen3Model(be, cfg, trainer.weights);
    const t0 = now();
    const kept: GradedGroup[] = [];
    let candidates = 0, rewardSum = 0, rolloutCount = 0, generatedTokens = 0;
    const seen = new Set<number>();
    while (kept.length < groups && candidates < maxCandidates) {
      const index = picker.next();
      candidates++;
      if (seen.has(index)) continue; // one group per prompt and step (the market's quota)
      seen.add(index);
      const g = await gradedGroup(model, o.env, o.tokenizer, profile, index, randomness, M, maxNew);
      const { mean, std } = meanStd(g.rewards);
      picker.observe(index, mean);
      rewardSum += mean * g.rewards.length;
      rolloutCount += g.rewards.length;
      generatedTokens += g.tokens;
      if (passesSigmaGate(std, floor, profile.zone.sigmaEpsilon)) kept.push(g);
      o.onProgress?.({ step: s, candidates, maxCandidates, inZone: kept.length });
    }
    const t1 = now();
    const record = await trainStep(trainer, [{
      name: o.env.name, maxNewTokens: maxNew, groups: kept.map((g) => g.rollouts),
    }]);
    const t2 = now();
    if (record.applied && ++applied % Math.max(1, profile.grpo.publishEverySteps) === 0) markPublished(trainer);
    const inZoneRewards = kept.flatMap((g) => g.rewards);
    const rec: LoopStepRecord = {
      step: s, record, candidates, inZone: kept.length,
      meanReward: rolloutCount ? rewardSum / rolloutCount : 0,
      inZoneMeanReward: inZoneRewards.length ? inZoneRewards.reduce((a, b) => a + b, 0) / inZoneRewards.length : NaN,
      generatedTokens, generateMs: t1 - t0, stepMs: t2 - t1, tokensPerSecond: (1000 * record.tokens) / (t2 - t1),
    };
    result.steps.push(rec);
    o.onStep?.(rec);
    if (evalEvery > 0 && ((s + 1) % evalEvery === 0 || s + 1 === o.steps)) await evaluate(s + 1);
  }
  return result;
}
