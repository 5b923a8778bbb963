/** Proof v2 replay (core/protocol/replay.ts): every token, ε at boundaries, max log-prob, termination, sketch, order. */
import { describe, expect, it } from 'vitest';
import { DEVNET, V4 } from '../../core/profile/index.ts';
import type { CheckContext, RolloutUnderCheck } from '../../core/protocol/checks.ts';
import { verifyRollouts } from '../../core/protocol/checks.ts';
import { Reason } from '../../core/protocol/reasons.ts';
import { uAt } from '../../core/protocol/sampling.ts';
import { verifyRolloutsV2 } from '../../core/protocol/replay.ts';

const R = '5f'.repeat(32);
const HOTKEY = '5GrwvaEF5zXb26Fz9rcQpDWS57CtERHpNQ6HHQFbR2hU6Pq4';
const EOS = DEVNET.model.eosTokenIds[0]!;
const CAP = DEVNET.environments['arith']!.maxNewTokens;
const EPS = DEVNET.proof.cdfEpsilon;
const ctx: CheckContext = {
  profile: DEVNET, envName: 'arith', randomness: R, sealRandomness: 'a1'.repeat(32), hotkey: HOTKEY,
  decodeToken: (id) => String(id), promptIdx: 7, checkpointHash: 'ab'.repeat(20), checkpointPinned: true,
};
const u = (m: number, j: number): number => Math.fround(uAt(R, 7, 'ab'.repeat(20), m, j, DEVNET.forcedSeed, HOTKEY));

/** A rollout whose every completion token is the forced pick: its interval is u ± 0.01; sketches candidates {100+i}. */
function honest(m: number, completion: number[] = [4, 5, EOS], P = 3): { proof: any; claim: any } { // eslint-disable-line @typescript-eslint/no-explicit-any
  const tokens = [9, 9, 9, ...completion].slice(3 - P);
  const C = completion.length;
  const js = Array.from({ length: C }, (_, j) => j);
  return {
    proof: {
      tokens, promptLength: P, sketches: tokens.map((_, i) => 100 + i), sketchCandidates: tokens.map((_, i) => [100 + i]),
      chosenProb: js.map(() => 0.5), chosenLogprob: js.map(() => -0.7), argmaxProb: js.map(() => 0.5), argmaxId: completion.slice(),
      cdfLower: js.map((j) => Math.fround(u(m, j) - 0.01)), cdfUpper: js.map((j) => Math.fround(u(m, j) + 0.01)),
      maxProb: js.map(() => 0.5), eosProb: 0.5, terminalPickId: EOS,
    },
    claim: { commitments: tokens.map((_, i) => ({ sketch: 100 + i })), tokenLogprobs: js.map(() => -0.7), forced: false },
  };
}
const group = (n = 4): ReturnType<typeof honest>[] => Array.from({ length: n }, (_, m) => honest(m));
const verdict = (g: readonly RolloutUnderCheck[], c: CheckContext = ctx): string => verifyRollouts(g, c)?.reason ?? 'accepted';

describe('proof v2 replay', () => {
  it('accepts a group whose every token is the forced pick, and verifyRollouts dispatches on the profile', () => {
    expect(verdict(group())).toBe('accepted');
    expect(verifyRolloutsV2(group(), ctx)).toBeNull();
  });

  it('rejects any one token outside its interval, at every position, with no minimum count or allowance', () => {
    for (let j = 0; j < 3; j++) {
      const g = group();
      g[2]!.proof.cdfLower[j] = Math.fround(u(2, j) + 10 * EPS);
      g[2]!.proof.cdfUpper[j] = Math.fround(u(2, j) + 0.5);
      const bad = verifyRollouts(g, ctx)!;
      expect(bad.reason).toBe(Reason.SEED_MISMATCH);
      expect(bad.message).toContain(`completion offset ${j}`);
      expect(bad.path).toBe('rollouts[2].tokens');
    }
  });

  it('accepts a token whose interval misses u by at most ε, and rejects one just beyond', () => {
    const within = group();
    within[0]!.proof.cdfLower[1] = Math.fround(u(0, 1) + EPS * 0.5);
    within[0]!.proof.cdfUpper[1] = 0.99;
    expect(verdict(within)).toBe('accepted');
    const beyond = group();
    beyond[0]!.proof.cdfUpper[1] = Math.fround(u(0, 1) - EPS * 2);
    beyond[0]!.proof.cdfLower[1] = 0;
    expect(verdict(beyond)).toBe(Reason.SEED_MISMATCH);
  });

  it('binds the hotkey, the checkpoint and the rollout index: another one moves every u', () => {
    expect(verdict(group(), { ...ctx, hotkey: '5FHneW46xGXgs5mUiveU4sbTyGBzmstUspZC92UhjJM694ty' })).toBe(Reason.SEED_MISMATCH);
    expect(verdict(group(), { ...ctx, checkpointHash: '' })).toBe(Reason.SEED_MISMATCH);
    const g = group();
    [g[0], g[1]] = [g[1]!, g[0]!];
    expect(verdict(g)).toBe(Reason.SEED_MISMATCH);
  });

  it('checks every claimed log-prob against its maximum deviation, not a median', () => {
    const g = group();
    g[3]!.claim.tokenLogprobs[2] = -0.7 + DEVNET.proof.logprobMaxAbs * 2;
    expect(verdict(g)).toBe(Reason.LOGPROB_MISMATCH);
    const nan = group();
    nan[1]!.claim.tokenLogprobs[0] = NaN;
    expect(verdict(nan)).toBe(Reason.LOGPROB_MISMATCH);
    const full = group(); // full-sequence claims (length L) are read at their completion entries
    full[0]!.claim.tokenLogprobs = [0, 0, 0, -0.7, -0.7, -0.7];
    expect(verdict(full)).toBe('accepted');
  });

  it('rejects a sketch that is not one of the validator’s candidates at a challenged position (GRAIL first)', () => {
    const g = group();
    g[1]!.claim.commitments[4] = { sketch: 0 };
    g[1]!.proof.cdfLower[0] = 0.999; // also a replay failure: GRAIL is checked first
    expect(verdict(g)).toBe(Reason.GRAIL_FAIL);
    const prompt = group(); // prompt positions are not challenged
    prompt[1]!.claim.commitments[0] = { sketch: 0 };
    expect(verdict(prompt)).toBe('accepted');
  });

  it('termination: EOS only last; without EOS exactly the cap, within the truncation budget', () => {
    expect(verdict([honest(0, [4, EOS, 5])])).toBe(Reason.BAD_TERMINATION);
    expect(verdict([honest(0, [4, 5, 6])])).toBe(Reason.BAD_TERMINATION);
    const capped = Array.from({ length: CAP }, () => 4);
    expect(verdict([honest(0, capped), honest(1)])).toBe('accepted');
    expect(verdict([honest(0, capped), honest(1, capped)])).toBe(Reason.BAD_TERMINATION); // budget 1 (arith)
  });

  it('rejects forced spans, an empty prompt and malformed records without throwing', () => {
    const forced = group();
    forced[0]!.claim.forced = true;
    expect(verdict(forced)).toBe(Reason.TOKEN_TAMPERED);
    expect(verdict([honest(0, [4, 5, EOS], 0)])).toBe(Reason.BAD_TERMINATION);
    expect(verdict([])).toBe(Reason.GRAIL_FAIL);
    expect(verdict([{ proof: null, claim: null } as never])).not.toBe('accepted');
  });

  it('leaves v4 on its own gates (byte-exact upstream behaviour)', () => {
    expect(V4.proof.scheme).toBe('v4');
    expect(uAt(R, 7, '', 0, 0, V4.forcedSeed, HOTKEY)).toBe(uAt(R, 7, '', 0, 0, V4.forcedSeed));
    expect(uAt(R, 7, '', 0, 0, DEVNET.forcedSeed, HOTKEY)).not.toBe(uAt(R, 7, '', 0, 0, DEVNET.forcedSeed));
  });
});
