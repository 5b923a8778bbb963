/**
 * Shared pieces of `reliquary bench proof` (issue 11): the groups a miner submits on the embedded tiny model
 * (models/tiny-arith) and env-arith's market split, the window each one is proved in, and the validator's path a
 * group goes through — the admission checks that matter to a forgery (prompt binding, reward recomputed with
 * env-arith's grader: core/market/admission-worker.ts `gradeCompletion`) then the one prover,
 * core/validator/prover.ts `proveGroup`, with the validator's own context (its window randomness, the checkpoint
 * it announced, the hotkey that signed, a seal randomness drawn after the group was made).
 *
 * Signatures are modelled as valid: every attack here is re-signed by the cheater with his own key, so no
 * signature check can see it (test/adversarial/proof-market.test.ts runs the real signed admission path).
 *
 * A group is `BenchGroup`: its prompt index, the hotkey that signs it and M rollouts with what the miner claims
 * (tokens, prompt length, one commitment per position, completion log-probs, reward).
 *
 * @example
 *   const w = benchWindow('honest', 0);
 *   const g = await honestGroup(model, marketPrompt(0), CHEATER_HOTKEY, w, DEVNET);
 *   const v = await judge({ model, profile: DEVNET, window: w }, g); // null = accepted
 */
import type { ComputeBackend } from '../../core/compute/backend.ts';
import { loadCheckpoint, type Checkpoint } from '../../core/model/checkpoint.ts';
import { parseQwen3Config, type Qwen3Config } from '../../core/model/config.ts';
import { Qwen3Model } from '../../core/model/forward.ts';
import { generateRollouts } from '../../core/model/generate.ts';
import { proofForward, sketchesOf } from '../../core/model/proof.ts';
import { uploadQwen3Weights, type HostTensor } from '../../core/model/weights.ts';
import { gradeCompletion } from '../../core/market/admission-worker.ts';
import { DEVNET, getProfile, type Profile } from '../../core/profile/index.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { reject, Reason, type Rejection } from '../../core/protocol/reasons.ts';
import { signerFromSeed } from '../../core/protocol/sr25519.ts';
import { DEVNET_CHAR_TOKENIZER } from '../../core/tokenizer/char.ts';
import { proveGroup, type ProverContext, type ProverGroup } from '../../core/validator/prover.ts';
import { nodeCheckpointFs } from '../../hosts/node/fs-checkpoint.ts';
import { createBackend, modelTensors } from '../../hosts/node/commands/model.ts';
import { envArith, type ArithEnvironment } from '../../plugins/env-arith/index.ts';

export const PROOF_BACKENDS = ['ref', 'wasm', 'webgpu'] as const;
export const TINY_MODEL_DIR = 'models/tiny-arith';
export const ENV_NAME = 'arith';

/** 64 hex derived from a label: the bench's window and seal randomness (fixed, so every table is reproducible). */
export function hexOf(label: string): string {
  return hex(sha256(utf8(`reliquary bench proof|${label}`)));
}

/** The revision the validator announces for the shipped weights, and for the checkpoint trained one step from them. */
export const CURRENT_REVISION = hexOf('revision tiny-arith').slice(0, 40);
export const NEXT_REVISION = hexOf('revision tiny-arith + 1 GRPO step').slice(0, 40);

const hotkeyOf = (name: string): string => signerFromSeed(sha256(utf8(`bench proof ${name}`))).ss58;
/** The honest miner's and the cheater's hotkeys (SS58). */
export const HONEST_HOTKEY = hotkeyOf('honest');
export const CHEATER_HOTKEY = hotkeyOf('cheater');

/** What the validator knows about the window a group is proved in. */
export interface BenchWindow {
  readonly randomness: string;
  readonly checkpointHash: string;
  /** Drawn after the group was made (post-deadline beacon). */
  readonly sealRandomness: string;
}

/** The window of group `i` of a row (distinct randomness per group, so every group is a fresh draw). */
export function benchWindow(row: string, i: number, checkpointHash = CURRENT_REVISION): BenchWindow {
  return { randomness: hexOf(`${row}|${i}|window`), checkpointHash, sealRandomness: hexOf(`${row}|${i}|seal`) };
}

/** One rollout as the miner claims it. */
export interface BenchRollout {
  readonly tokens: Int32Array;
  readonly promptLength: number;
  /** One sketch per position 0 … L−1. */
  readonly commitments: Int32Array;
  /** Completion log-probs (C). */
  readonly logprobs: Float32Array;
  readonly reward: number;
}

/** One group as the miner submits it: prompt index, signing hotkey, M rollouts (rollout index = position). */
export interface BenchGroup {
  readonly promptIdx: number;
  readonly hotkey: string;
  readonly rollouts: readonly BenchRollout[];
}

/** The arithmetic environment of the bench (env-arith defaults, the devnet's market split). */
export const ARITH: ArithEnvironment = envArith();

/** Canonical prompt tokens of market problem `promptIdx`. */
export function promptTokens(promptIdx: number, env: ArithEnvironment = ARITH): number[] {
  return DEVNET_CHAR_TOKENIZER.encode(env.getProblem(promptIdx).prompt);
}

/** Market prompt of group `i`: every level in turn, a different problem of the level each round. */
export function marketPrompt(i: number, levels: readonly number[] = [0, 1, 2, 3, 4, 5, 6, 7, 8], env: ArithEnvironment = ARITH): number {
  const band = env.size / 9;
  const level = levels[i % levels.length]!;
  return level * band + ((Math.floor(i / levels.length) * 37) % band);
}

/** env-arith's reward of a completion (the validator recomputes it the same way). */
export function rewardOf(promptIdx: number, tokens: ArrayLike<number>, promptLength: number, env: ArithEnvironment = ARITH): number {
  const text = DEVNET_CHAR_TOKENIZER.decode(Array.from(tokens).slice(promptLength));
  const g = gradeCompletion(env, env.getProblem(promptIdx), text);
  return g.ok ? g.reward : NaN;
}

export const decodeToken = (id: number): string => DEVNET_CHAR_TOKENIZER.decode([id]);

/**
 * The commitments a miner computes for `tokens` on `model` — the function generate.ts runs after decoding
 * (`sketchesOf`, every position). A cheater re-committing edited tokens calls it; test/bench/proof-setup.test.ts
 * asserts it reproduces `generateRollouts`' own commitments, so it follows generation if the sketch changes.
 */
export async function commitmentsFor(model: Qwen3Model, tokens: Int32Array, randomness: string, profile: Profile): Promise<Int32Array> {
  return sketchesOf(model, tokens, randomness, profile);
}

/** Honest M-rollout group of `promptIdx` on `model` for `hotkey` in window `w` (prompt text of `textOf`, default the same prompt). */
export async function honestGroup(
  model: Qwen3Model, promptIdx: number, hotkey: string, w: Pick<BenchWindow, 'randomness' | 'checkpointHash'>, profile: Profile,
  opts: { textOf?: number; rollouts?: number } = {},
): Promise<BenchGroup> {
  const rollouts = await generateRollouts(model, {
    prompt: promptTokens(opts.textOf ?? promptIdx), profile, rollouts: opts.rollouts ?? profile.sampling.rollouts,
    maxNewTokens: profile.environments[ENV_NAME]!.maxNewTokens, eosTokenIds: profile.model.eosTokenIds,
    stream: { randomness: w.randomness, promptIdx, checkpointHash: w.checkpointHash, hotkey },
  });
  return {
    promptIdx, hotkey,
    rollouts: rollouts.map((r) => ({
      tokens: r.tokens, promptLength: r.promptLength, commitments: r.commitments, logprobs: r.logprobs,
      reward: rewardOf(promptIdx, r.tokens, r.promptLength),
    })),
  };
}

/**
 * The strongest re-commitment of (possibly edited) tokens: log-probs and commitments honestly recomputed on
 * `model` under window `w` (what a cheater who owns the right model does after editing), reward recomputed.
 */
export async function recommit(model: Qwen3Model, promptIdx: number, tokens: Int32Array, promptLength: number, w: Pick<BenchWindow, 'randomness'>, profile: Profile): Promise<BenchRollout> {
  const pf = await proofForward(model, tokens, { promptLength, randomness: w.randomness, profile, eosTokenIds: profile.model.eosTokenIds });
  return {
    tokens, promptLength, logprobs: Float32Array.from(pf.chosenLogprob),
    commitments: await commitmentsFor(model, tokens, w.randomness, profile), reward: rewardOf(promptIdx, tokens, promptLength),
  };
}

/** The group as the prover reads it (the wire's rollouts). */
export function proverGroup(g: BenchGroup): ProverGroup {
  return {
    env: ENV_NAME, promptIdx: g.promptIdx, hotkey: g.hotkey,
    rollouts: g.rollouts.map((r) => ({
      tokens: Array.from(r.tokens), promptLength: r.promptLength,
      commitments: Array.from(r.commitments, (sketch) => ({ sketch })), tokenLogprobs: Array.from(r.logprobs),
    })),
  };
}

/** The validator's context for one window on `model`. */
export function proverContext(model: Qwen3Model, profile: Profile, w: BenchWindow): ProverContext {
  return { model, profile, randomness: w.randomness, sealRandomness: w.sealRandomness, checkpointHash: w.checkpointHash, decodeToken };
}

/**
 * The admission checks a forgery has to pass before it can be proved (core/market/admission-worker.ts stage C):
 * prompt binding `tokens[:P] == encode(prompt)` (PROMPT_MISMATCH) and the binary reward recomputed and compared
 * within `checks.rewardTolerance` (REWARD_MISMATCH). Signatures are taken as valid (see the file header).
 */
export function admit(g: BenchGroup, profile: Profile, env: ArithEnvironment = ARITH): Rejection | null {
  const canonical = promptTokens(g.promptIdx, env);
  for (const [i, r] of g.rollouts.entries()) {
    if (r.promptLength !== canonical.length || canonical.some((t, j) => r.tokens[j] !== t)) {
      return reject(Reason.PROMPT_MISMATCH, `rollout ${i}: the prompt is not the canonical encoding of prompt ${g.promptIdx}`, `rollouts[${i}].tokens`);
    }
  }
  for (const [i, r] of g.rollouts.entries()) {
    const reward = rewardOf(g.promptIdx, r.tokens, r.promptLength, env);
    if (!(Math.abs(reward - r.reward) <= profile.checks.rewardTolerance)) return reject(Reason.REWARD_MISMATCH, `rollout ${i}: claimed ${r.reward}, recomputed ${reward}`);
  }
  return null;
}

/** The validator's verdict: admission, then `proveGroup`. Null = accepted. */
export async function judge(c: { model: Qwen3Model; profile: Profile; window: BenchWindow }, g: BenchGroup): Promise<Rejection | null> {
  return admit(g, c.profile) ?? proveGroup(proverGroup(g), proverContext(c.model, c.profile, c.window));
}

/** Same tokens in every rollout, in order. */
export function sameTokens(a: BenchGroup, b: BenchGroup): boolean {
  return a.rollouts.length === b.rollouts.length && a.rollouts.every((r, m) => {
    const o = b.rollouts[m]!;
    return r.tokens.length === o.tokens.length && r.tokens.every((t, i) => t === o.tokens[i]);
  });
}

/** The shipped checkpoint, its config and its tensors. */
export interface TinyCheckpoint {
  readonly ckpt: Checkpoint;
  readonly cfg: Qwen3Config;
  readonly tensors: Map<string, HostTensor>;
}

export async function loadTiny(dir: string = TINY_MODEL_DIR): Promise<TinyCheckpoint> {
  const ckpt = await loadCheckpoint(nodeCheckpointFs(), dir);
  return { ckpt, cfg: parseQwen3Config(ckpt.config), tensors: modelTensors(ckpt.tensors) };
}

/** A model of `tensors` on `be`. */
export function modelOn(be: ComputeBackend, cfg: Qwen3Config, tensors: ReadonlyMap<string, HostTensor>): Qwen3Model {
  return new Qwen3Model(be, cfg, uploadQwen3Weights(be, cfg, tensors));
}

/** Backends by name; one that cannot start (no WebGPU adapter) is left out with the reason. */
export async function openBackends(names: readonly string[]): Promise<{ backends: Map<string, ComputeBackend>; missing: Map<string, string> }> {
  const backends = new Map<string, ComputeBackend>();
  const missing = new Map<string, string>();
  for (const name of names) {
    try {
      backends.set(name, await createBackend(name));
    } catch (e) {
      missing.set(name, e instanceof Error ? e.message : String(e));
    }
  }
  return { backends, missing };
}

/**
 * The profile the bench runs: a profile of the tiny model as is; a production profile (another model) lends its
 * proof (`proof`, `forcedSeed`, `grail`, `checks`) to the devnet's model, sampling and market, so `--profile
 * qwen3-4b-base-reliquary-v4` shows what the v4 gates accept on the same groups.
 */
export function benchProfile(id: string = DEVNET.id): { profile: Profile; note: string | null } {
  const p = getProfile(id);
  if (p.model.id === DEVNET.model.id) return { profile: p, note: null };
  const profile: Profile = { ...DEVNET, id: `${DEVNET.id}+proof-of-${p.id}`, proof: p.proof, forcedSeed: p.forcedSeed, grail: p.grail, checks: p.checks };
  return { profile, note: `${p.id} is not a tiny-model profile: its proof (proof, forcedSeed, grail, checks) runs on ${DEVNET.id}'s model and market` };
}
