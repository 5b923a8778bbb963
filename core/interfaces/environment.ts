/**
 * Environment: a numbered set of problems and the reward of a completion (spec/training.md §3.1).
 *
 * `getProblem(i)` is deterministic and wraps `i` modulo `size`, so a prompt index from the wire always names a
 * problem; `computeReward` scores a completion in [0, 1] and never throws (a grader fault scores 0). The validator
 * recomputes every reward with the same environment the miner used, so both must be pure functions of their
 * inputs. Implementations are plugins (`plugins/env-arith`, `plugins/env-math`, …); this file imports nothing
 * from a host.
 *
 * An environment describes itself (`spec`: token budget, reward lattice, mix weight, truncation allowance, answer
 * format; `heldOut`: its held-out split; optionally `promptBucket`/`difficultyHint` for selectors), so a validator
 * derives the window's environment set from the registered plugins (core/plugins/environment-set.ts) and a builder
 * adds one without touching core or the profile.
 *
 * @example
 *   const p = env.getProblem(promptIdx);          // same problem for promptIdx and promptIdx + env.size
 *   const r = safeReward(env, p, completionText); // always a number in [0, 1]
 */

/** One problem: the exact prompt text, the reference answer and a stable id (e.g. a content hash). */
export interface Problem {
  readonly prompt: string;
  readonly groundTruth: string;
  readonly id: string;
}

/** A reward function: completion text of one rollout → a score in [0, 1]. Never throws. */
export type RewardFn = (problem: Problem, completionText: string) => number;

/** What an environment declares about itself: its entry of the effective profile and its share of the mix. */
export interface EnvironmentSpec {
  /** Generation cap per rollout (tokens). */
  readonly maxNewTokens: number;
  /** Reward lattice of uncertain rollouts: `binary` {0, 1} or `fraction` {i/T}. */
  readonly rewardKind: 'binary' | 'fraction';
  /** Groups of this environment per balanced training step (its weight in the environment mix). */
  readonly mixWeight: number;
  /** Rollouts of a group allowed to hit `maxNewTokens` without an EOS. */
  readonly maxTruncatedPerGroup: number;
  /** `boxed` (the boxed-answer proof check applies) or null (free-form). */
  readonly answerFormat: 'boxed' | null;
  /** Grading budget of one group (seconds; default 5). */
  readonly workerTimeoutSeconds?: number;
}

/** A task: `size` problems addressed by index, and their reward. */
export interface Environment {
  /** Wire name (`environment` of a submission), e.g. `arith`. */
  readonly name: string;
  /** Number of distinct problems (consensus-critical: indices wrap modulo it). */
  readonly size: number;
  /** Problem `i mod size` (i ≥ 0 integer); deterministic. */
  getProblem(i: number): Problem;
  /** Reward of one completion in [0, 1]; never throws. */
  computeReward(problem: Problem, completionText: string): number;
  /**
   * The reward where grading cannot be synchronous (code: the program runs in a sandbox off the caller's
   * thread). When present, callers that can await should prefer it; `computeReward` then answers from what this
   * already graded (see plugins/env-code). Resolves in [0, 1]; rejects only on a grader outage.
   */
  computeRewardAsync?(problem: Problem, completionText: string): Promise<number>;
  /** Admission reward cases, where the environment grades against several cases (code). */
  rewardCases?(problem: Problem): readonly unknown[];
  /** The answer format the grader expects: `boxed` (math), or null when free-form. */
  readonly answerFormat?: 'boxed' | null;
  /** Self-description (see the module comment); without it the profile must already have an entry for `name`. */
  readonly spec?: EnvironmentSpec;
  /** The held-out split (never offered to miners): the validator's pass@1 eval. */
  readonly heldOut?: Environment;
  /** Selector hint: the feature bucket of a problem (problems of one bucket share a learned prior). */
  promptBucket?(problem: Problem): string;
  /** Selector hint: a Beta(a, b) guess of a problem's pass rate from its features alone, or null. */
  difficultyHint?(problem: Problem): readonly [number, number] | null;
}

/**
 * `env.computeReward` with the contract enforced: a throw, NaN or a value outside [0, 1] becomes 0 (thrown or
 * not a number) or is clamped. Use it wherever a reward crosses a trust boundary (the validator's recompute).
 */
export function safeReward(env: Pick<Environment, 'computeReward'>, problem: Problem, completionText: string): number {
  let r: unknown;
  try {
    r = env.computeReward(problem, completionText);
  } catch {
    return 0;
  }
  if (typeof r !== 'number' || Number.isNaN(r)) return 0;
  return Math.min(1, Math.max(0, r));
}

/**
 * `safeReward` for an environment that may grade asynchronously: awaits `computeRewardAsync` when there is one,
 * with the same contract (a NaN or a non-number becomes 0, a value outside [0, 1] is clamped); a grader outage
 * (a rejection) propagates, because it is the validator's fault, not the completion's.
 */
export async function safeRewardAsync(env: Pick<Environment, 'computeReward' | 'computeRewardAsync'>, problem: Problem, completionText: string): Promise<number> {
  if (!env.computeRewardAsync) return safeReward(env, problem, completionText);
  const r: unknown = await env.computeRewardAsync(problem, completionText);
  if (typeof r !== 'number' || Number.isNaN(r)) return 0;
  return Math.min(1, Math.max(0, r));
}

/** Index of problem `i` in an environment of `size` problems: `i mod size` for any safe integer (negative too). */
export function wrapIndex(i: number, size: number): number {
  if (!Number.isSafeInteger(i)) throw new RangeError(`problem index ${i} is not a safe integer`);
  if (!Number.isSafeInteger(size) || size < 1) throw new RangeError(`environment size ${size} must be a positive integer`);
  return ((i % size) + size) % size;
}
