/**
 * The two offline arms of the experiment (issue 13), one process generating its own groups:
 *
 *   uniform  vanilla GRPO: B prompts drawn uniformly from the training split each step, one group each, and the
 *            step trains on all B groups (out-of-zone groups have zero advantage: compute spent, nothing learnt);
 *   filter   DAPO's dynamic sampling: draw uniformly, generate, keep the in-zone groups until B are found (or
 *            `maxCandidates` prompts were tried), train on the kept ones.
 *
 * Each step's forced-seed stream is `stepRandomness(seed, s)` (core/training/loop.ts) and the draws come from a
 * generator seeded by the run's seed, so an arm × seed is reproducible. The zone test is the σ gate of the profile
 * (core/market/zone.ts), the one the market's admission applies.
 *
 * @example
 *   const run = await runArm('filter', opts, trainer, filterGatherer(opts));
 */
import { meanStd, passesSigmaGate, sigmaFloor } from '../market/zone.ts';
import type { Qwen3Model } from '../model/forward.ts';
import { generateRollouts } from '../model/generate.ts';
import { completionText, stepRandomness } from '../training/loop.ts';
import type { Trainer } from '../training/trainer.ts';
import type { ArmOptions, GatheredGroup, StepGatherer } from './arm.ts';
import { seededRandom } from './stats.ts';

/** Generates and grades one group of training prompt `index` under `randomness`. */
export async function offlineGroup(model: Qwen3Model, o: ArmOptions, trainer: Trainer, index: number, randomness: string): Promise<GatheredGroup> {
  const problem = o.env.getProblem(index);
  const out = await generateRollouts(model, {
    prompt: o.tokenizer.encode(problem.prompt), profile: o.profile, rollouts: o.rollouts, maxNewTokens: o.maxNewTokens,
    eosTokenIds: o.tokenizer.eosTokenIds, stream: { randomness, promptIdx: index, checkpointHash: '' },
  });
  const rewards = out.map((r) => o.env.computeReward(problem, completionText(r, o.tokenizer)));
  const { std } = meanStd(rewards);
  return {
    promptIdx: index,
    rewards,
    tokens: out.reduce((a, r) => a + r.completionLength, 0),
    truncated: out.filter((r) => r.truncated).length,
    inZone: passesSigmaGate(std, sigmaFloor(o.profile, trainer.state.scheduleStep), o.profile.zone.sigmaEpsilon),
    rollouts: out.map((r, m) => ({ tokens: r.tokens, promptLen: r.promptLength, reward: rewards[m]!, logpOld: r.logprobs })),
  };
}

/** Distinct uniform draws from the training split; both arms draw the same sequence for a seed (filter goes further). */
function drawer(o: ArmOptions): (seen: Set<number>) => number {
  const rand = seededRandom(`draws|${o.seed}`);
  return (seen) => {
    for (;;) {
      const i = Math.floor(rand() * o.env.size);
      if (!seen.has(i)) return i;
    }
  };
}

/** Vanilla GRPO: B uniform prompts, trained on all of them. */
export function uniformGatherer(o: ArmOptions): StepGatherer {
  const draw = drawer(o);
  return async (s, model, trainer) => {
    const randomness = stepRandomness(o.seed, s);
    const seen = new Set<number>();
    const groups: GatheredGroup[] = [];
    for (let b = 0; b < o.groups; b++) {
      const i = draw(seen);
      seen.add(i);
      groups.push(await offlineGroup(model, o, trainer, i, randomness));
      o.onProgress?.({ step: s, steps: o.steps, phase: 'generate', detail: `groups ${b + 1}/${o.groups}` });
    }
    return { generated: groups, trained: groups };
  };
}

/** DAPO dynamic sampling: uniform draws until B in-zone groups (or the candidate cap). */
export function filterGatherer(o: ArmOptions): StepGatherer {
  const draw = drawer(o);
  const cap = o.maxCandidates ?? 16 * o.groups;
  return async (s, model, trainer) => {
    const randomness = stepRandomness(o.seed, s);
    const seen = new Set<number>();
    const generated: GatheredGroup[] = [];
    const kept: GatheredGroup[] = [];
    while (kept.length < o.groups && generated.length < cap) {
      const i = draw(seen);
      seen.add(i);
      const g = await offlineGroup(model, o, trainer, i, randomness);
      generated.push(g);
      if (g.inZone) kept.push(g);
      o.onProgress?.({ step: s, steps: o.steps, phase: 'generate', detail: `in zone ${kept.length}/${o.groups} of ${generated.length}` });
    }
    return { generated, trained: kept };
  };
}
