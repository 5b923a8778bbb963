/**
 * Held-out evaluation of one checkpoint (issue 13): k forced-seed samples per problem under a fixed stream
 * (randomness, problem index, checkpoint hash ""), so two checkpoints evaluated with the same options see the same
 * seeds problem by problem (paired). Per problem: pass@1 = c/k (the unbiased estimate from k samples; sample 0
 * alone is the loop's pass@1 and has k times the variance) and pass@k = [c ≥ 1].
 *
 * @example
 *   const e = await evaluateHeldOut(model, { env: arith.heldOut, tokenizer, profile, indices, randomness, k: 4, maxNewTokens: 32 });
 *   e.passAt1; e.perProblem[17];
 */
import type { Environment } from '../interfaces/environment.ts';
import type { Qwen3Model } from '../model/forward.ts';
import { generateRollouts } from '../model/generate.ts';
import type { Profile } from '../profile/index.ts';
import type { Tokenizer } from '../tokenizer/types.ts';
import { completionText } from '../training/loop.ts';

export interface HeldOutOptions {
  readonly env: Environment;
  readonly tokenizer: Tokenizer;
  readonly profile: Profile;
  /** Held-out problem indices (the same list for every arm). */
  readonly indices: readonly number[];
  /** The fixed eval stream (64 hex). */
  readonly randomness: string;
  /** Samples per problem (≥ 1). */
  readonly k: number;
  readonly maxNewTokens: number;
  /** Called after each problem (done, total). */
  readonly onProgress?: (done: number, total: number) => void;
}

/** One checkpoint's held-out scores. */
export interface HeldOutEval {
  readonly problems: number;
  readonly k: number;
  readonly passAt1: number;
  readonly passAtK: number;
  /** Share of eval samples cut at the token cap. */
  readonly truncation: number;
  /** c/k per problem, in `indices` order. */
  readonly perProblem: number[];
  /** [c ≥ 1] per problem. */
  readonly perProblemK: number[];
}

/** Evaluates `model` on the held-out problems (see the header). */
export async function evaluateHeldOut(model: Qwen3Model, o: HeldOutOptions): Promise<HeldOutEval> {
  if (!(Number.isSafeInteger(o.k) && o.k >= 1)) throw new RangeError(`k must be an integer ≥ 1, got ${o.k}`);
  const perProblem: number[] = [];
  const perProblemK: number[] = [];
  let truncated = 0;
  for (const [n, i] of o.indices.entries()) {
    const problem = o.env.getProblem(i);
    const out = await generateRollouts(model, {
      prompt: o.tokenizer.encode(problem.prompt), profile: o.profile, rollouts: o.k, maxNewTokens: o.maxNewTokens,
      eosTokenIds: o.tokenizer.eosTokenIds, stream: { randomness: o.randomness, promptIdx: i, checkpointHash: '' },
    });
    let c = 0;
    for (const r of out) {
      c += o.env.computeReward(problem, completionText(r, o.tokenizer)) > 0.5 ? 1 : 0;
      if (r.truncated) truncated++;
    }
    perProblem.push(c / o.k);
    perProblemK.push(c > 0 ? 1 : 0);
    o.onProgress?.(n + 1, o.indices.length);
  }
  const n = perProblem.length;
  const avg = (xs: number[]): number => (n ? xs.reduce((a, b) => a + b, 0) / n : NaN);
  return { problems: n, k: o.k, passAt1: avg(perProblem), passAtK: avg(perProblemK), truncation: n ? truncated / (n * o.k) : NaN, perProblem, perProblemK };
}
