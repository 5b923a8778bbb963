/**
 * The difficulty auction of one environment (spec/market.md §3): rank the frozen pool, then prove top-down.
 *
 * Rank key, strictly ordered, smaller first:
 *  1. −value (exact float);
 *  2. −throughput bucket = −⌊min(Σ min(len, cap), M·cap) / (max(arrival − open, 1)·50)⌋ in integer maths,
 *     where `arrival` is the validator's drand round when the precommit arrived;
 *  3. arrival round;
 *  4. the exact precommit timestamp, only when the seal drand is missing (else 0 for everyone);
 *  5. sha256("reliquary/auction-final-tiebreak/v2\0" ‖ lp(seal_rand) ‖ lp(ckpt_rev) ‖ u64 window ‖ lp(env) ‖
 *     lp(operator) ‖ u64 prompt), 4-byte big-endian length prefixes over UTF-8. No hotkey or payload input.
 * Exact ties on all five need the same (operator, prompt), which admission forbids except for unmapped operators
 * (never proved); they fall back to hotkey then id so that the order never depends on the input order.
 *
 * `selectWinners` walks the ranked list top-down (see its doc); deferred proofs, debts, bounds and forensics.
 *
 * @example
 *   const ranked = rankCandidates(pool, { window, env, checkpointRevision, sealRandomness, openRound }, profile);
 *   const out = await selectWinners(ranked, prove, boundsFromProfile(profile), { debts: emptyDebts(), ... });
 */
import { concatBytes, hex, lp4, u64, utf8 } from '../protocol/codec.ts';
import { sha256 } from '../protocol/hash.ts';
import type { Profile } from '../profile/index.ts';

/** One group of a frozen pool, as the auction sees it (everything else about the submission is irrelevant). */
export interface AuctionCandidate {
  /** Unique within the pool (receipt id, merkle root…); bookkeeping only, never part of the order. */
  readonly id: string;
  readonly hotkey: string;
  /** The operator (coldkey) of the hotkey; null when unmapped. */
  readonly operator: string | null;
  readonly promptIdx: number;
  /** `prompt_content_sha256`, 64 lowercase hex. */
  readonly contentSha256: string;
  /** Robust zone value (§4). */
  readonly value: number;
  readonly mean: number;
  readonly sigma: number;
  /** Completion length of every rollout. */
  readonly completionLengths: readonly number[];
  /** The validator's drand round when the precommit arrived. */
  readonly arrivalRound: number;
  /** The validator's exact arrival timestamp of the precommit (seconds). */
  readonly precommitTs: number;
}

/** What the rank key binds besides the candidate. */
export interface RankContext {
  readonly window: number;
  readonly env: string;
  readonly checkpointRevision: string;
  /** Post-deadline seal drand randomness; `""` when it could not be fetched. */
  readonly sealRandomness: string;
  /** The drand round at which the window opened. */
  readonly openRound: number;
}

/** The auction constants the rank key needs. */
export type RankParams = Pick<Profile['auction'], 'throughputTokenCap' | 'bucketTokensPerRound' | 'tiebreakDomain'> & {
  readonly rolloutsPerGroup: number;
};

/** The strict sort key of §3 (smaller sorts first). */
export interface RankKey {
  readonly negValue: number;
  readonly negBucket: number;
  readonly arrivalRound: number;
  /** Precommit timestamp when the seal drand is missing, else 0. */
  readonly timestamp: number;
  /** The final tie-break digest, lowercase hex. */
  readonly tiebreak: string;
}

/** A candidate with its key and 0-based canonical rank. */
export interface RankedCandidate extends AuctionCandidate {
  readonly env: string;
  readonly rank: number;
  readonly key: RankKey;
}

/** The rank parameters of a profile. */
export function rankParams(profile: Pick<Profile, 'auction' | 'wire'>): RankParams {
  return { ...profile.auction, rolloutsPerGroup: profile.wire.rolloutsPerGroup };
}

/** ⌊a / b⌋ for non-negative safe integers, without float division. */
function floorDiv(a: number, b: number): number {
  return (a - (a % b)) / b;
}

/**
 * The throughput bucket ⌊min(Σ min(len, cap), M·cap) / (max(arrival − open, 1)·perRound)⌋, integer maths.
 * @example throughputBucket([100, 200], 10, 10, p) // ⌊300 / 50⌋ = 6
 */
export function throughputBucket(completionLengths: readonly number[], arrivalRound: number, openRound: number, p: RankParams): number {
  let tokens = 0;
  for (const len of completionLengths) {
    if (!Number.isSafeInteger(len) || len < 0) throw new RangeError(`completion length ${len} is not a non-negative integer`);
    tokens += Math.min(len, p.throughputTokenCap);
  }
  tokens = Math.min(tokens, p.rolloutsPerGroup * p.throughputTokenCap);
  if (!Number.isSafeInteger(arrivalRound) || !Number.isSafeInteger(openRound)) throw new RangeError('drand rounds must be integers');
  const elapsed = Math.max(arrivalRound - openRound, 1);
  return floorDiv(tokens, elapsed * p.bucketTokensPerRound);
}

/** The final tie-break digest (hex) of §3; strings are UTF-8, `lp` is a 4-byte big-endian length prefix. */
export function auctionTiebreak(
  ctx: Pick<RankContext, 'sealRandomness' | 'checkpointRevision' | 'window' | 'env'>,
  operator: string,
  promptIdx: number,
  domain = 'reliquary/auction-final-tiebreak/v2',
): string {
  const bytes = concatBytes(
    utf8(domain + '\0'),
    lp4(utf8(ctx.sealRandomness)),
    lp4(utf8(ctx.checkpointRevision)),
    u64(ctx.window),
    lp4(utf8(ctx.env)),
    lp4(utf8(operator)),
    u64(promptIdx),
  );
  return hex(sha256(bytes));
}

/** The rank key of one candidate. */
export function rankKey(c: AuctionCandidate, ctx: RankContext, p: RankParams): RankKey {
  if (!Number.isFinite(c.value)) throw new RangeError(`candidate ${c.id}: value ${c.value} is not finite`);
  return {
    negValue: -c.value,
    negBucket: -throughputBucket(c.completionLengths, c.arrivalRound, ctx.openRound, p),
    arrivalRound: c.arrivalRound,
    timestamp: ctx.sealRandomness === '' ? c.precommitTs : 0,
    tiebreak: auctionTiebreak(ctx, c.operator ?? '', c.promptIdx, p.tiebreakDomain),
  };
}

const cmp = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0);

/** Total order of two rank keys (negative: `a` ranks first). */
export function compareRankKeys(a: RankKey, b: RankKey): number {
  return (
    cmp(a.negValue, b.negValue) ||
    cmp(a.negBucket, b.negBucket) ||
    cmp(a.arrivalRound, b.arrivalRound) ||
    cmp(a.timestamp, b.timestamp) ||
    cmp(a.tiebreak, b.tiebreak)
  );
}

/** Ranks one environment's frozen pool; returns a new array in canonical order with 0-based ranks. */
export function rankCandidates(pool: readonly AuctionCandidate[], ctx: RankContext, p: RankParams): RankedCandidate[] {
  const keyed = pool.map((c) => ({ c, key: rankKey(c, ctx, p) }));
  keyed.sort((x, y) => compareRankKeys(x.key, y.key) || cmp(x.c.hotkey, y.c.hotkey) || cmp(x.c.id, y.c.id));
  return keyed.map(({ c, key }, rank) => ({ ...c, env: ctx.env, rank, key }));
}
