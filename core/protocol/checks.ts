/**
 * Proof checks at seal (spec/protocol.md §3–§5): pure functions over the validator's teacher-forced forward.
 *
 * The validator re-runs the model over each submitted rollout (`core/model/proof.ts`) and condenses the
 * forward into a `ProofForward` record; the miner's own claims (commitments, logprobs, force flags) travel
 * beside it as a `MinerClaim`. Each check returns `null` (pass) or a `Rejection` with the spec's reason and an
 * actionable message, and never throws, whatever the record holds. `verifyRollouts` runs them in §5 order per
 * rollout (GRAIL → EOS padding → termination and truncation budget → force span → logprob → distribution →
 * boxed → token auth → all-token auth), then the forced-seed gates over the group; the first failure wins.
 *
 * Indexing: L = tokens.length, P = promptLength, C = L − P. Per-position arrays are indexed by the completion
 * offset j ∈ [0, C): entry j describes token `tokens[P+j]` under logits row `P+j−1`. When P = 0, entry 0 has
 * no predicting row and every check skips it (upstream shifts its lists by one instead, §10.8).
 *
 * @example
 *   const verdict = verifyRollouts(group, { profile: V4, envName: 'openmathinstruct', randomness,
 *     decodeToken: (id) => tok.decode([id]), promptIdx, checkpointHash, checkpointPinned: true });
 *   if (verdict) console.log(verdict.reason, verdict.message);
 */
import { indicesFromRoot, indicesFromRootInRange } from './indices.ts';
import { reject, Reason, type ReasonCode, type Rejection } from './reasons.ts';
import { forcedSeedGate, median, quantile, tallyPositions, uAt, type PositionClass, type SeedTally } from './sampling.ts';
import { verifyRolloutsV2 } from './replay.ts';
import { checkSketches, type SketchCommitment } from './sketch.ts';
import type { EnvironmentProfile, Profile } from '../profile/index.ts';

/**
 * The validator's condensed teacher-forced forward over one rollout: the contract `core/model/proof.ts`
 * produces. Probabilities are fp32 values widened to float64; per-position arrays have length C (offset j).
 */
export interface ProofForward {
  /** The submitted tokens, prompt + completion (L of them). */
  readonly tokens: readonly number[];
  /** P: the prompt length the forward was aligned with (the miner's `prompt_length`). */
  readonly promptLength: number;
  /**
   * The validator's GRAIL sketch at absolute position i (§3), from its own bf16 hidden states. Needs at least
   * the challenged positions `indicesFromRoot(tokens, randomness, L, min(32, L))`; other entries may be holes.
   */
  readonly sketches: readonly (number | undefined)[];
  /** Proof v2: the v8 sketches the validator accepts at absolute position i (its own first; core/protocol/sketch-v8.ts). */
  readonly sketchCandidates?: readonly (readonly number[] | undefined)[];
  /** `softmax(fp32 logits[P+j−1] / T)[tok]` over the full vocabulary (no top-k/p). */
  readonly chosenProb: ArrayLike<number>;
  /** `log_softmax(raw fp32 logits[P+j−1])[tok]`, i.e. logit − logsumexp, without temperature. */
  readonly chosenLogprob: ArrayLike<number>;
  /** The largest probability of the same row as `chosenProb`, and its token id. */
  readonly argmaxProb: ArrayLike<number>;
  readonly argmaxId: ArrayLike<number>;
  /** The chosen token's interval of the token-id-order fp32 CDF of `warp(logits[P+j−1])`: `upper = cdf[tok]`, `lower = upper − p[tok]`. */
  readonly cdfLower: ArrayLike<number>;
  readonly cdfUpper: ArrayLike<number>;
  /** `max p` of the warped row (equals `argmaxProb` under v4: T = 1, no top-k/p). */
  readonly maxProb: ArrayLike<number>;
  /** p_stop = Σ_EOS softmax(raw fp32 logits[L−2]); null when L < 2 or the EOS set is empty. */
  readonly eosProb: number | null;
  /** `pick(warp(logits[L−2]), u_{L−1−P})`, the forced pick at the last position; null when not computed. */
  readonly terminalPickId: number | null;
}

/** What the miner claimed for the rollout (from `commit` and `commit.rollout`); nothing here is trusted. */
export interface MinerClaim {
  /** `commit.commitments`: one `{sketch}` per position. */
  readonly commitments: readonly SketchCommitment[];
  /** `rollout.token_logprobs`: completion-only (length C) or full-sequence (length L; prompt entries ignored). */
  readonly tokenLogprobs: readonly number[];
  /** `rollout.forced` (`force_span` is not read: v4 has no BFT, so any forced rollout is rejected). */
  readonly forced?: boolean;
}

/** One rollout under check: the validator's forward and the miner's claims. */
export type RolloutUnderCheck = { readonly proof: ProofForward; readonly claim: MinerClaim };

/** Everything the checks read besides the rollout. */
export interface CheckContext {
  /** Thresholds and constants: `checks`, `forcedSeed`, `grail`, `sampling.temperature`, `model.eosTokenIds`. */
  readonly profile: Profile;
  /** The group's environment (cap, truncation budget, boxed answers). */
  readonly envName: string;
  /** The validator's own window randomness (64 hex), never the miner's copy. */
  readonly randomness: string;
  /** Text of one token id, special tokens included (`decode([id], skip_special_tokens=False)`). */
  readonly decodeToken: (id: number) => string;
  /** The EOS set (union of generation_config, config, text_config and tokenizer ids); default `profile.model.eosTokenIds`. */
  readonly eosTokenIds?: readonly number[];
  /** Forced-seed stream inputs (§4). */
  readonly promptIdx: number | bigint;
  readonly checkpointHash: string;
  /** The gates are enforced only with a pinned checkpoint. */
  readonly checkpointPinned: boolean;
  /** The hotkey that signed the group; the v2 forced-seed stream binds it (`forcedSeed.bindHotkey`). Default "". */
  readonly hotkey?: string;
  /** Post-deadline seal randomness (64 hex, or "" when unavailable); the v2 sketch challenge is drawn from it. */
  readonly sealRandomness?: string;
  /** Override of `u_at(randomness, promptIdx, checkpointHash, rollout, j)` (tests, precomputed streams). */
  readonly uniform?: (rolloutIndex: number, j: number) => number;
}

/** Completion-offset view of a rollout with safe lengths; `j0` = first offset with a predicting row (1 when P = 0). */
type View = { readonly tokens: readonly number[]; readonly L: number; readonly P: number; readonly C: number; readonly j0: number };

function view(p: ProofForward): View | null {
  const tokens = p?.tokens;
  const P = p?.promptLength;
  if (!Array.isArray(tokens) || !Number.isSafeInteger(P) || P < 0 || P > tokens.length) return null;
  return { tokens, L: tokens.length, P, C: tokens.length - P, j0: P === 0 ? 1 : 0 };
}

/** `arr[j]` as a number, NaN when missing or not a number. */
const at = (arr: ArrayLike<number> | undefined | null, j: number): number => (typeof arr?.[j] === 'number' ? arr[j] : NaN);

function env(ctx: CheckContext): EnvironmentProfile | null {
  return Object.hasOwn(ctx.profile.environments, ctx.envName) ? ctx.profile.environments[ctx.envName]! : null;
}

const eosSet = (ctx: CheckContext): ReadonlySet<number> => new Set(ctx.eosTokenIds ?? ctx.profile.model.eosTokenIds);

/** Runs a check body; anything it throws becomes a rejection with the check's reason (never a crash). */
function guarded(reason: ReasonCode, path: string, body: () => Rejection | null): Rejection | null {
  try {
    return body();
  } catch (e) {
    return reject(reason, `malformed proof record (${e instanceof Error ? e.message : String(e)})`, path);
  }
}

/** `" where the model is 0.999 sure of token 42"`. */
const sureOf = (p: ProofForward, j: number): string => ` where the model is ${at(p.argmaxProb, j)} sure of token ${at(p.argmaxId, j)}`;

function malformed(reason: ReasonCode, path: string): Rejection {
  return reject(reason, 'malformed proof record: promptLength must be an integer in [0, tokens.length]', path);
}

/** §3: every challenged position's sketch within `floor(5000 + 5√i)` of the validator's, and ≥ min(32, L) checked → else GRAIL_FAIL. */
export function checkGrail(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  const g = ctx.profile.grail;
  return guarded(Reason.GRAIL_FAIL, `${path}.commit.commitments`, () => {
    const v = view(r.proof);
    if (!v || v.L === 0) return malformed(Reason.GRAIL_FAIL, `${path}.commit.commitments`);
    const expected = Math.min(g.challengeK, v.L);
    const positions = indicesFromRoot(v.tokens, ctx.randomness, v.L, expected, g);
    const mine: number[] = [];
    for (const i of positions) {
      const s = r.proof.sketches?.[i];
      if (typeof s !== 'number') return reject(Reason.GRAIL_FAIL, `validator record has no sketch at challenged position ${i}`, path);
      mine.push(s);
    }
    const commitments = Array.isArray(r.claim?.commitments) ? r.claim.commitments : [];
    const res = checkSketches(positions, mine, commitments, expected, g);
    if (res.ok) return null;
    const f = res.firstFailure;
    const detail = f
      ? `sketch at position ${f.position} is ${f.diff} from the validator's (tolerance ${f.tolerance}); ${res.passed}/${res.checked} passed`
      : `only ${res.checked} of ${expected} challenged positions have a commitment`;
    return reject(Reason.GRAIL_FAIL, detail, `${path}.commit.commitments`);
  });
}

/** §5: inside the completion, an EOS anywhere but last, or more than one EOS → BAD_TERMINATION. */
export function checkEosPadding(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  return guarded(Reason.BAD_TERMINATION, `${path}.tokens`, () => {
    const v = view(r.proof);
    if (!v) return malformed(Reason.BAD_TERMINATION, `${path}.tokens`);
    const eos = eosSet(ctx);
    const hits: number[] = [];
    for (let j = 0; j < v.C; j++) if (eos.has(v.tokens[v.P + j]!)) hits.push(j);
    if (hits.length === 0 || (hits.length === 1 && hits[0] === v.C - 1)) return null;
    return reject(Reason.BAD_TERMINATION, `EOS at completion offset ${hits[0]} of ${v.C} (${hits.length} EOS in total)`, `${path}.tokens`);
  });
}

/** The last token is an EOS and, with p_stop known (as upstream), `p_stop ≥ stopProbMin` or it is the forced pick (§4 terminal pick). */
function authenticatedEos(v: View, p: ProofForward, ctx: CheckContext): boolean {
  const last = v.tokens[v.L - 1];
  if (last === undefined || !eosSet(ctx).has(last) || typeof p.eosProb !== 'number') return false;
  return p.eosProb >= ctx.profile.checks.stopProbMin || p.terminalPickId === last;
}

/**
 * §5 termination: OK when `P+C ≥ cap` (the prompt counts against `max_new_tokens`, upstream quirk) or the
 * last token is an EOS with `p_stop ≥ 0.001` or a matching terminal pick; otherwise BAD_TERMINATION.
 * An empty completion is BAD_TERMINATION too. The truncation budget is `isCapTruncation` + `verifyRollouts`.
 */
export function checkTermination(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  return guarded(Reason.BAD_TERMINATION, `${path}.tokens`, () => {
    const v = view(r.proof);
    const e = env(ctx);
    if (!v) return malformed(Reason.BAD_TERMINATION, `${path}.tokens`);
    if (!e) return reject(Reason.BAD_TERMINATION, `unknown environment ${JSON.stringify(ctx.envName)}`, path);
    if (v.C <= 0) return reject(Reason.BAD_TERMINATION, 'empty completion', `${path}.tokens`);
    if (v.P + v.C >= e.maxNewTokens) return null;
    if (authenticatedEos(v, r.proof, ctx)) return null;
    const last = v.tokens[v.L - 1];
    const detail = !eosSet(ctx).has(last!)
      ? `last token ${last} is not an EOS and the rollout is below the cap (${v.P + v.C} < ${e.maxNewTokens})`
      : `EOS with p_stop ${r.proof.eosProb} < ${ctx.profile.checks.stopProbMin} and not the forced pick`;
    return reject(Reason.BAD_TERMINATION, detail, `${path}.tokens`);
  });
}

/** A rollout at the cap without an authenticated EOS: counted against the group's truncation budget. */
export function isCapTruncation(r: RolloutUnderCheck, ctx: CheckContext): boolean {
  try {
    const v = view(r.proof);
    const e = env(ctx);
    return !v || !e || v.L === 0 || (v.P + v.C >= e.maxNewTokens && !authenticatedEos(v, r.proof, ctx));
  } catch {
    return true;
  }
}

/** §5 force span: v4 has no BFT, so a rollout declaring `forced = true` is TOKEN_TAMPERED. */
export function checkForceSpan(r: RolloutUnderCheck, _ctx: CheckContext, path = 'rollout'): Rejection | null {
  if (r?.claim?.forced !== true) return null;
  return reject(Reason.TOKEN_TAMPERED, 'forced = true, but this profile has no budget-forced thinking (BFT) span', `${path}.commit.rollout.forced`);
}

/** Deviation `exp(|Δ|) − 1` (C ≥ K path) or `expm1(|Δ|)` with ∞ at |Δ| ≥ overflow (short path); ∞ for a non-finite claim or value. */
function deviation(validator: number, claimed: number, short: boolean, overflow: number): number {
  if (!Number.isFinite(claimed) || Number.isNaN(validator)) return Infinity;
  const d = Math.abs(validator - claimed);
  if (short) return d >= overflow ? Infinity : Math.expm1(d);
  return Math.exp(d) - 1;
}

/**
 * §5 logprobs. C ≥ K: the K positions `in_range(tokens, rand, P, P+C, K)`, `dev = exp(|Δ|)−1` against
 * `chosenLogprob`, median (`statistics.median`) > 0.10 → LOGPROB_MISMATCH. C < K: only when T == 1 and every
 * chosen_p > 0, `dev = expm1(|log chosen_p − claim|)` over all C positions, median ≤ 0.10; else LOGPROB_MISMATCH.
 */
export function checkLogprobs(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  const c = ctx.profile.checks;
  const field = `${path}.commit.rollout.token_logprobs`;
  return guarded(Reason.LOGPROB_MISMATCH, field, () => {
    const v = view(r.proof);
    if (!v) return malformed(Reason.LOGPROB_MISMATCH, field);
    const claims = Array.isArray(r.claim?.tokenLogprobs) ? r.claim.tokenLogprobs : [];
    const offset = claims.length === v.L ? 0 : claims.length === v.C ? v.P : -1;
    if (offset < 0) return reject(Reason.LOGPROB_MISMATCH, `${claims.length} logprobs, expected C = ${v.C} or L = ${v.L}`, field);
    const claimAt = (abs: number): number => at(claims, abs - offset);
    const devs: number[] = [];
    const K = c.logprobChallengeK;
    if (v.C >= K) {
      const idx = indicesFromRootInRange(v.tokens, ctx.randomness, v.P, v.P + v.C, K, ctx.profile.grail);
      if (idx.length !== K || idx.some((i) => i < 1)) {
        return reject(Reason.LOGPROB_MISMATCH, 'a challenged position has no predicting row (position 0)', field);
      }
      for (const i of idx) devs.push(deviation(at(r.proof.chosenLogprob, i - v.P), claimAt(i), false, c.logprobOverflow));
    } else {
      if (ctx.profile.sampling.temperature !== 1) {
        return reject(Reason.LOGPROB_MISMATCH, `completion of ${v.C} < ${K} tokens cannot be checked at T ≠ 1`, field);
      }
      for (let j = 0; j < v.C; j++) {
        const p = j < v.j0 ? NaN : at(r.proof.chosenProb, j);
        if (!(p > 0)) return reject(Reason.LOGPROB_MISMATCH, `short completion: chosen probability at offset ${j} is ${p}, not > 0`, field);
        devs.push(deviation(Math.log(p), claimAt(v.P + j), true, c.logprobOverflow));
      }
      if (devs.length === 0) return reject(Reason.LOGPROB_MISMATCH, 'empty completion', field);
    }
    const m = median(devs);
    if (m <= c.logprobMedianMax) return null;
    return reject(Reason.LOGPROB_MISMATCH, `median deviation ${m} > ${c.logprobMedianMax} over ${devs.length} positions`, field);
  });
}

/** The checked chosen-token probabilities: offsets j0..C−1 (exempt positions would be removed here; none under v4). */
function completionProbs(v: View, p: ProofForward): number[] {
  const out: number[] = [];
  for (let j = v.j0; j < v.C; j++) out.push(at(p.chosenProb, j));
  return out;
}

/**
 * §5 distribution (abstains unless C ≥ 30 and ≥ 30 probabilities): `median < 0.05` or numpy-linear
 * `q10 < 0.0002` → DISTRIBUTION_SUSPICIOUS. NaN makes a statistic NaN, which never rejects (numpy).
 */
export function checkDistribution(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  const c = ctx.profile.checks;
  return guarded(Reason.DISTRIBUTION_SUSPICIOUS, `${path}.tokens`, () => {
    const v = view(r.proof);
    if (!v) return malformed(Reason.DISTRIBUTION_SUSPICIOUS, `${path}.tokens`);
    if (v.C < c.distributionMinTokens) return null;
    const probs = completionProbs(v, r.proof);
    if (probs.length < c.distributionMinTokens) return null;
    const med = probs.some(Number.isNaN) ? NaN : median(probs);
    const q10 = quantile(probs, 0.1);
    if (med < c.distributionMedianMin) {
      return reject(Reason.DISTRIBUTION_SUSPICIOUS, `median chosen-token probability ${med} < ${c.distributionMedianMin}`, `${path}.tokens`);
    }
    if (q10 < c.distributionQ10Min) {
      return reject(Reason.DISTRIBUTION_SUSPICIOUS, `10th-percentile chosen-token probability ${q10} < ${c.distributionQ10Min}`, `${path}.tokens`);
    }
    return null;
  });
}

function safeDecode(ctx: CheckContext, id: number): string {
  try {
    const s = ctx.decodeToken(id);
    return typeof s === 'string' ? s : '';
  } catch {
    return '';
  }
}

/** Python `str.strip()` whitespace (`\x1c`–`\x1f` and `\x85` included, U+FEFF excluded, unlike JS `trim`). */
const PY_SPACE = '[\\t\\n\\v\\f\\r \\x1c-\\x1f\\x85\\xa0\\u1680\\u2000-\\u200a\\u2028\\u2029\\u202f\\u205f\\u3000]';
const PY_STRIP = new RegExp(`^${PY_SPACE}+|${PY_SPACE}+$`, 'gu');
/**
 * Python `str.isdigit()`: Numeric_Type Decimal (`\p{Nd}`) or Digit. JS has no Numeric_Type escape, so the
 * Digit code points are listed: superscripts/subscripts, circled and parenthesised digits, Ethiopic, etc.
 */
const PY_DIGITS =
  /^[\p{Nd}\u00b2\u00b3\u00b9\u1369-\u1371\u19da\u2070\u2074-\u2079\u2080-\u2089\u2460-\u2468\u2474-\u247c\u2488-\u2490\u24ea\u24f5-\u24fd\u24ff\u2776-\u277e\u2780-\u2788\u278a-\u2792\u{10a40}-\u{10a43}\u{10e60}-\u{10e68}\u{11052}-\u{1105a}\u{1f100}-\u{1f10a}]+$/u;
const SIGNS: ReadonlySet<string> = new Set(['-', '+', '.', '/', '\u2212']);

/** A digit token: its decoded text, stripped as Python does, is non-empty and `isdigit()` (`"7"`, `" 12"`; not `"3."`). */
export function isDigitText(text: string): boolean {
  return PY_DIGITS.test(text.replace(PY_STRIP, ''));
}

/** A sign token: its stripped text is exactly one of `- + . / −` (numeric only next to a digit token). */
export function isSignText(text: string): boolean {
  return SIGNS.has(text.replace(PY_STRIP, ''));
}

/**
 * §5 token authenticity, per position in order: p < 1e-8 → TOKEN_TAMPERED; a numeric token (digit token, or a
 * sign token whose completion neighbour is a digit token) with p < 1e-6 and argmax ≥ 0.99 → TOKEN_TAMPERED.
 */
export function checkTokenAuthenticity(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  const c = ctx.profile.checks;
  return guarded(Reason.TOKEN_TAMPERED, `${path}.tokens`, () => {
    const v = view(r.proof);
    if (!v) return malformed(Reason.TOKEN_TAMPERED, `${path}.tokens`);
    const memo = new Map<number, string>();
    const text = (j: number): string => {
      const id = v.tokens[v.P + j]!;
      let s = memo.get(id);
      if (s === undefined) memo.set(id, (s = safeDecode(ctx, id)));
      return s;
    };
    const digit = (j: number): boolean => j >= 0 && j < v.C && isDigitText(text(j));
    for (let j = v.j0; j < v.C; j++) {
      const p = at(r.proof.chosenProb, j);
      const amax = at(r.proof.argmaxProb, j);
      if (p < c.tokenProbMin) {
        return reject(Reason.TOKEN_TAMPERED, `token at completion offset ${j} has probability ${p} < ${c.tokenProbMin}`, `${path}.tokens`);
      }
      if (p < c.numericTokenProbMin && amax >= c.argmaxConfident && (digit(j) || (isSignText(text(j)) && (digit(j - 1) || digit(j + 1))))) {
        const detail = `numeric token ${JSON.stringify(text(j))} at completion offset ${j} has probability ${p} < ${c.numericTokenProbMin}`;
        return reject(Reason.TOKEN_TAMPERED, `${detail}${sureOf(r.proof, j)}`, `${path}.tokens`);
      }
    }
    return null;
  });
}

/** §5 all-token authenticity: any token with p < 1e-5 where the argmax is ≥ 0.99 → TOKEN_TAMPERED. */
export function checkAllTokenAuthenticity(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  const c = ctx.profile.checks;
  return guarded(Reason.TOKEN_TAMPERED, `${path}.tokens`, () => {
    const v = view(r.proof);
    if (!v) return malformed(Reason.TOKEN_TAMPERED, `${path}.tokens`);
    for (let j = v.j0; j < v.C; j++) {
      const p = at(r.proof.chosenProb, j);
      const amax = at(r.proof.argmaxProb, j);
      if (p < c.anyTokenProbMin && amax >= c.argmaxConfident) {
        const detail = `token at completion offset ${j} has probability ${p} < ${c.anyTokenProbMin}`;
        return reject(Reason.TOKEN_TAMPERED, `${detail}${sureOf(r.proof, j)}`, `${path}.tokens`);
      }
    }
    return null;
  });
}

/**
 * Completion offsets `[start, end]` (inclusive) of the tokens overlapping the content of the last closed
 * `\boxed{…}`/`\fbox{…}` of the concatenated per-token decodes, or null (upstream `_find_last_boxed_token_range`;
 * the box is found as `lastBoxedSpan` of env-math finds it): start = first token ending after the content
 * start, end = last token starting before the content end.
 */
export function boxedTokenRange(texts: readonly string[]): [number, number] | null {
  const offsets: [number, number][] = [];
  let all = '';
  for (const t of texts) offsets.push([all.length, (all += t).length]);
  const idx = Math.max(all.lastIndexOf('\\boxed{'), all.lastIndexOf('\\fbox{'));
  if (idx < 0) return null;
  const open = all.indexOf('{', idx);
  let depth = 0;
  let close = -1;
  for (let k = open; k < all.length && close < 0; k++) {
    if (all[k] === '{') depth++;
    else if (all[k] === '}' && --depth === 0) close = k;
  }
  if (close < 0) return null;
  let start = -1;
  let end = -1;
  offsets.forEach(([s, e], i) => {
    if (start < 0 && e > open + 1) start = i;
    if (s < close) end = i;
  });
  return start < 0 || end < 0 ? null : [start, end];
}

/** §5 boxed answer (environments with `answerFormat = "boxed"`): a token inside the last box with p < 0.001 and argmax ≥ 0.99 → BOXED_ANSWER_TAMPERED. */
export function checkBoxedAnswer(r: RolloutUnderCheck, ctx: CheckContext, path = 'rollout'): Rejection | null {
  const c = ctx.profile.checks;
  return guarded(Reason.BOXED_ANSWER_TAMPERED, `${path}.tokens`, () => {
    const v = view(r.proof);
    if (!v) return malformed(Reason.BOXED_ANSWER_TAMPERED, `${path}.tokens`);
    if (env(ctx)?.answerFormat !== 'boxed' || v.C <= 0) return null;
    const range = boxedTokenRange(v.tokens.slice(v.P).map((id) => safeDecode(ctx, id)));
    if (!range) return null;
    for (let j = Math.max(range[0], v.j0); j <= range[1]; j++) {
      const p = at(r.proof.chosenProb, j);
      const amax = at(r.proof.argmaxProb, j);
      if (p < c.boxedTokenProbMin && amax >= c.argmaxConfident) {
        const tok = JSON.stringify(safeDecode(ctx, v.tokens[v.P + j]!));
        const detail = `boxed-answer token ${tok} at completion offset ${j} has probability ${p} < ${c.boxedTokenProbMin}`;
        return reject(Reason.BOXED_ANSWER_TAMPERED, `${detail}${sureOf(r.proof, j)}`, `${path}.tokens`);
      }
    }
    return null;
  });
}

/**
 * Forced-seed tally of one rollout (§4): each completion position with a predicting row (absolute t > 0) is
 * exact iff `lower ≤ fp32(u_j) < upper`, stochastic iff `fp32(maxProb) < fp32(0.99)`, hard iff not exact and its miss
 * exceeds 0.002. Same classification as `classifyPosition`, from the compact interval.
 */
export function seedTally(r: RolloutUnderCheck, rolloutIndex: number, ctx: CheckContext): SeedTally {
  const fs = ctx.profile.forcedSeed;
  const v = view(r.proof);
  const classes: PositionClass[] = [];
  if (!v) return tallyPositions(classes);
  const u = ctx.uniform ?? ((ri: number, j: number) => uAt(ctx.randomness, ctx.promptIdx, ctx.checkpointHash, ri, j, fs, ctx.hotkey ?? ''));
  const hardMiss = Math.fround(fs.hardMissDistance);
  const stochMax = Math.fround(fs.stochasticMaxP);
  for (let j = v.j0; j < v.C; j++) {
    const lower = Math.fround(at(r.proof.cdfLower, j));
    const upper = Math.fround(at(r.proof.cdfUpper, j));
    const uf = Math.fround(u(rolloutIndex, j));
    const exact = uf >= lower && uf < upper;
    const miss = uf < lower ? Math.fround(lower - uf) : uf >= upper ? Math.fround(uf - upper) : 0;
    classes.push({ exact, stochastic: Math.fround(at(r.proof.maxProb, j)) < stochMax, miss, hard: !(exact || miss <= hardMiss), lower, upper });
  }
  return tallyPositions(classes);
}

/** §4 forced-seed gates over a group (rollout index = position in the group): SEED_MISMATCH, or null (pass or abstain). */
export function checkForcedSeed(group: readonly RolloutUnderCheck[], ctx: CheckContext): Rejection | null {
  return guarded(Reason.SEED_MISMATCH, 'rollouts', () => {
    const tallies = group.map((r, i) => seedTally(r, i, ctx));
    const verdict = forcedSeedGate(tallies, ctx.profile.forcedSeed, ctx.checkpointPinned);
    if (!verdict) return null;
    const fs = ctx.profile.forcedSeed;
    if (verdict.rule === 'rollout') {
      const t = tallies[verdict.rollout!]!;
      return reject(Reason.SEED_MISMATCH, `${t.nMatch}/${t.nStochastic} stochastic positions match the stream (< ${fs.rolloutMinMatchRatio})`, `rollouts[${verdict.rollout}]`);
    }
    if (verdict.rule === 'group') {
      const s = tallies.reduce((a, t) => a + t.nStochastic, 0);
      const m = tallies.reduce((a, t) => a + t.nMatch, 0);
      return reject(Reason.SEED_MISMATCH, `${m}/${s} stochastic positions of the group match the stream (< ${fs.groupMinMatchRatio})`, 'rollouts');
    }
    return reject(Reason.SEED_MISMATCH, `a token lies more than ${fs.hardMissDistance} from its forced CDF interval`, 'rollouts');
  });
}

/** The per-rollout checks after termination, in §5 order. */
const AFTER_TERMINATION = [checkForceSpan, checkLogprobs, checkDistribution, checkBoxedAnswer, checkTokenAuthenticity, checkAllTokenAuthenticity] as const;

/**
 * All proof checks of a group in §5 order; the first failure, or null. Per rollout: GRAIL, EOS padding,
 * termination (then the truncation budget: more than `maxTruncatedPerGroup` cap hits without an authenticated
 * EOS → BAD_TERMINATION), force span, logprob, distribution, boxed, token auth, all-token auth. Then the
 * forced-seed gates over every rollout. Under proof v2 (`profile.proof.scheme`) the group goes to `verifyRolloutsV2`
 * (core/protocol/replay.ts) instead: every token replayed, the v8 sketch.
 */
export function verifyRollouts(group: readonly RolloutUnderCheck[], ctx: CheckContext): Rejection | null {
  if (ctx.profile.proof.scheme === 'v2') return verifyRolloutsV2(group, ctx);
  if (!Array.isArray(group)) return reject(Reason.GRAIL_FAIL, 'malformed group: not an array', 'rollouts');
  const budget = env(ctx)?.maxTruncatedPerGroup ?? 0;
  let truncated = 0;
  for (let i = 0; i < group.length; i++) {
    const r = group[i]!;
    const path = `rollouts[${i}]`;
    const early = checkGrail(r, ctx, path) ?? checkEosPadding(r, ctx, path) ?? checkTermination(r, ctx, path);
    if (early) return early;
    if (isCapTruncation(r, ctx) && ++truncated > budget) {
      return reject(Reason.BAD_TERMINATION, `${truncated} rollouts hit the cap without an authenticated EOS (at most ${budget} per group)`, path);
    }
    for (const check of AFTER_TERMINATION) {
      const fail = check(r, ctx, path);
      if (fail) return fail;
    }
  }
  return checkForcedSeed(group, ctx);
}
