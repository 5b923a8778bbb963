/**
 * Stages C–F (the admission worker, identity, start and commit; market §2 C–F, protocol §8 worker): one test per
 * reject reason, precedence where two gates compete, claims spent by rejected groups, and quota refunds.
 */
import { describe, expect, it } from 'vitest';
import { GraderOutage } from '../../core/market/admission-worker.ts';
import type { PoolEntry } from '../../core/market/book.ts';
import { recordRolloutHashes, rolloutHash } from '../../core/market/cooldown.ts';
import { DEVNET, type Profile } from '../../core/profile/index.ts';
import { Reason, reject } from '../../core/protocol/reasons.ts';
import { isMalformedFinalAnswer } from '../../plugins/env-math/grader.ts';
import { toyDecode, toyEncode } from '../../hosts/node/walkthrough/toy-lm.ts';
import {
  ALICE, ALL_WRONG, BOB, BOB2, CAROL, ENV, IN_ZONE, MALLORY, RANDOMNESS, T0, TWIN_ROLLOUTS, WINDOW,
  emptyMarket, precommitForBody, registry, lastReason, makeValidator, mined, openWindow, resign, submitBody, toyEnv, type Json,
} from './market-fixture.ts';

const P = IN_ZONE[0];
const honest = (by = ALICE, prompt: number = P) => mined(prompt, by).body;
const mutate = (body: string, by: typeof ALICE, f: (req: Json) => void): string => {
  const req = JSON.parse(body) as Json;
  f(req);
  return JSON.stringify(resign(req, by));
};
const setTokens = (ro: Json, toks: number[]) => {
  ro['tokens'] = toks;
  ro['commit']['tokens'] = toks;
  ro['commit']['commitments'] = toks.map(() => ({ sketch: 1 }));
  ro['commit']['rollout']['completion_length'] = toks.length - ro['commit']['rollout']['prompt_length'];
  ro['commit']['rollout']['token_logprobs'] = toks.map(() => -1);
};

async function verdictOf(body: string, by = ALICE, o: Parameters<typeof makeValidator>[0] = {}, over = {}) {
  const v = openWindow(makeValidator(o));
  await submitBody(v, by, body, over);
  return { v, reason: lastReason(v, by) };
}

describe('C. the worker, in order', () => {
  it('accepts an honest in-zone group into the pool', async () => {
    const { v, reason } = await verdictOf(honest());
    expect(reason).toBe(Reason.ACCEPTED);
    const entry = v.currentBook!.pool.get(ENV)![0]!;
    expect(entry).toMatchObject({ hotkey: ALICE.ss58, operator: 'cold-alice', promptIdx: P, arrivalRound: 1000 });
    expect(entry.value).toBeGreaterThan(0);
    expect(entry.contentSha256).toMatch(/^[0-9a-f]{64}$/);
  });

  it('15 rollouts → BAD_SCHEMA (before the routing check)', async () => {
    const body = mutate(honest(), ALICE, (r) => r['rollouts'].pop());
    expect((await verdictOf(body, ALICE, {}, { nonce: 'another-nonce' })).reason).toBe(Reason.BAD_SCHEMA);
  });

  it('a routing field ≠ the receipt → PRECOMMIT_INVALID (before the envelope signature)', async () => {
    const body = mutate(honest(), ALICE, (r) => (r['envelope_signature'] = ''));
    expect((await verdictOf(body, ALICE, {}, { nonce: 'another-nonce' })).reason).toBe(Reason.PRECOMMIT_INVALID);
  });

  it('a rollout of another env → PRECOMMIT_INVALID', async () => {
    const body = mutate(honest(), ALICE, (r) => (r['rollouts'][3]['env_name'] = 'other'));
    expect((await verdictOf(body)).reason).toBe(Reason.PRECOMMIT_INVALID);
  });

  it('an envelope signed by another key → BAD_ENVELOPE_SIGNATURE', async () => {
    const req = JSON.parse(honest()) as Json;
    const body = JSON.stringify({ ...req, envelope_signature: JSON.parse(mutate(honest(), BOB, () => {}))['envelope_signature'] });
    expect((await verdictOf(body)).reason).toBe(Reason.BAD_ENVELOPE_SIGNATURE);
  });

  it('commits bound to another randomness → WRONG_RANDOMNESS', async () => {
    expect((await verdictOf(mined(P, ALICE, { commitRandomness: 'ee'.repeat(32) }).body)).reason).toBe(Reason.WRONG_RANDOMNESS);
  });

  it('two identical rollouts in a group → HASH_DUPLICATE', async () => {
    const v4Rule = { profile: { ...DEVNET, admission: { ...DEVNET.admission, rejectDuplicateRolloutsInGroup: true } } };
    expect((await verdictOf(honest(ALICE, TWIN_ROLLOUTS), ALICE, v4Rule)).reason).toBe(Reason.HASH_DUPLICATE);
    // the devnet profile admits twins: exact short answers make identical correct rollouts the norm
    expect((await verdictOf(honest(ALICE, TWIN_ROLLOUTS))).reason).not.toBe(Reason.HASH_DUPLICATE);
  });

  it('two EOS in a completion → BAD_TERMINATION', async () => {
    const body = mutate(honest(), ALICE, (r) => {
      const ro = r['rollouts'][2];
      const t = ro['tokens'] as number[];
      setTokens(ro, [...t.slice(0, -1), 1, 5, 1]);
    });
    expect((await verdictOf(body)).reason).toBe(Reason.BAD_TERMINATION);
  });

  it("a prefix that is not the environment's canonical prompt → PROMPT_MISMATCH (before rewards)", async () => {
    const o = { envs: { [ENV]: toyEnv(1000, 1) } };
    expect((await verdictOf(mined(P, ALICE, { inflateRewards: true }).body, ALICE, o)).reason).toBe(Reason.PROMPT_MISMATCH);
  });

  it('an inflated reward claim → REWARD_MISMATCH (math-like envs compare within 1e-6)', async () => {
    expect((await verdictOf(mined(P, ALICE, { inflateRewards: true }).body)).reason).toBe(Reason.REWARD_MISMATCH);
  });

  it('claims within 1e-6 pass; fractional (code-like) envs overwrite the claim', async () => {
    const nudged = mutate(honest(), ALICE, (r) => (r['rollouts'][0]['reward'] += 5e-7));
    expect((await verdictOf(nudged)).reason).toBe(Reason.ACCEPTED);
    const code: Profile = { ...DEVNET, environments: { [ENV]: { ...DEVNET.environments[ENV]!, rewardKind: 'fraction' } } };
    const env = { ...toyEnv(), rewardCases: () => [1] };
    const { v, reason } = await verdictOf(mined(P, ALICE, { inflateRewards: true }).body, ALICE, { profile: code, envs: { [ENV]: env }, market: emptyMarket(code) });
    expect(reason).toBe(Reason.ACCEPTED);
    expect(v.currentBook!.pool.get(ENV)![0]!.rewards).toEqual(mined(P).rewards);
  });

  it('a grader exception is the candidate’s: REWARD_MISMATCH, quota kept, claim kept', async () => {
    const env = { ...toyEnv(), computeReward: () => { throw new Error('crash'); } }; // prettier-ignore
    const v = openWindow(makeValidator({ envs: { [ENV]: env } }));
    await submitBody(v, BOB, honest(BOB));
    expect(lastReason(v, BOB)).toBe(Reason.REWARD_MISMATCH);
    expect(v.currentBook!.quota.get(BOB.ss58)).toBe(1);
    await submitBody(v, BOB2, honest(BOB2));
    expect(lastReason(v, BOB2)).toBe(Reason.REWARD_MISMATCH); // C first; the claim check below shows it was kept
    expect(v.currentBook!.claimOf(ENV, 'cold-bob', P)).toBeDefined();
  });

  it('a grader outage → WORKER_DROPPED, the unit refunded and the claim cancelled', async () => {
    let down = true;
    const env = { ...toyEnv(), computeReward: (p: never, t: string) => { if (down) throw new GraderOutage('sandbox down'); return toyEnv().computeReward(p, t); } }; // prettier-ignore
    const v = openWindow(makeValidator({ envs: { [ENV]: env } }));
    await submitBody(v, BOB, honest(BOB));
    expect(lastReason(v, BOB)).toBe(Reason.WORKER_DROPPED);
    expect(v.currentBook!.quota.get(BOB.ss58)).toBe(0);
    expect(v.currentBook!.claimOf(ENV, 'cold-bob', P)).toBeUndefined();
    down = false;
    await submitBody(v, BOB2, honest(BOB2));
    expect(lastReason(v, BOB2)).toBe(Reason.ACCEPTED);
  });

  it('an asynchronous grader (computeRewardAsync) is awaited after authentication, never before', async () => {
    // the env-code shape: computeRewardAsync grades and remembers, computeReward answers from memory or is an outage
    const graded = new Map<string, number>();
    const asked: string[] = [];
    const base = toyEnv();
    const env = {
      ...base,
      computeRewardAsync: async (p: Parameters<typeof base.computeReward>[0], t: string) => {
        asked.push(t);
        await new Promise((r) => setTimeout(r, 1));
        graded.set(t, base.computeReward(p, t) as number);
        return graded.get(t)!;
      },
      computeReward: (_p: never, t: string) => { if (!graded.has(t)) throw new GraderOutage('not graded yet'); return graded.get(t)!; }, // prettier-ignore
    };
    const v = openWindow(makeValidator({ envs: { [ENV]: env } }));
    // a forged envelope signature: rejected, and the grader never saw it
    const forged = JSON.stringify({ ...(JSON.parse(honest(BOB)) as Json), envelope_signature: JSON.parse(mutate(honest(BOB), CAROL, () => {}))['envelope_signature'] });
    await submitBody(v, BOB, forged);
    expect(lastReason(v, BOB)).toBe(Reason.BAD_ENVELOPE_SIGNATURE);
    expect(asked).toEqual([]);
    // a prompt that does not bind: rejected, ungraded
    const unbound = mutate(honest(BOB2), BOB2, (r) => r['rollouts'].forEach((ro: Json) => setTokens(ro, [...ro['tokens']].map((t: number, j: number) => (j === 0 ? t + 1 : t)))));
    await submitBody(v, BOB2, unbound);
    expect(lastReason(v, BOB2)).toBe(Reason.PROMPT_MISMATCH);
    expect(asked).toEqual([]);
    // an honest group: every completion graded once, asynchronously, then accepted
    await submitBody(v, ALICE, honest());
    expect(lastReason(v, ALICE)).toBe(Reason.ACCEPTED);
    expect(asked).toHaveLength((JSON.parse(honest()) as Json)['rollouts'].length);
  });

  it('a validator fault while grading (the environment throws) → WORKER_DROPPED and a refund', async () => {
    const env = { ...toyEnv(), getProblem: () => { throw new Error('dataset unavailable'); } }; // prettier-ignore
    const v = openWindow(makeValidator({ envs: { [ENV]: env } }));
    await submitBody(v, ALICE, honest());
    expect(lastReason(v, ALICE)).toBe(Reason.WORKER_DROPPED);
    expect(v.currentBook!.quota.get(ALICE.ss58)).toBe(0);
  });

  it('all 16 wrong → OUT_OF_ZONE', async () => {
    expect((await verdictOf(honest(ALICE, ALL_WRONG))).reason).toBe(Reason.OUT_OF_ZONE);
  });

  it('a failing rollout ending in a malformed box → MALFORMED_FINAL_ANSWER (boxed envs)', async () => {
    const boxed: Profile = { ...DEVNET, environments: { [ENV]: { ...DEVNET.environments[ENV]!, answerFormat: 'boxed' } } };
    const tokenizer = { encode: toyEncode, decode: (ids: readonly number[]) => `\\boxed{${toyDecode(ids)}` };
    const env = { ...toyEnv(), computeReward: (p: { groundTruth: string }, t: string) => (t.replace('\\boxed{', '').startsWith(p.groundTruth[0]!) ? 1 : 0) };
    const o = { profile: boxed, envs: { [ENV]: env as never }, tokenizer, market: emptyMarket(boxed), malformedFinalAnswer: isMalformedFinalAnswer };
    expect((await verdictOf(honest(), ALICE, o)).reason).toBe(Reason.MALFORMED_FINAL_ANSWER);
    expect((await verdictOf(honest(), ALICE, { ...o, malformedFinalAnswer: () => false })).reason).toBe(Reason.ACCEPTED);
  });

  it('the near-clone detector → DISTRIBUTION_SUSPICIOUS', async () => {
    const distributionSuspicious = () => reject(Reason.DISTRIBUTION_SUSPICIOUS, 'three opposite-reward near-clone pairs');
    expect((await verdictOf(honest(), ALICE, { distributionSuspicious })).reason).toBe(Reason.DISTRIBUTION_SUSPICIOUS);
  });
});

describe('D. identity, E. start, F. commit', () => {
  it('a second hotkey of the same coldkey on the same prompt → HASH_DUPLICATE', async () => {
    const v = openWindow(makeValidator());
    await submitBody(v, BOB, honest(BOB));
    await submitBody(v, BOB2, honest(BOB2));
    await submitBody(v, CAROL, honest(CAROL));
    expect([lastReason(v, BOB), lastReason(v, BOB2), lastReason(v, CAROL)]).toEqual([Reason.ACCEPTED, Reason.HASH_DUPLICATE, Reason.ACCEPTED]);
  });

  it('a group rejected in C still spends the (operator, prompt) claim; C’s reason is reported', async () => {
    const v = openWindow(makeValidator());
    await submitBody(v, BOB, mined(P, BOB, { inflateRewards: true }).body);
    await submitBody(v, BOB2, honest(BOB2));
    expect([lastReason(v, BOB), lastReason(v, BOB2)]).toEqual([Reason.REWARD_MISMATCH, Reason.HASH_DUPLICATE]);
  });

  it('an unmapped operator (one hotkey, two coldkeys) → REGISTRATION_UNAVAILABLE', async () => {
    expect((await verdictOf(honest(MALLORY), MALLORY)).reason).toBe(Reason.REGISTRATION_UNAVAILABLE);
  });

  it('a rollout that won a recent window → HASH_DUPLICATE (before the claim)', async () => {
    const req = JSON.parse(honest()) as Json;
    let market = emptyMarket();
    market = { ...market, rolloutHashes: recordRolloutHashes(market.rolloutHashes, [rolloutHash(req['rollouts'][7]['tokens'])], WINDOW - 3) };
    expect((await verdictOf(honest(), ALICE, { market })).reason).toBe(Reason.HASH_DUPLICATE);
  });

  it('PROMPT_FULL is re-checked at identity (pool filled while the reveal was queued)', async () => {
    const v = openWindow(makeValidator());
    const fake = { env: ENV, promptIdx: P } as PoolEntry;
    const bytes = new TextEncoder().encode(honest());
    const pre = v.precommit(precommitForBody(ALICE, bytes), T0 + 1);
    if (!pre.ok) throw new Error('precommit');
    v.currentBook!.pool.set(ENV, Array.from({ length: 10 }, () => fake));
    v.submit({ receiptId: pre.receipt.receiptId, body: bytes, contentLength: bytes.length, arrivalTs: T0 + 2, completedTs: T0 + 2 });
    await v.idle();
    expect(lastReason(v, ALICE)).toBe(Reason.PROMPT_FULL);
  });

  it('E: gradings used up, or a hotkey with proof debt → BATCH_FILLED', async () => {
    const v = openWindow(makeValidator());
    v.currentBook!.gradingsStarted.set(ENV, DEVNET.quotas.gradingsPerEnv);
    await submitBody(v, ALICE, honest());
    expect(lastReason(v, ALICE)).toBe(Reason.BATCH_FILLED);
    const w = makeValidator();
    w.open({ now: T0, openRound: 1000, randomness: RANDOMNESS, registry: registry(), debts: { hotkey: new Map([[ALICE.ss58, 2]]), operator: new Map() } });
    await submitBody(w, ALICE, honest());
    expect(lastReason(w, ALICE)).toBe(Reason.BATCH_FILLED);
  });

  it('F: accepted groups land in the pool and /state counts them', async () => {
    const v = openWindow(makeValidator());
    await submitBody(v, ALICE, honest(ALICE, IN_ZONE[1]));
    await submitBody(v, CAROL, honest(CAROL, IN_ZONE[2]));
    const s = v.state();
    expect(s.ok && s.value.valid_submissions).toBe(2);
  });
});
