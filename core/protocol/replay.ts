/**
 * Proof v2: every completion token replayed (design.md "What makes the work unfakeable"; profile `proof.scheme = 'v2'`).
 *
 * Under v4 the forced-seed gates abstain below 30 stochastic positions, tolerate 20 % mismatches and skip confident
 * positions; the log-prob check is a median over a sample; the sketch tolerance spans its range. Measured on the
 * devnet, edited answers, a zero sketch, a wrong model and replayed tokens all got paid. Here, from the same
 * teacher-forced forward (core/model/proof.ts), per rollout in this order (first failure wins):
 *   1. GRAIL v8 (core/protocol/sketch-v8.ts) at the completion positions challenged by the seal randomness: the
 *      commitment must be one of the validator's candidate sketches of its own row → GRAIL_FAIL.
 *   2. EOS padding: an EOS anywhere but last → BAD_TERMINATION.
 *   3. Termination: no EOS last ⇒ the completion must be exactly the cap (`maxNewTokens` completion tokens, where the
 *      sampler stops; v4's "prompt counts against the cap" quirk is gone) and counts against the truncation budget.
 *      An EOS last needs no p_stop rule: it is replayed like every other token in 5.
 *   4. Force span: `forced = true` → TOKEN_TAMPERED (no BFT).
 *   5. Replay: at every completion offset j (row P+j−1; P ≥ 1), u_j = u_at(R, prompt, checkpoint, hotkey, m, j) must lie
 *      in the claimed token's CDF interval [lower, upper) of warp(logits), or within `cdfEpsilon` of it (backend drift
 *      can move a boundary across u; ε is calibrated). No minimum count, no mismatch allowance, no confident-position
 *      skip → SEED_MISMATCH, naming the offset and the pick.
 *   6. Log-probs: every claimed log-prob within `logprobMaxAbs` of the recomputed one (a maximum, not a median)
 *      → LOGPROB_MISMATCH.
 * v4's distribution and token-authenticity statistics are not run: a token that survives 5 is the forced pick, which
 * they could only reject by accident.
 *
 * @example
 *   const bad = verifyRolloutsV2(group, { profile: DEVNET, envName: 'arith', randomness, sealRandomness, hotkey,
 *     promptIdx, checkpointHash, checkpointPinned: true, decodeToken });
 */
import { reject, Reason, type Rejection } from './reasons.ts';
import { uAt } from './sampling.ts';
import { challengeV8 } from './sketch-v8.ts';
import type { CheckContext, RolloutUnderCheck } from './checks.ts';

/** `arr[j]` as a number, NaN when missing or not a number. */
const at = (arr: ArrayLike<number> | undefined | null, j: number): number => (typeof arr?.[j] === 'number' ? arr[j] : NaN);

/** Tokens, P and C of a rollout, or null when the record is malformed. */
function shape(r: RolloutUnderCheck): { tokens: readonly number[]; P: number; C: number } | null {
  const tokens = r?.proof?.tokens;
  const P = r?.proof?.promptLength;
  if (!Array.isArray(tokens) || !Number.isSafeInteger(P) || P < 1 || P > tokens.length) return null;
  return { tokens, P, C: tokens.length - P };
}

/** 1. GRAIL v8 at the seal-challenged completion positions. */
export function checkGrailV8(r: RolloutUnderCheck, ctx: CheckContext, path: string): Rejection | null {
  const s = shape(r);
  const field = `${path}.commit.commitments`;
  if (!s) return reject(Reason.GRAIL_FAIL, 'malformed proof record: prompt length must be in [1, tokens.length]', field);
  const commitments = Array.isArray(r.claim?.commitments) ? r.claim.commitments : [];
  const positions = challengeV8(s.tokens, s.P, ctx.sealRandomness ?? '', ctx.profile.proof.sketchChallengeK);
  for (const i of positions) {
    const cands = r.proof.sketchCandidates?.[i];
    if (!cands) return reject(Reason.GRAIL_FAIL, `validator record has no v8 sketch at challenged position ${i}`, path);
    const claimed = (commitments[i] as { sketch?: unknown } | undefined)?.sketch;
    if (typeof claimed !== 'number' || !cands.includes(claimed)) {
      const shown = typeof claimed === 'number' ? String(claimed) : 'missing';
      return reject(Reason.GRAIL_FAIL, `sketch at position ${i} is ${shown}, not the validator's ${cands[0]} (or one of its ${cands.length - 1} drift variants); ${positions.length} positions challenged`, field);
    }
  }
  return null;
}

/** 2–3. EOS only last; without EOS the completion is exactly the cap. Returns the rejection, or whether it is truncated. */
function termination(r: RolloutUnderCheck, ctx: CheckContext, path: string): Rejection | { truncated: boolean } {
  const s = shape(r)!;
  const field = `${path}.tokens`;
  const eos = new Set(ctx.eosTokenIds ?? ctx.profile.model.eosTokenIds);
  const env = Object.hasOwn(ctx.profile.environments, ctx.envName) ? ctx.profile.environments[ctx.envName]! : null;
  if (!env) return reject(Reason.BAD_TERMINATION, `unknown environment ${JSON.stringify(ctx.envName)}`, path);
  if (s.C < 1) return reject(Reason.BAD_TERMINATION, 'empty completion', field);
  for (let j = 0; j < s.C - 1; j++) {
    if (eos.has(s.tokens[s.P + j]!)) return reject(Reason.BAD_TERMINATION, `EOS at completion offset ${j} of ${s.C}: generation stops at the first EOS`, field);
  }
  if (eos.has(s.tokens[s.P + s.C - 1]!)) return { truncated: false };
  if (s.C !== env.maxNewTokens) {
    return reject(Reason.BAD_TERMINATION, `the completion has ${s.C} tokens and no EOS: a rollout ends at an EOS or at exactly ${env.maxNewTokens} tokens`, field);
  }
  return { truncated: true };
}

/** 5. Every completion token is the forced pick, up to ε at a CDF boundary. */
export function checkReplay(r: RolloutUnderCheck, rolloutIndex: number, ctx: CheckContext, path: string): Rejection | null {
  const s = shape(r)!;
  const eps = ctx.profile.proof.cdfEpsilon;
  const u = ctx.uniform ?? ((m: number, j: number) => uAt(ctx.randomness, ctx.promptIdx, ctx.checkpointHash, m, j, ctx.profile.forcedSeed, ctx.hotkey ?? ''));
  for (let j = 0; j < s.C; j++) {
    const lower = at(r.proof.cdfLower, j);
    const upper = at(r.proof.cdfUpper, j);
    const uf = Math.fround(u(rolloutIndex, j));
    if (uf >= lower && uf < upper) continue;
    const miss = uf < lower ? lower - uf : uf - upper;
    if (miss <= eps) continue; // within ε of a boundary: backend drift may move it across u
    const tok = s.tokens[s.P + j];
    const detail = Number.isNaN(miss)
      ? `no recomputed CDF interval for completion offset ${j}`
      : `token ${tok} at completion offset ${j} is not the forced pick: u = ${uf} lies ${miss.toExponential(3)} outside its CDF interval [${lower}, ${upper}) (ε = ${eps}); regenerate with the announced checkpoint, this window's randomness and your own hotkey`;
    return reject(Reason.SEED_MISMATCH, detail, `${path}.tokens`);
  }
  return null;
}

/** 6. Every claimed log-prob within `logprobMaxAbs` of the recomputed one. */
export function checkLogprobsMax(r: RolloutUnderCheck, ctx: CheckContext, path: string): Rejection | null {
  const s = shape(r)!;
  const field = `${path}.commit.rollout.token_logprobs`;
  const claims = Array.isArray(r.claim?.tokenLogprobs) ? r.claim.tokenLogprobs : [];
  const offset = claims.length === s.tokens.length ? s.P : claims.length === s.C ? 0 : -1;
  if (offset < 0) return reject(Reason.LOGPROB_MISMATCH, `${claims.length} logprobs, expected C = ${s.C} or L = ${s.tokens.length}`, field);
  const tol = ctx.profile.proof.logprobMaxAbs;
  for (let j = 0; j < s.C; j++) {
    const claim = claims[offset + j];
    const mine = at(r.proof.chosenLogprob, j);
    const d = typeof claim === 'number' && Number.isFinite(claim) ? Math.abs(claim - mine) : Infinity;
    if (!(d <= tol)) return reject(Reason.LOGPROB_MISMATCH, `log-prob at completion offset ${j} is ${claim}, recomputed ${mine} (|Δ| ${d} > ${tol})`, field);
  }
  return null;
}

/** All v2 checks of a group in the order of the file header; the first failure, or null. Never throws. */
export function verifyRolloutsV2(group: readonly RolloutUnderCheck[], ctx: CheckContext): Rejection | null {
  if (!Array.isArray(group) || group.length === 0) return reject(Reason.GRAIL_FAIL, 'malformed group: no rollouts', 'rollouts');
  const budget = Object.hasOwn(ctx.profile.environments, ctx.envName) ? ctx.profile.environments[ctx.envName]!.maxTruncatedPerGroup : 0;
  let truncated = 0;
  for (let m = 0; m < group.length; m++) {
    const r = group[m]!;
    const path = `rollouts[${m}]`;
    try {
      if (!shape(r)) return reject(Reason.BAD_TERMINATION, 'malformed proof record: prompt length must be in [1, tokens.length]', path);
      const grail = checkGrailV8(r, ctx, path);
      if (grail) return grail;
      const t = termination(r, ctx, path);
      if ('reason' in t) return t;
      if (t.truncated && ++truncated > budget) {
        return reject(Reason.BAD_TERMINATION, `${truncated} rollouts hit the cap without an EOS (at most ${budget} per group)`, path);
      }
      if (r.claim?.forced === true) return reject(Reason.TOKEN_TAMPERED, 'forced = true, but this profile has no budget-forced thinking (BFT) span', `${path}.commit.rollout.forced`);
      const bad = checkReplay(r, m, ctx, path) ?? checkLogprobsMax(r, ctx, path);
      if (bad) return bad;
    } catch (e) {
      return reject(Reason.SEED_MISMATCH, `malformed proof record (${e instanceof Error ? e.message : String(e)})`, path);
    }
  }
  return null;
}
