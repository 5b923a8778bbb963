/**
 * The validator's prover (spec/protocol.md §3–§5; design.md "what makes the work unfakeable"): one teacher-forced
 * forward of every rollout of a group under the checkpoint the window announced (`proofForwards`: batched, the same
 * bits as one `proofForward` each), then the pure checks of core/protocol/checks.ts (`verifyRollouts`). This is the
 * one place a group is proved: the validator node's seal, `bench drift`, `bench proof` and the adversarial tests all
 * call it.
 *
 * The forced-seed stream and the sketch are computed from what the *validator* knows (its window randomness, the
 * checkpoint it announced, the hotkey that signed the precommit, the post-deadline seal randomness), never from the
 * miner's copy of them, so a claim that names another checkpoint or randomness simply fails the replay.
 *
 * @example
 *   const prove = createProver({ model, profile: DEVNET, randomness, sealRandomness, checkpointHash, decodeToken });
 *   const r = await seal({ prove, ... }); // prove(entry) → { pass } | { pass: false, reason, detail }
 */
import type { PoolEntry } from '../market/book.ts';
import type { ProofResult } from '../market/select.ts';
import type { Qwen3Model } from '../model/forward.ts';
import { proofForwards } from '../model/proof.ts';
import type { Profile } from '../profile/index.ts';
import { verifyRollouts, type CheckContext, type RolloutUnderCheck } from '../protocol/checks.ts';
import type { SketchCommitment } from '../protocol/sketch.ts';
import { challengeV8 } from '../protocol/sketch-v8.ts';
import { reject, Reason, type Rejection } from '../protocol/reasons.ts';

/** One rollout as the prover reads it (from the wire's `rollouts[m]`). */
export interface ProverRollout {
  readonly tokens: readonly number[];
  readonly promptLength: number;
  readonly commitments: readonly SketchCommitment[];
  readonly tokenLogprobs: readonly number[];
  readonly forced?: boolean;
}

/** One group under proof: who signed it, for which prompt, and its rollouts in wire order (rollout index = position). */
export interface ProverGroup {
  readonly env: string;
  readonly promptIdx: number;
  readonly hotkey: string;
  readonly rollouts: readonly ProverRollout[];
}

/** What the validator knows about the window the group was generated in. */
export interface ProverContext {
  readonly model: Qwen3Model;
  readonly profile: Profile;
  /** The validator's window randomness (64 hex). */
  readonly randomness: string;
  /** The post-deadline seal randomness ("" when the seal beacon was unavailable). */
  readonly sealRandomness?: string;
  /** The checkpoint the window announced (its revision; the base checkpoint's before the first publish). */
  readonly checkpointHash: string;
  /** Text of one token id (token authenticity, boxed answers). */
  readonly decodeToken: (id: number) => string;
  /** EOS set; default `profile.model.eosTokenIds`. */
  readonly eosTokenIds?: readonly number[];
}

/** The check context of one group (the one place it is built). */
export function checkContextOf(g: Pick<ProverGroup, 'env' | 'promptIdx' | 'hotkey'>, c: Omit<ProverContext, 'model'>): CheckContext {
  return {
    profile: c.profile, envName: g.env, randomness: c.randomness, sealRandomness: c.sealRandomness ?? '', hotkey: g.hotkey,
    decodeToken: c.decodeToken, eosTokenIds: c.eosTokenIds ?? c.profile.model.eosTokenIds,
    promptIdx: g.promptIdx, checkpointHash: c.checkpointHash, checkpointPinned: true,
  };
}

/**
 * The validator's proof forwards of a group, paired with the miner's claims: the rollouts' hidden states as batches
 * (`proofForwards`: the same bits as one forward each). Throws only on token ids outside the vocabulary.
 */
export async function proofRecords(g: ProverGroup, c: ProverContext): Promise<RolloutUnderCheck[]> {
  const eos = c.eosTokenIds ?? c.profile.model.eosTokenIds;
  const proofs = await proofForwards(c.model, g.rollouts.map((r, m) => ({
    tokens: r.tokens,
    opts: {
      promptLength: r.promptLength, randomness: c.randomness, profile: c.profile, eosTokenIds: eos,
      // v2 sketches only the rows the seal randomness challenges (the replay reads nothing else of them)
      sketchPositions: c.profile.proof.scheme === 'v2' ? challengeV8(r.tokens, r.promptLength, c.sealRandomness ?? '', c.profile.proof.sketchChallengeK) : undefined,
      seed: { promptIdx: g.promptIdx, checkpointHash: c.checkpointHash, rolloutIndex: m, hotkey: g.hotkey },
    },
  })));
  return proofs.map((proof, m) => {
    const r = g.rollouts[m]!;
    return { proof, claim: { commitments: r.commitments, tokenLogprobs: r.tokenLogprobs, forced: r.forced } };
  });
}

/**
 * Proves one group: null when every check passes, else the first failure (reason code + actionable message).
 * `onForward` receives the proof forward's completion log-probs per rollout (the recomputed π_old), when it ran.
 */
export async function proveGroup(g: ProverGroup, c: ProverContext, onForward?: (piOld: readonly Float32Array[]) => void): Promise<Rejection | null> {
  let records: RolloutUnderCheck[];
  try {
    records = await proofRecords(g, c);
  } catch (e) {
    return reject(Reason.TOKEN_TAMPERED, `the proof forward refused the rollouts: ${e instanceof Error ? e.message : String(e)}`, 'rollouts');
  }
  onForward?.(records.map((r) => Float32Array.from(r.proof.chosenLogprob))); // the forward's fp32 values, exactly
  return verifyRollouts(records, checkContextOf(g, c));
}

/** A pool entry as a `ProverGroup`. */
export function groupOfEntry(entry: PoolEntry): ProverGroup {
  const sub = entry.submission;
  return {
    env: entry.env, promptIdx: sub.prompt_idx, hotkey: sub.miner_hotkey,
    rollouts: sub.rollouts.map((ro) => ({
      tokens: ro.tokens, promptLength: ro.commit.rollout.prompt_length, commitments: ro.commit.commitments,
      tokenLogprobs: ro.commit.rollout.token_logprobs, forced: ro.commit.rollout.forced,
    })),
  };
}

/** The seal's `prove` callback over a fixed window context; `onForward(id, π_old)` as in `proveGroup`. */
export function createProver(c: ProverContext, onForward?: (id: string, piOld: readonly Float32Array[]) => void): (entry: PoolEntry) => Promise<ProofResult> {
  return async function prove(entry: PoolEntry): Promise<ProofResult> {
    const bad = await proveGroup(groupOfEntry(entry), c, onForward && ((lp) => onForward(entry.id, lp)));
    return bad ? { pass: false, reason: bad.reason, detail: bad.message } : { pass: true };
  };
}
