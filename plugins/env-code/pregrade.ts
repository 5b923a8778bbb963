/**
 * `pregradeReveals(parse, deps)`: grades a reveal's code completions before the market's synchronous admission
 * worker asks for their rewards. It wraps the `parseReveal` seam of `MarketValidator` (core/protocol/
 * reveal-body.ts): after the body parsed, every rollout of an environment with `computeRewardAsync` is decoded
 * exactly as the worker decodes it (`tokens[prompt_length:]`, the problem of `prompt_idx`) and graded, so that
 * the environment's `computeReward` answers from memory when the worker calls it. Nothing here judges the
 * reveal: malformed shapes are skipped (the worker rejects them), a grading failure is left for the worker to
 * report as WORKER_DROPPED. Cost note: grading runs before the signatures are checked, bounded by the receipt
 * (gate A authenticated the precommit) and by the sandbox's per-job budget; a core seam that awaits
 * `computeRewardAsync` inside the worker after authentication would remove that (see the issue-15 report).
 *
 * @example
 *   const parseReveal = pregradeReveals(pool.parse, { envs: { opencodeinstruct: env }, tokenizer });
 *   new MarketValidator({ ...options, parseReveal });
 */
import type { Environment } from '../../core/interfaces/environment.ts';
import type { RevealParser } from '../../core/protocol/reveal-body.ts';

export interface PregradeDeps {
  readonly envs: Readonly<Record<string, Environment>>;
  readonly tokenizer: { decode(ids: readonly number[]): string };
  /** Rollouts graded per reveal at most (the profile's M; more is a schema error the worker reports). */
  readonly maxRollouts?: number;
}

const isObj = (v: unknown): v is Record<string, unknown> => v !== null && typeof v === 'object' && !Array.isArray(v);
const isTokenList = (v: unknown): v is number[] => Array.isArray(v) && v.every((t) => Number.isSafeInteger(t) && t >= 0);

/** The reveal parser that also pregrades code completions (see the module comment). */
export function pregradeReveals(parse: RevealParser, deps: PregradeDeps): RevealParser {
  return async function parseAndPregrade(body) {
    const json = await parse(body);
    if (json.ok) await pregrade(json.value, deps).catch(() => undefined);
    return json;
  };
}

async function pregrade(value: unknown, deps: PregradeDeps): Promise<void> {
  if (!isObj(value) || !Array.isArray(value.rollouts)) return;
  const idx = value.prompt_idx;
  if (!Number.isSafeInteger(idx) || (idx as number) < 0) return;
  const jobs: Promise<number>[] = [];
  for (const ro of value.rollouts.slice(0, deps.maxRollouts ?? 64)) {
    if (!isObj(ro) || typeof ro.env_name !== 'string') continue;
    const env = Object.hasOwn(deps.envs, ro.env_name) ? deps.envs[ro.env_name] : undefined;
    if (!env?.computeRewardAsync) continue;
    const meta = isObj(ro.commit) && isObj(ro.commit.rollout) ? ro.commit.rollout : null;
    const P = meta?.prompt_length;
    if (!isTokenList(ro.tokens) || !Number.isSafeInteger(P) || (P as number) < 0 || (P as number) > ro.tokens.length) continue;
    const text = deps.tokenizer.decode(ro.tokens.slice(P as number));
    jobs.push(env.computeRewardAsync(env.getProblem(idx as number), text));
  }
  await Promise.allSettled(jobs);
}
