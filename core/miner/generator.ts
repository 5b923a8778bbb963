/**
 * The miner's generation step as an injected function (`GenerateFn`), and its production implementation over a
 * Qwen3 model (`modelGenerator`, core/model/generate.ts). The loop (miner.ts) only sees `GenerateFn`, so tests can
 * script rollouts and a host can swap the model when a new checkpoint is published (the getter is read per call).
 *
 * @example
 *   let model = await loadModel(rev0);
 *   const generate = modelGenerator(() => model, profile);
 *   const miner = createMiner({ …, generate, onEvent: async (e) => { if (e.kind === 'checkpoint') model = await loadModel(e.revision); } });
 */
import type { Environment, Problem } from '../interfaces/environment.ts';
import type { Qwen3Model } from '../model/forward.ts';
import { generateRollouts, type GenerationProgress, type SeedStream } from '../model/generate.ts';
import type { Profile } from '../profile/index.ts';
import type { GeneratedRollout } from './submission.ts';

/** One group to generate: M rollouts of the canonical prompt under the window's forced-seed stream. */
export interface GenerateRequest {
  readonly env: Environment;
  readonly problem: Problem;
  /** Canonical prompt tokens (raw encoding of `problem.prompt`). */
  readonly prompt: readonly number[];
  readonly stream: SeedStream;
  /** M (the profile's rollouts per group). */
  readonly rollouts: number;
  readonly maxNewTokens: number;
  readonly eosTokenIds: readonly number[];
}

/** Generates one group; rollout m must use rollout_index m of the stream. */
export type GenerateFn = (request: GenerateRequest) => Promise<readonly GeneratedRollout[]>;

/** `GenerateFn` over `generateRollouts` on the model `model()` returns at call time. */
export function modelGenerator(
  model: () => Qwen3Model,
  profile: Pick<Profile, 'sampling' | 'forcedSeed' | 'grail' | 'proof'>,
  onProgress?: (p: GenerationProgress, request: GenerateRequest) => void,
): GenerateFn {
  return function generateWithModel(request: GenerateRequest) {
    return generateRollouts(model(), {
      prompt: request.prompt,
      profile,
      rollouts: request.rollouts,
      maxNewTokens: request.maxNewTokens,
      eosTokenIds: request.eosTokenIds,
      stream: request.stream,
      ...(onProgress ? { onProgress: (p: GenerationProgress) => onProgress(p, request) } : {}),
    });
  };
}
