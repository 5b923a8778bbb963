/**
 * Fill-closed windows (the seeds' window rule; upstream V1 closes the same way): "each window needs N rollout
 * groups; miners independently select a prompt, generate a group, and race to submit. The first N valid,
 * distinct submissions seal the window." Profile knob `window.close: 'fill'` (absent or `'deadline'`: the v4
 * difficulty auction of auction.ts, sealed on the deadline).
 *
 * When does it close? A seal poll finds the window *filled* once every environment of the mix holds at least
 * N = `auction.winnersPerEnv` admitted groups (admitted = valid and in zone, §2) with N distinct prompts and N
 * distinct contents none of which is cooling ({@link isFilled}). The deadline stays as the fallback (a window
 * that never fills seals on it, with a shortfall).
 *
 * Which N are paid? Not the N the validator happened to grade first: that order is validator-side latency (queue,
 * network, worker scheduling). The frozen pool is put in the **fill order** ({@link fillOrder}), smaller first:
 *  1. the drand round the miner *signed* into its precommit (`drand_round`): the miner's own claim of when the group
 *     was finished, bounded by admission's stale-round check, and identical for every validator that sees it;
 *  2. sha256("reliquary/fill-order/v1\0" ‖ lp(seal_rand) ‖ lp(ckpt_rev) ‖ u64 window ‖ lp(env) ‖ lp(operator) ‖
 *     u64 prompt): a tiebreak nobody can grind before the seal randomness exists (the same construction as the
 *     auction's final tiebreak, under its own domain);
 *  3. hotkey, then id (only for exact ties, which admission forbids among mapped operators).
 * Groups are then proven in that order (select.ts `selectWinners`, unchanged: one per prompt and content, cooldowns,
 * debts) until N pass; a failed proof promotes the next group; groups beyond the N-th pass are not paid (the
 * auction's unpaid forensic proofs, `forensicProofs`, may still check a few of them). The result depends only on the set of groups in the frozen pool, never on the order they arrived in.
 *
 * @example
 *   if (isFilled(book.pool, profile, cooling)) seal('filled');
 *   const ranked = fillOrder(pool, { window, env, checkpointRevision, sealRandomness, openRound });
 */
import type { Profile } from '../profile/index.ts';
import { auctionTiebreak, type RankContext, type RankedCandidate, type RankKey } from './auction.ts';
import type { PoolEntry } from './book.ts';

/** The fill-order tiebreak domain. */
export const FILL_ORDER_DOMAIN = 'reliquary/fill-order/v1';

/** Whether a profile closes its windows on fill (else on the deadline, with the v4 auction). */
export function isFillClosed(p: Pick<Profile, 'window'>): boolean {
  return p.window.close === 'fill';
}

/** N: the groups that close (and are paid in) one environment's window. */
export function fillTarget(p: Pick<Profile, 'auction'>): number {
  return p.auction.winnersPerEnv;
}

/** The signed drand round of a pool entry (its precommit's `drand_round`; the arrival round when absent). */
export function signedRound(e: Pick<PoolEntry, 'arrivalRound'> & { readonly submission?: { readonly drand_round?: number } }): number {
  const r = e.submission?.drand_round;
  return typeof r === 'number' && Number.isSafeInteger(r) ? r : e.arrivalRound;
}

/** The fill-order key of one entry, in the auction's key shape (value and bucket 0, the round in `arrivalRound`). */
export function fillKey(e: PoolEntry, ctx: Omit<RankContext, 'openRound'>): RankKey {
  return { negValue: 0, negBucket: 0, arrivalRound: signedRound(e), timestamp: 0, tiebreak: auctionTiebreak(ctx, e.operator ?? '', e.promptIdx, FILL_ORDER_DOMAIN) };
}

const cmp = (a: number | string, b: number | string): number => (a < b ? -1 : a > b ? 1 : 0);

/** One environment's frozen pool in fill order (see the header), with 0-based ranks; a new array. */
export function fillOrder(pool: readonly PoolEntry[], ctx: RankContext): RankedCandidate[] {
  const keyed = pool.map((c) => ({ c, key: fillKey(c, ctx) }));
  keyed.sort((x, y) => cmp(x.key.arrivalRound, y.key.arrivalRound) || cmp(x.key.tiebreak, y.key.tiebreak) || cmp(x.c.hotkey, y.c.hotkey) || cmp(x.c.id, y.c.id));
  return keyed.map(({ c, key }, rank) => ({ ...c, env: ctx.env, rank, key }));
}

/** Distinct eligible groups of one environment's pool: distinct prompts and contents, none cooling. */
export function eligibleCount(pool: readonly Pick<PoolEntry, 'promptIdx' | 'contentSha256'>[], cooling: (promptIdx: number, contentSha256: string) => boolean = () => false): number {
  const prompts = new Set<number>();
  const contents = new Set<string>();
  for (const e of pool) {
    if (cooling(e.promptIdx, e.contentSha256) || prompts.has(e.promptIdx) || contents.has(e.contentSha256)) continue;
    prompts.add(e.promptIdx);
    contents.add(e.contentSha256);
  }
  return prompts.size;
}

/** Every environment of `envs` holds N eligible groups: the window is filled. */
export function isFilled(
  pools: ReadonlyMap<string, readonly Pick<PoolEntry, 'promptIdx' | 'contentSha256'>[]>,
  envs: readonly string[],
  n: number,
  cooling?: (env: string, promptIdx: number, contentSha256: string) => boolean,
): boolean {
  return envs.length > 0 && envs.every((env) => eligibleCount(pools.get(env) ?? [], cooling ? (i, c) => cooling(env, i, c) : undefined) >= n);
}
