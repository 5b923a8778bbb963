/**
 * Fill-closed windows (core/market/fill.ts, issue 13): the window closes at exactly N valid, distinct, in-zone
 * groups; the paid N are the first N to pass their proof in the canonical fill order (signed drand round, then a
 * seal-randomness hash), whatever order the groups arrived in; groups beyond the N-th pass are not paid (select.ts may still
 * prove up to `forensicProofs` of them, recorded only).
 */
import { describe, expect, it } from 'vitest';
import type { PoolEntry } from '../../core/market/book.ts';
import { eligibleCount, fillOrder, isFillClosed } from '../../core/market/fill.ts';
import { sealWindow } from '../../core/market/seal.ts';
import * as w from '../../core/market/window.ts';
import { DEVNET, V4, type Profile } from '../../core/profile/index.ts';
import { hex, utf8 } from '../../core/protocol/codec.ts';
import { sha256 } from '../../core/protocol/hash.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { binary, cand, contentOf } from './helpers.ts';
import { ALICE, IN_ZONE, RANDOMNESS, T0, VALIDATOR, emptyMarket, makeValidator, mined, openWindow, submitBody } from './market-fixture.ts';

const P: Profile = { ...DEVNET, auction: { ...DEVNET.auction, winnersPerEnv: 4 } };
const SEAL = 'cd'.repeat(32);

function entry(promptIdx: number, round: number, hotkey = `hk${promptIdx}`): PoolEntry {
  const id = `arith-${promptIdx}-${hotkey}`;
  const c = cand({ id, promptIdx, k: 1 + (promptIdx % 7), hotkey, operator: `op-${hotkey}`, completionLengths: Array.from({ length: 16 }, () => 10), contentSha256: contentOf(promptIdx) });
  return {
    ...c, env: 'arith', receiptId: id, merkleRoot: hex(sha256(utf8(id))), rewards: binary(1 + (promptIdx % 7)),
    rolloutHashes: [hex(sha256(utf8(`rollout ${id}`)))], promptText: `p${promptIdx}`, groundTruth: '0', completionTexts: [],
    submission: { drand_round: round } as never, acceptedTs: 0, arrivalRound: 5000 - round, // the validator's arrival round is deliberately anti-correlated
  };
}

/** A seeded permutation (mulberry32). */
function shuffled<T>(xs: readonly T[], seed: number): T[] {
  let s = seed >>> 0;
  const r = (): number => ((s = (s + 0x6d2b79f5) >>> 0), (((s ^ (s >>> 15)) * (s | 1)) >>> 0) / 4294967296);
  const out = [...xs];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(r() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

const POOL = Array.from({ length: 10 }, (_, i) => entry(i, 1000 + (i % 3)));
const CTX = { window: 9, env: 'arith', checkpointRevision: '', sealRandomness: SEAL, openRound: 990 };

async function seal(pool: readonly PoolEntry[], bad: ReadonlySet<number> = new Set()) {
  const proved: number[] = [];
  const r = await sealWindow({
    profile: P, window: 9, randomness: RANDOMNESS, sealRandomness: SEAL, checkpointRevision: '', openRound: 990, pools: { arith: pool },
    prove: (e) => (proved.push(e.promptIdx), bad.has(e.promptIdx) ? { pass: false, reason: Reason.GRAIL_FAIL } : { pass: true }),
    state: emptyMarket(P), signer: VALIDATOR, rejectSummary: {},
  });
  return { r, proved, winners: r.outcomes[0]!.winners.map((x) => x.promptIdx) };
}

describe('fill-closed windows', () => {
  it('the devnet closes on fill; v4 keeps the deadline and its auction', () => {
    expect(isFillClosed(DEVNET)).toBe(true);
    expect(isFillClosed(V4)).toBe(false);
  });

  it('the fill order is the signed drand round, then the seal-randomness hash: arrival order and arrival round play no part', () => {
    const ref = fillOrder(POOL, CTX).map((c) => c.promptIdx);
    for (let s = 1; s <= 5; s++) expect(fillOrder(shuffled(POOL, s), CTX).map((c) => c.promptIdx)).toEqual(ref);
    const rounds = ref.map((i) => 1000 + (i % 3));
    expect(rounds).toEqual([...rounds].sort((a, b) => a - b));
    // another seal randomness reorders within a round, never across rounds
    const other = fillOrder(POOL, { ...CTX, sealRandomness: 'ef'.repeat(32) }).map((c) => c.promptIdx);
    expect(other).not.toEqual(ref);
    expect(other.map((i) => 1000 + (i % 3))).toEqual(rounds);
  });

  it('seals exactly N winners, the first N in fill order, proving in that order, for any arrival order', async () => {
    const order = fillOrder(POOL, CTX).map((c) => c.promptIdx);
    for (let s = 0; s < 4; s++) {
      const { r, proved, winners } = await seal(shuffled(POOL, 100 + s));
      expect(r.status).toBe('completed');
      expect(winners).toEqual(order.slice(0, 4));
      expect(proved.slice(0, 4)).toEqual(order.slice(0, 4)); // later proofs are select.ts's unpaid forensic picks
      const notNeeded = r.outcomes[0]!.records.filter((x) => x.status === 'not_needed').map((x) => x.candidate.promptIdx);
      expect(notNeeded.sort()).toEqual(order.slice(4).sort());
      const paid = Object.keys(r.payout!.rewardsByHotkey).filter((h) => (r.payout!.rewardsByHotkey[h] ?? 0) > 0);
      expect(paid.sort()).toEqual(order.slice(0, 4).map((i) => `hk${i}`).sort());
    }
  });

  it('a failed proof promotes the next group in fill order; the ones past the N-th pass are not paid', async () => {
    const order = fillOrder(POOL, CTX).map((c) => c.promptIdx);
    const { proved, winners } = await seal(shuffled(POOL, 7), new Set([order[1]!]));
    expect(proved.slice(0, 5)).toEqual(order.slice(0, 5));
    expect(winners).toEqual([order[0], order[2], order[3], order[4]]);
  });

  it('eligible groups are distinct prompts and contents, cooled ones excluded', () => {
    const dup = { ...POOL[0]!, id: 'dup', hotkey: 'other' };
    expect(eligibleCount([POOL[0]!, dup, POOL[1]!])).toBe(2);
    expect(eligibleCount(POOL, (i) => i < 3)).toBe(7);
  });

  it('the FSM seals on fill before the deadline, and the deadline stays the fallback', () => {
    const s = w.activate(w.initialWindow(5), { now: T0, openRound: 1000, randomness: RANDOMNESS });
    expect(w.sealDecision(s, T0 + 1, { pendingReceiptDeadlines: [T0 + 4], filled: true }, P.window)).toEqual({ action: 'seal', trigger: 'filled' });
    expect(w.sealDecision(s, T0 + 1, { pendingReceiptDeadlines: [], filled: false }, P.window)).toEqual({ action: 'collect' });
    expect(w.sealDecision(s, T0 + P.window.collectionSeconds, { pendingReceiptDeadlines: [] }, P.window)).toEqual({ action: 'seal', trigger: 'deadline' });
  });

  it('MarketValidator.sealPoll closes the window at exactly the N-th admitted distinct in-zone group', async () => {
    const v = openWindow(makeValidator({ profile: P }));
    const n = P.auction.winnersPerEnv;
    for (let i = 0; i < n; i++) {
      expect(v.sealPoll(T0 + 3), `after ${i} groups`).toEqual({ action: 'collect' });
      await submitBody(v, ALICE, mined(IN_ZONE[i]!).body);
    }
    expect(v.currentBook!.pool.get('arith')!.length).toBe(n);
    expect(v.sealPoll(T0 + 3)).toEqual({ action: 'seal', trigger: 'filled' });
  });
});
